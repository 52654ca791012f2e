"""Viber callbacks -> Inbound, signatures, and replies through /pa/send_message.

Fixtures under tests/fixtures/viber are callbacks shaped as the REST Bot API documents them
(and as Viber actually sends them: `chat_hostname`, `silent`, sender `api_version`...).
Send tests run against the loopback fake of the Bot API (`providers` fixture).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import secrets
from chalicelib.channels import viber
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.providers import ProviderError
from chalicelib.signing import hmac_hex

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "viber"
RECEIVED = datetime(2024, 6, 4, 7, 41, 9, tzinfo=UTC)
OLENA = "pttm25kSGUo1919sBORWyA=="
ANDRII = "3bMg9wqQkRS7YE4UJ0hN4g=="
IGNORED = ["webhook", "conversation_started", "subscribed", "unsubscribed", "delivered", "seen", "failed"]
MESSAGES = sorted(p.stem for p in FIXTURES.glob("message_*.json"))


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(body: bytes) -> list[Inbound]:
    return viber.parse(body, {}, RECEIVED)


def parse_json(payload: object) -> list[Inbound]:
    return parse(json.dumps(payload).encode())


def only(name: str) -> Inbound:
    [message] = parse(raw(name))
    return message


def signed(body: bytes) -> dict[str, str]:
    return {
        "x-viber-content-signature": hmac_hex(secrets.get("viber_auth_token"), body),
        "content-type": "application/json",
    }


# --------------------------------------------------------------------------- fixtures parse


def test_text_message_in_ukrainian():
    message = only("message_text_uk")

    assert message == Inbound(
        channel="viber",
        provider_id="5977181264593813501",
        received_at=RECEIVED,
        address=OLENA,
        thread_key=OLENA,
        name="Олена Коваленко",
        language="uk",
        body="Добрий день! Замовлення №4812 досі не доставлене, хоча обіцяли до вівторка.",
    )


def test_picture_with_caption_keeps_the_caption_and_references_the_media():
    message = only("message_picture_text")

    assert message.body == "[picture]\nОсь так виглядала коробка"
    [picture] = message.attachments
    assert picture.name == "IMG_20240604_103512.jpg"
    assert picture.content_type == "image/jpeg"
    assert picture.size == 183322
    assert picture.provider_file_id.startswith("https://dl-media.viber.com/5/media/2/short/any/sig/image/0x0/")
    assert message.provider_id == "5977181532207845122" and message.address == OLENA


def test_png_picture_keeps_its_type():
    payload = json.loads(raw("message_picture_text"))
    payload["message"]["file_name"] = "screenshot.png"

    assert parse_json(payload)[0].attachments[0].content_type == "image/png"


def test_file_names_the_file_and_guesses_its_type():
    message = only("message_file")

    assert message.body == "[file report.pdf]"
    assert message.attachments == (
        Attachment(
            name="report.pdf",
            content_type="application/pdf",
            size=248731,
            provider_file_id=json.loads(raw("message_file"))["message"]["media"],
        ),
    )
    assert (message.name, message.language, message.address) == ("Andrii Melnyk", "en", ANDRII)


def test_location_gives_coordinates_to_five_decimals():
    message = only("message_location")

    assert message.body == "[location 50.45010, 30.52340]"
    assert message.attachments == ()


def test_sticker_is_described_and_not_fetched():
    message = only("message_sticker")

    assert message.body == "[sticker]"
    assert message.attachments == ()  # Viber's picture, not a file of the customer's


def test_contact_shows_name_and_phone():
    message = only("message_contact")

    assert message.body == "[contact Олена Коваленко +380671234567]"
    assert message.phone is None  # a shared contact is someone else's number, not the sender's
    assert message.attachments == ()


def test_video_shows_duration_and_references_the_media():
    message = only("message_video")

    assert message.body == "[video 0:42]"
    [video] = message.attachments
    assert (video.name, video.content_type, video.size) == ("video.mp4", "video/mp4", 5832210)
    assert video.provider_file_id.startswith("https://dl-media.viber.com/")


def test_url_message_shows_the_link():
    assert only("message_url").body == "[url https://shop.example.com/orders/4812]"


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_fixture_is_one_inbound_from_its_sender(name):
    payload = json.loads(raw(name))
    [message] = parse(raw(name))

    assert message.channel == "viber"
    assert message.provider_id == str(payload["message_token"])
    assert message.address == message.thread_key == payload["sender"]["id"]
    assert message.received_at == RECEIVED
    assert message.body.strip()
    for attachment in message.attachments:  # recorded, never downloaded
        assert attachment.provider_file_id


@pytest.mark.parametrize("event", IGNORED)
def test_non_message_events_are_acknowledged_and_store_nothing(event):
    assert json.loads(raw(event))["event"] == event
    assert parse(raw(event)) == []


def test_unknown_future_events_are_acknowledged_too():
    assert parse_json({"event": "client_status", "timestamp": 1717486869213}) == []


def test_ok_response_is_an_empty_200_body():
    body, content_type = viber.ok_response()

    assert body == ""  # a JSON body on conversation_started would be taken for a welcome message
    assert content_type.startswith("text/plain")


def test_sender_without_language_or_name():
    payload = json.loads(raw("message_text_uk"))
    del payload["sender"]["language"]
    del payload["sender"]["name"]

    [message] = parse_json(payload)

    assert message.language is None and message.name == ""


@pytest.mark.parametrize("language", ["", "ukrainian language", "<script>", 7, None])
def test_odd_language_values_become_none(language):
    payload = json.loads(raw("message_text_uk"))
    payload["sender"]["language"] = language

    assert parse_json(payload)[0].language is None


def test_string_message_token_is_the_same_delivery_as_the_number():
    payload = json.loads(raw("message_text_uk"))
    payload["message_token"] = str(payload["message_token"])

    assert parse_json(payload)[0].provider_id == "5977181264593813501"


@pytest.mark.parametrize(
    "message, body",
    [
        ({"type": "picture", "media": "https://x/1.jpg"}, "[picture]"),
        ({"type": "text"}, "[empty message]"),
        ({"type": "text", "text": 42}, "[empty message]"),
        ({"type": "file", "media": "https://x/f"}, "[file file]"),
        ({"type": "location", "location": {"lat": "50", "lon": 30}}, "[location]"),
        ({"type": "location", "location": {"lat": 91.0, "lon": 30.0}}, "[location]"),
        ({"type": "location"}, "[location]"),
        ({"type": "contact", "contact": {"phone_number": "+380501112233"}}, "[contact +380501112233]"),
        ({"type": "contact"}, "[contact]"),
        ({"type": "sticker"}, "[sticker]"),
        ({"type": "rich_media", "text": "hi"}, "[rich_media]\nhi"),
        ({"type": "TEXT", "text": "  upper-case type  "}, "upper-case type"),
        ({"type": "text", "text": "bad \ud800 surrogate\x00"}, "bad \ufffd surrogate"),
    ],
)
def test_media_without_details_degrades_to_a_description(message, body):
    payload = json.loads(raw("message_text_uk"))
    payload["message"] = message

    assert parse_json(payload)[0].body == body


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "body, why",
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "not valid JSON"),
        (b'{"event": "message"', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"[]", "must be a JSON object, not an array"),
        (b'"message"', "must be a JSON object, not a string"),
        (b"null", "must be a JSON object, not null"),
        (b"{}", "no 'event' string"),
        (b'{"event": 1}', "no 'event' string"),
        (b'{"event": ""}', "no 'event' string"),
    ],
)
def test_bodies_that_are_not_callbacks_are_bad_requests(body, why):
    with pytest.raises(BadRequest) as error:
        parse(body)
    assert why in error.value.message


def _without(path: str):
    def change(payload: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            payload = payload[key]
        del payload[last]

    return change


def _set(path: str, value: object):
    def change(payload: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            payload = payload[key]
        payload[last] = value

    return change


@pytest.mark.parametrize(
    "change, field, why",
    [
        (_without("message_token"), "message_token", "needs 'message_token'"),
        (_set("message_token", None), "message_token", "needs 'message_token'"),
        (_set("message_token", 1.5), "message_token", "needs 'message_token'"),
        (_set("message_token", True), "message_token", "needs 'message_token'"),
        (_set("message_token", -1), "message_token", "needs 'message_token'"),
        (_set("message_token", 2**64), "message_token", "needs 'message_token'"),
        (_set("message_token", "abc"), "message_token", "needs 'message_token'"),
        (_set("message_token", ""), "message_token", "needs 'message_token'"),
        (_without("sender"), "sender", "no 'sender' object"),
        (_set("sender", "pttm25kSGUo1919sBORWyA=="), "sender", "no 'sender' object"),
        (_without("sender.id"), "sender.id", "needs 'sender.id'"),
        (_set("sender.id", 12345), "sender.id", "needs 'sender.id'"),
        (_set("sender.id", "   "), "sender.id", "needs 'sender.id'"),
        (_set("sender.id", "x" * 257), "sender.id", "at most 256"),
        (_set("sender.id", "a\nb"), "sender.id", "printable"),
        (_set("sender.id", "\ud800"), "sender.id", "printable"),
        (_without("message"), "message", "no 'message' object"),
        (_set("message", "hello"), "message", "no 'message' object"),
        (_without("message.type"), "message.type", "message.type must be"),
        (_set("message.type", ["text"]), "message.type", "message.type must be"),
    ],
)
def test_message_callback_without_what_intake_needs_is_a_bad_request(change, field, why):
    payload = json.loads(raw("message_text_uk"))
    change(payload)

    with pytest.raises(BadRequest) as error:
        parse_json(payload)
    assert why in error.value.message
    assert error.value.field == field


# --------------------------------------------------------------------------- verify


def test_correct_signature_is_accepted():
    body = raw("message_text_uk")

    viber.verify(body, signed(body), "https://desk.example.com/webhooks/viber")


def test_upper_case_hex_signature_is_accepted():
    body = raw("webhook")
    headers = {"x-viber-content-signature": signed(body)["x-viber-content-signature"].upper()}

    viber.verify(body, headers, "https://desk.example.com/webhooks/viber")


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "missing X-Viber-Content-Signature"),
        ({"x-viber-content-signature": ""}, "missing X-Viber-Content-Signature"),
        ({"x-viber-content-signature": "0" * 64}, "does not match"),
        ({"x-viber-content-signature": "sha256=" + "0" * 64}, "does not match"),
        ({"x-viber-content-signature": "ünïcödé"}, "does not match"),
        ({"x-hub-signature-256": "whatever"}, "missing X-Viber-Content-Signature"),
    ],
)
def test_missing_or_wrong_signature_is_refused(headers, why):
    with pytest.raises(Unauthorized) as error:
        viber.verify(raw("message_text_uk"), headers, "https://desk.example.com/webhooks/viber")
    assert why in error.value.message


def test_signature_of_another_body_is_refused():
    body = raw("message_text_uk")
    other = body.replace(b"4812", b"4813")

    with pytest.raises(Unauthorized):
        viber.verify(body, signed(other), "https://desk.example.com/webhooks/viber")


def test_signature_with_another_token_is_refused():
    body = raw("message_text_uk")
    headers = {"x-viber-content-signature": hmac_hex("another-bot-token", body)}

    with pytest.raises(Unauthorized):
        viber.verify(body, headers, "https://desk.example.com/webhooks/viber")


# --------------------------------------------------------------------------- send


def outgoing(text: str = "Дякуємо! Ваш запит PR-7K2M9QXA отримано.") -> Outgoing:
    return Outgoing(channel="viber", address=OLENA, text=text, job_id="job-1", ticket_id="PR-7K2M9QXA", language="uk")


def test_send_posts_the_documented_json_and_returns_the_token(providers):
    token = viber.send(outgoing())

    [sent] = providers.messages("viber")
    assert sent["path"] == "/pa/send_message"
    assert sent["payload"] == {
        "receiver": OLENA,
        "min_api_version": 1,
        "sender": {"name": "Promptly Support"},
        "type": "text",
        "text": "Дякуємо! Ваш запит PR-7K2M9QXA отримано.",
    }
    assert sent["headers"]["X-Viber-Auth-Token"] == secrets.get("viber_auth_token")
    assert sent["headers"]["Content-Type"] == "application/json"
    assert token == str(sent["response"]["message_token"])


def test_sender_name_is_cut_to_28_characters(providers, monkeypatch, tmp_path):
    from chalicelib.config import settings as desk_settings

    source = (Path(__file__).resolve().parent.parent / "fixtures" / "desk-24x7.toml").read_text()
    desk_file = tmp_path / "desk.toml"
    desk_file.write_text(
        source.replace('name = "Round the Clock Desk"', 'name = "Round the Clock Customer Care Desk"', 1)
    )
    monkeypatch.setenv("PROMPTLY_CONFIG", str(desk_file))
    desk_settings.cache_clear()
    try:
        viber.send(outgoing())
    finally:
        desk_settings.cache_clear()

    assert providers.messages("viber")[0]["payload"]["sender"]["name"] == "Round the Clock Customer Car"


def test_http_500_is_retryable(providers):
    providers.fail("/pa/send_message", status=500, times=2)

    for _ in range(2):
        with pytest.raises(ProviderError) as error:
            viber.send(outgoing())
        assert error.value.retryable and error.value.status == 500
    assert viber.send(outgoing())  # the third try gets through
    assert len(providers.messages("viber")) == 1


def test_http_429_is_retryable_after_the_providers_wait(providers):
    providers.fail("/pa/send_message", status=429, retry_after=7)

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert error.value.retryable and error.value.retry_after == 7


def test_http_401_is_permanent(providers):
    providers.fail("/pa/send_message", status=401)

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert not error.value.retryable


def answer(providers, monkeypatch, body: dict) -> None:
    """Make the fake answer HTTP 200 with `body` (Viber reports most failures this way)."""
    monkeypatch.setattr(providers, "_answer", lambda path, payload: (200, body))


@pytest.mark.parametrize(
    "status, name",
    [
        (6, "receiverNotSubscribed"),
        (5, "receiverNotRegistered"),
        (3, "badData"),
        (2, "invalidAuthToken"),
        (7, "publicAccountBlocked"),
    ],
)
def test_200_with_a_permanent_status_is_not_retryable(providers, monkeypatch, status, name):
    answer(providers, monkeypatch, {"status": status, "status_message": name, "chat_hostname": "SN-CHAT-05_"})

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert not error.value.retryable
    assert f"status {status} {name}" in str(error.value)
    assert secrets.get("viber_auth_token") not in str(error.value)


@pytest.mark.parametrize(
    "status, message",
    [
        (12, "tooManyRequests"),
        (99, "failure"),  # undocumented: Viber's general (internal) error
    ],
)
def test_200_with_rate_limit_or_internal_error_is_retryable(providers, monkeypatch, status, message):
    answer(providers, monkeypatch, {"status": status, "status_message": message})

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert error.value.retryable
    assert message in str(error.value)


def test_200_without_a_status_is_retryable(providers, monkeypatch):
    answer(providers, monkeypatch, {"unexpected": True})

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert error.value.retryable


def test_accepted_without_a_token_is_not_retried(providers, monkeypatch):
    answer(providers, monkeypatch, {"status": 0, "status_message": "ok"})

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert not error.value.retryable  # it was probably delivered: a retry would send it twice


def test_unreachable_provider_is_retryable(monkeypatch):
    monkeypatch.setenv("PROMPTLY_VIBER_API", "http://127.0.0.1:9")  # discard port: refused

    with pytest.raises(ProviderError) as error:
        viber.send(outgoing())
    assert error.value.retryable


def test_set_webhook_posts_the_documented_json(providers):
    viber.set_webhook("https://desk.example.com/webhooks/viber")

    [sent] = providers.messages("viber")
    assert sent["path"] == "/pa/set_webhook"
    assert sent["payload"] == {
        "url": "https://desk.example.com/webhooks/viber",
        "event_types": ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"],
        "send_name": True,
        "send_photo": False,
    }
    assert sent["headers"]["X-Viber-Auth-Token"] == secrets.get("viber_auth_token")


def test_set_webhook_refused_raises(providers, monkeypatch):
    answer(providers, monkeypatch, {"status": 1, "status_message": "invalidUrl"})

    with pytest.raises(ProviderError) as error:
        viber.set_webhook("http://not-https.example.com")
    assert not error.value.retryable and "invalidUrl" in str(error.value)


def test_set_webhook_http_failure_raises(providers):
    providers.fail("/pa/set_webhook", status=503)

    with pytest.raises(ProviderError) as error:
        viber.set_webhook("https://desk.example.com/webhooks/viber")
    assert error.value.retryable


# --------------------------------------------------------------------------- any input


def parses_or_refuses(body: bytes) -> None:
    """The whole contract for hostile input: a list of Inbound, or BadRequest. Nothing else."""
    try:
        result = parse(body)
    except BadRequest as error:
        assert error.message
        return
    assert isinstance(result, list) and len(result) <= 1
    for message in result:
        assert isinstance(message, Inbound)
        assert message.address and message.provider_id
        message.body.encode("utf-8")  # storable
        message.name.encode("utf-8")
        json.dumps([message.body, message.name, message.language, [a.name for a in message.attachments]])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "event",
        "message_token",
        "sender",
        "id",
        "name",
        "language",
        "message",
        "type",
        "text",
        "media",
        "location",
        "lat",
        "lon",
        "contact",
        "phone_number",
        "file_name",
        "size",
        "file_size",
        "sticker_id",
        "duration",
        "user",
        "user_id",
    ]
)
TYPES = st.sampled_from(["text", "picture", "video", "file", "sticker", "contact", "url", "location", "rich_media", ""])
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(body):
    parses_or_refuses(body)


@FAST
@given(JSON)
def test_arbitrary_json_values(value):
    parses_or_refuses(json.dumps(value).encode())


@FAST
@given(
    st.fixed_dictionaries(
        {"event": st.just("message")},
        optional={
            "message_token": JSON | st.integers(min_value=0, max_value=2**64),
            "sender": st.dictionaries(KEYS, JSON, max_size=4) | JSON,
            "message": st.fixed_dictionaries(
                {"type": TYPES | JSON},
                optional={
                    "text": JSON,
                    "media": JSON,
                    "location": st.dictionaries(KEYS, JSON) | JSON,
                    "contact": st.dictionaries(KEYS, JSON) | JSON,
                    "file_name": JSON,
                    "size": JSON,
                    "sticker_id": JSON,
                    "duration": JSON,
                },
            )
            | JSON,
        },
    )
)
def test_arbitrary_message_callbacks(payload):
    parses_or_refuses(json.dumps(payload).encode())


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _paths(child, prefix + (index,))
    return paths


@st.composite
def mutated_fixtures(draw):
    """A real callback with some of its values replaced by arbitrary JSON or removed."""
    payload = copy.deepcopy(json.loads(raw(draw(st.sampled_from(MESSAGES + IGNORED)))))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(payload) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return payload


@FAST
@given(mutated_fixtures())
def test_mutated_fixtures(payload):
    parses_or_refuses(json.dumps(payload).encode())


@FAST
@given(st.sampled_from(MESSAGES + IGNORED), st.data())
def test_truncated_or_corrupted_fixture_bytes(name, data):
    body = bytearray(raw(name))
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    if data.draw(st.booleans()):
        del body[cut:]
    elif cut < len(body):
        body[cut] = data.draw(st.integers(min_value=0, max_value=255))
    parses_or_refuses(bytes(body))
