"""Telegram webhook updates -> Inbound, the secret-token check, and sendMessage/setWebhook.

Fixtures under tests/fixtures/telegram are Bot API `Update` objects as Telegram posts them to
a webhook. Sending goes to the loopback fake of the Bot API (the `providers` fixture); a few
error cases need Telegram's exact descriptions, which the fake's `fail()` does not produce, so
they replace the fake's answer (still over HTTP) or, for header-only cases, `post_json`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import providers as provider_http
from chalicelib.channels import telegram
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.providers import ProviderError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"
RECEIVED = datetime(2024, 6, 4, 7, 41, 9, tzinfo=UTC)
SECRET = os.environ["PROMPTLY_SECRET_TELEGRAM_SECRET_TOKEN"]
TOKEN = os.environ["PROMPTLY_SECRET_TELEGRAM_BOT_TOKEN"]


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())


def parse(update: dict[str, Any] | bytes) -> list[Inbound]:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return telegram.parse(body, {"content-type": "application/json"}, RECEIVED)


def parse_one(update: dict[str, Any] | str) -> Inbound:
    result = parse(fixture(update) if isinstance(update, str) else update)
    assert len(result) == 1 and isinstance(result[0], Inbound)
    return result[0]


def with_message(name: str = "text_no_language", **changes: Any) -> dict[str, Any]:
    """A fixture whose `message` has `changes` applied (value None removes the key)."""
    update = fixture(name)
    for key, value in changes.items():
        if value is None:
            update["message"].pop(key, None)
        else:
            update["message"][key] = value
    return update


# --------------------------------------------------------------------------- fixtures


def test_private_text_in_ukrainian_is_one_inbound_addressed_to_the_chat() -> None:
    inbound = parse_one("text_uk")

    assert inbound.channel == "telegram"
    assert inbound.provider_id == "412389765:1742"  # chat:message, see parse()
    assert inbound.received_at == RECEIVED
    assert inbound.address == inbound.thread_key == "412389765"
    assert inbound.name == "Олена Коваленко"
    assert inbound.language == "uk"
    assert inbound.body.startswith("Добрий день! Замовлення #48213 досі не доставлене")
    assert inbound.attachments == ()
    assert inbound.email is None and inbound.subject == ""


def test_text_without_language_code_has_no_language_and_first_name_only() -> None:
    inbound = parse_one("text_no_language")

    assert inbound.language is None
    assert inbound.name == "Mark"
    assert inbound.address == "6054123987"
    assert inbound.body == "Hi, how do I change the email on my account?"


def test_photo_with_caption_keeps_the_caption_and_only_the_largest_size() -> None:
    inbound = parse_one("photo_caption")

    assert inbound.body == "Ось так виглядає коробка, яку мені привезли — пошкоджена з одного боку."
    assert inbound.attachments == (
        Attachment(
            name="photo.jpg",
            content_type="image/jpeg",
            size=161944,
            provider_file_id="AgACAgIAAxkBAAIG0WZe6k1vQ0xq3mYb1r8h0pWc5Q2jAAKP3jEbT3H5SpmMLqQGTsblAQADAgADeQADNQQ",
        ),
    )


def test_photo_without_caption_is_described() -> None:
    update = fixture("photo_caption")
    del update["message"]["caption"]
    random_order = list(reversed(update["message"]["photo"]))
    update["message"]["photo"] = random_order

    inbound = parse_one(update)

    assert inbound.body == "[photo]"
    assert inbound.attachments[0].size == 161944  # the largest whatever the order


def test_voice_message_is_described_with_its_length() -> None:
    inbound = parse_one("voice")

    assert inbound.body == "[voice message 0:07]"
    assert inbound.language == "uk"
    assert inbound.attachments == (
        Attachment(
            name="voice.ogg",
            content_type="audio/ogg",
            size=27412,
            provider_file_id="AwACAgIAAxkBAAIG1GZe6t3xWq0c4hY7oTqjKqkM8c7zAAKPTwACT3H5SvGd4b2lV1S8NQQ",
        ),
    )


def test_document_keeps_its_file_name_and_type_not_the_thumbnail() -> None:
    inbound = parse_one("document")

    assert inbound.body == "[document invoice.pdf]"
    assert inbound.name == "Jan Kowalski" and inbound.language == "pl"
    assert inbound.attachments == (
        Attachment(
            name="invoice.pdf",
            content_type="application/pdf",
            size=214873,
            provider_file_id="BQACAgIAAxkBAAIBOGZe7FqvJt1B4HUSg-qW0dTen9E0AAJfUAACT3H5StbfMfMhdzdrNQQ",
        ),
    )


def test_location_is_described_with_coordinates_and_no_attachment() -> None:
    inbound = parse_one("location")

    assert inbound.body == "[location 50.45010, 30.52340]"
    assert inbound.attachments == ()


def test_sticker_is_described_by_its_emoji_and_not_fetched() -> None:
    inbound = parse_one("sticker")

    assert inbound.body == "[sticker 😀]"
    assert inbound.language == "en"
    assert inbound.attachments == ()  # the app's picture, not a file of the customer's


@pytest.mark.parametrize(
    "name",
    [
        "edited_message",  # the first version is already on the ticket
        "group_message",  # the desk answers people privately, never a group
        "bot_message",  # bots acknowledging each other would loop
        "callback_query",  # a button press, not something the customer wrote
        "my_chat_member_blocked",  # the user blocked the bot
        "service_auto_delete_timer",  # a service message: no text, no media
        "channel_post",
    ],
)
def test_events_the_desk_ignores_give_nothing(name: str) -> None:
    assert parse(fixture(name)) == []


@pytest.mark.parametrize("name", ["group_message", "bot_message"])
def test_a_message_the_desk_ignores_is_not_read_further(name: str) -> None:
    update = fixture(name)
    update["message"]["photo"] = "a shape Telegram may change one day"
    assert parse(update) == []


@pytest.mark.parametrize("sender", [None, {"id": 7}])
def test_a_group_message_is_ignored_whoever_it_claims_to_be_from(sender: dict[str, Any] | None) -> None:
    update = fixture("group_message")
    if sender is None:
        del update["message"]["from"]
    else:
        update["message"]["from"] = sender
    assert parse(update) == []


def test_update_kinds_never_seen_before_are_ignored() -> None:
    assert parse({"update_id": 1, "message_reaction": {"chat": {"id": 1}}}) == []
    assert parse({"update_id": 1}) == []


def test_whitespace_only_text_is_a_message_with_nothing_to_answer() -> None:
    assert parse(with_message(text=" \n\t ")) == []


def test_text_is_trimmed_but_kept_whole() -> None:
    assert parse_one(with_message(text="  Line one\n\nLine two  \n")).body == "Line one\n\nLine two"


def test_animation_is_not_reported_as_its_backward_compatible_document() -> None:
    gif = {
        "file_name": "oops.gif.mp4",
        "mime_type": "video/mp4",
        "duration": 3,
        "width": 320,
        "height": 240,
        "file_id": "CgACAgQAAxkBAAIBY2Ze7ZKq",
        "file_unique_id": "AgADuwIAAs7",
        "file_size": 98211,
    }
    inbound = parse_one(with_message(text=None, animation=gif, document=dict(gif)))

    assert inbound.body == "[animation]"
    assert inbound.attachments[0].provider_file_id == "CgACAgQAAxkBAAIBY2Ze7ZKq"


def test_media_without_optional_fields_gets_sensible_defaults() -> None:
    inbound = parse_one(with_message(text=None, document={"file_id": "BQAC-x", "file_unique_id": "AgAD-x"}))

    assert inbound.body == "[document]"
    assert inbound.attachments == (Attachment("document", "application/octet-stream", 0, "BQAC-x"),)


def test_long_voice_message_shows_hours() -> None:
    voice = {"file_id": "AwAC-x", "file_unique_id": "AgAD-x", "duration": 3725}
    assert parse_one(with_message(text=None, voice=voice)).body == "[voice message 1:02:05]"


def test_shared_contact_and_venue_are_described() -> None:
    contact = {"phone_number": "+380671234567", "first_name": "Олена", "user_id": 412389765}
    venue = {
        "location": {"latitude": 52.229676, "longitude": 21.012229},
        "title": "Paczkomat WAW123M",
        "address": "ul. Marszałkowska 10",
    }

    assert parse_one(with_message(text=None, contact=contact)).body == "[contact Олена +380671234567]"
    assert (
        parse_one(with_message(text=None, venue=venue, location=venue["location"])).body
        == "[venue Paczkomat WAW123M, ul. Marszałkowska 10 at 52.22968, 21.01223]"
    )


def test_a_lone_surrogate_in_text_is_replaced_not_stored() -> None:
    body = (
        b'{"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": {"id": 7, "type": "private"},'
        b' "from": {"id": 7, "is_bot": false, "first_name": "A\\ud83d"}, "text": "hi \\ud83d\\ude00 \\udc00"}}'
    )
    inbound = parse_one(json.loads(body.decode()))  # json.dumps re-escapes it the same way

    assert inbound.body == "hi 😀 \ufffd"
    assert inbound.name == "A\ufffd"
    inbound.body.encode("utf-8")


def test_a_language_code_that_is_not_a_language_tag_is_dropped() -> None:
    update = fixture("text_uk")
    update["message"]["from"]["language_code"] = "<script>"

    assert parse_one(update).language is None


# --------------------------------------------------------------------------- verify


def test_verify_accepts_the_registered_secret_token() -> None:
    telegram.verify(b"{}", {"x-telegram-bot-api-secret-token": SECRET}, "https://desk.example/telegram")


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "missing X-Telegram-Bot-Api-Secret-Token header"),
        ({"x-telegram-bot-api-secret-token": ""}, "missing X-Telegram-Bot-Api-Secret-Token header"),
        ({"x-telegram-bot-api-secret-token": "wrong"}, "does not match"),
        ({"x-telegram-bot-api-secret-token": SECRET[:-1]}, "does not match"),
        ({"x-telegram-bot-api-secret-token": SECRET + "x"}, "does not match"),
        ({"x-telegram-bot-api-secret-token": "секрет"}, "does not match"),  # non-ASCII: no TypeError
        ({"x-promptly-signature": SECRET}, "missing"),
    ],
)
def test_verify_refuses_a_missing_or_wrong_token(headers: dict[str, str], why: str) -> None:
    with pytest.raises(Unauthorized, match=why):
        telegram.verify(b"{}", headers, "https://desk.example/telegram")


# --------------------------------------------------------------------------- malformed


def _message(**changes: Any) -> bytes:
    update = fixture("text_no_language")
    message = update["message"]
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = message
        for part in parents:
            target = target[part]
        if value is _DROP:
            del target[last]
        else:
            target[last] = value
    return json.dumps(update).encode()


_DROP = object()


@pytest.mark.parametrize(
    "body, message, field",
    [
        (b"{not json", "body is not valid JSON", None),
        (b"", "body is not valid JSON", None),
        (b"\xff\xfe\x00", "body is not valid JSON", None),
        (b"[" * 100_000 + b"]" * 100_000, "body is not valid JSON", None),
        (b'{"update_id": 1' + b"0" * 5000 + b"}", "body is not valid JSON", None),
        (b"[1, 2]", "body must be a JSON object", None),
        (b'"update"', "body must be a JSON object", None),
        (b"{}", "update_id must be an integer", "update_id"),
        (b'{"update_id": "284715203"}', "update_id must be an integer", "update_id"),
        (b'{"update_id": true}', "update_id must be an integer", "update_id"),
        (b'{"update_id": 1.5}', "update_id must be an integer", "update_id"),
        (b'{"update_id": -3}', "update_id is out of range", "update_id"),
        (b'{"update_id": 1, "message": "hi"}', "message must be an object", "message"),
        (_message(chat=_DROP), "message.chat must be an object", "message.chat"),
        (_message(chat__id="6054123987"), "message.chat.id must be an integer", "message.chat.id"),
        (_message(chat__id=None), "message.chat.id must be an integer", "message.chat.id"),
        (_message(chat__id=2**70), "message.chat.id is out of range", "message.chat.id"),
        (_message(chat__type=_DROP), "message.chat.type must be a string", "message.chat.type"),
        (_message(**{"from": _DROP}), "message.from must be an object", "message.from"),
        (_message(from__id="6054123987"), "message.from.id must be an integer", "message.from.id"),
        (_message(from__is_bot="false"), "message.from.is_bot must be true or false", "message.from.is_bot"),
        (_message(from__first_name=["Mark"]), "message.from.first_name must be a string", "message.from.first_name"),
        (_message(from__language_code=7), "message.from.language_code must be a string", "message.from.language_code"),
        (_message(text={"t": "hi"}), "message.text must be a string", "message.text"),
        (_message(photo={"file_id": "x"}), "message.photo must be a list of PhotoSize objects", "message.photo"),
        (
            _message(photo=[{"file_unique_id": "u"}]),
            "message.photo[0].file_id must be a string",
            "message.photo[0].file_id",
        ),
        (
            _message(photo=[{"file_id": "x", "width": "90"}]),
            "message.photo[0].width must be an integer",
            "message.photo[0].width",
        ),
        (_message(voice={"file_id": ""}), "message.voice.file_id must not be empty", "message.voice.file_id"),
        (_message(document=[1]), "message.document must be an object", "message.document"),
        (
            _message(location={"latitude": "50.45", "longitude": 30.52}),
            "message.location.latitude must be a number from -90 to 90",
            "message.location.latitude",
        ),
        (
            _message(location={"latitude": 50.45, "longitude": 181}),
            "message.location.longitude must be a number from -180 to 180",
            "message.location.longitude",
        ),
        (
            (
                b'{"update_id": 1, "message": {"chat": {"id": 1, "type": "private"}, "from": {"id": 1, "is_bot": false},'
                b' "location": {"latitude": NaN, "longitude": 0}}}'
            ),
            "message.location.latitude must be a number",
            "message.location.latitude",
        ),
        (
            _message(sticker={"file_id": "x", "is_animated": 1}),
            "message.sticker.is_animated must be true or false",
            "message.sticker.is_animated",
        ),
    ],
)
def test_malformed_updates_are_bad_requests_naming_the_field(body: bytes, message: str, field: str | None) -> None:
    with pytest.raises(BadRequest) as raised:
        parse(body)

    assert raised.value.message.startswith(message)
    assert raised.value.field == field


# --------------------------------------------------------------------------- send


def outgoing(address: str = "412389765", text: str = "Вітаємо! Ваше звернення T-7K2M9QXD прийняте.") -> Outgoing:
    return Outgoing(
        channel="telegram", address=address, text=text, job_id="job-1", ticket_id="T-7K2M9QXD", language="uk"
    )


def answer_with(fake: Any, monkeypatch: pytest.MonkeyPatch, status: int, body: dict[str, Any]) -> None:
    """Make the fake Bot API answer every call with this status and JSON (over real HTTP)."""
    monkeypatch.setattr(fake, "_answer", lambda path, payload: (status, body))


def test_send_posts_plain_text_to_the_chat_and_returns_the_message_id(providers) -> None:
    message_id = telegram.send(outgoing())

    [sent] = providers.messages("telegram")
    assert sent["path"] == f"/bot{TOKEN}/sendMessage"
    assert sent["payload"] == {"chat_id": 412389765, "text": "Вітаємо! Ваше звернення T-7K2M9QXD прийняте."}
    assert sent["headers"]["Content-Type"] == "application/json"
    assert message_id == str(sent["response"]["result"]["message_id"])


def test_send_keeps_a_non_numeric_chat_id_as_text(providers) -> None:
    telegram.send(outgoing(address="@promptly_news"))

    assert providers.messages("telegram")[0]["payload"]["chat_id"] == "@promptly_news"


def test_send_handles_negative_chat_ids_as_numbers(providers) -> None:
    telegram.send(outgoing(address="-1001873264519"))

    assert providers.messages("telegram")[0]["payload"]["chat_id"] == -1001873264519


def test_flood_control_429_is_retryable_after_telegrams_wait(providers) -> None:
    providers.fail("sendMessage", status=429, times=1, retry_after=3)

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retryable and raised.value.status == 429
    assert raised.value.retry_after == 3
    assert TOKEN not in str(raised.value)
    assert telegram.send(outgoing())  # the next attempt goes through
    assert len(providers.messages("telegram")) == 1


def test_retry_after_in_the_json_wins_over_the_header(monkeypatch) -> None:
    answer = (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
        {"Retry-After": "2"},
    )
    monkeypatch.setattr(provider_http, "post_json", lambda *args, **kwargs: answer)

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retry_after == 7 and raised.value.retryable
    assert "Too Many Requests: retry after 7" in str(raised.value)


def test_retry_after_header_is_used_when_the_json_has_none(monkeypatch) -> None:
    answer = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests"}, {"Retry-After": "2"})
    monkeypatch.setattr(provider_http, "post_json", lambda *args, **kwargs: answer)

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retry_after == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(providers, status) -> None:
    providers.fail("sendMessage", status=status, times=1)

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retryable and raised.value.status == status
    assert raised.value.retry_after is None


def test_a_403_from_the_fake_is_not_retryable(providers) -> None:
    providers.fail("sendMessage", status=403, times=1)

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert not raised.value.retryable and raised.value.status == 403
    assert "fake failure" in str(raised.value)


@pytest.mark.parametrize(
    "status, description",
    [
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: user is deactivated"),
        (400, "Bad Request: message is too long"),
        (401, "Unauthorized"),
    ],
)
def test_permanent_refusals_are_not_retryable_and_say_why(providers, monkeypatch, status, description) -> None:
    answer_with(providers, monkeypatch, status, {"ok": False, "error_code": status, "description": description})

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert not raised.value.retryable and raised.value.status == status
    assert description in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_ok_false_inside_a_200_is_judged_by_its_error_code(providers, monkeypatch) -> None:
    answer_with(
        providers,
        monkeypatch,
        200,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    with pytest.raises(ProviderError) as blocked:
        telegram.send(outgoing())

    answer_with(
        providers,
        monkeypatch,
        200,
        {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 11}},
    )
    with pytest.raises(ProviderError) as flood:
        telegram.send(outgoing())

    assert not blocked.value.retryable and blocked.value.status == 403
    assert flood.value.retryable and flood.value.retry_after == 11


def test_an_answer_that_is_not_the_bot_api_format_is_retryable(providers, monkeypatch) -> None:
    answer_with(providers, monkeypatch, 200, {"hello": "captive portal"})

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retryable


def test_ok_without_a_message_id_is_not_retried_to_avoid_a_double_send(providers, monkeypatch) -> None:
    answer_with(providers, monkeypatch, 200, {"ok": True, "result": {"chat": {"id": 1}}})

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert not raised.value.retryable


def test_a_network_failure_is_retryable_and_never_shows_the_token(monkeypatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PROMPTLY_TELEGRAM_API", f"http://127.0.0.1:{port}")

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert raised.value.retryable
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.args)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_description_echoing_the_token_is_scrubbed(providers, monkeypatch) -> None:
    answer_with(providers, monkeypatch, 404, {"ok": False, "error_code": 404, "description": f"Not Found: /bot{TOKEN}"})

    with pytest.raises(ProviderError) as raised:
        telegram.send(outgoing())

    assert TOKEN not in str(raised.value) and "<bot token>" in str(raised.value)


# --------------------------------------------------------------------------- setWebhook and ok_response


def test_set_webhook_registers_the_secret_token_for_messages_only(providers) -> None:
    telegram.set_webhook("https://desk.example/api/webhooks/telegram")

    [call] = providers.messages("telegram")
    assert call["path"] == f"/bot{TOKEN}/setWebhook"
    assert call["payload"] == {
        "url": "https://desk.example/api/webhooks/telegram",
        "secret_token": SECRET,
        "allowed_updates": ["message"],
        "drop_pending_updates": False,
    }


def test_set_webhook_failure_is_a_provider_error(providers, monkeypatch) -> None:
    description = "Bad Request: bad webhook: HTTPS url must be provided for webhook"
    answer_with(providers, monkeypatch, 400, {"ok": False, "error_code": 400, "description": description})

    with pytest.raises(ProviderError, match="HTTPS url must be provided") as raised:
        telegram.set_webhook("http://desk.example/telegram")

    assert not raised.value.retryable


def test_ok_response_is_json_telegram_accepts() -> None:
    body, content_type = telegram.ok_response()

    assert json.loads(body) == {"ok": True} and content_type == "application/json"
    assert telegram.NAME == "telegram" and telegram.MAX_BODY_BYTES == 64 * 1024


# --------------------------------------------------------------------------- properties

KEYS = [
    "update_id",
    "message",
    "edited_message",
    "chat",
    "from",
    "id",
    "type",
    "is_bot",
    "first_name",
    "last_name",
    "language_code",
    "text",
    "caption",
    "photo",
    "file_id",
    "file_size",
    "width",
    "height",
    "voice",
    "duration",
    "document",
    "file_name",
    "mime_type",
    "location",
    "latitude",
    "longitude",
    "sticker",
    "emoji",
    "is_animated",
    "is_video",
    "venue",
    "title",
    "address",
    "contact",
    "phone_number",
    "animation",
    "video",
    "video_note",
    "audio",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["private", "group", "", "\ud83d", "image/jpeg", "😀"])
)
keys = st.sampled_from(KEYS) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=20,
)
people = st.fixed_dictionaries(
    {"id": st.integers(), "is_bot": st.just(False) | st.booleans()},
    optional={
        "first_name": st.text(max_size=10) | json_values,
        "last_name": st.text(max_size=10),
        "language_code": st.sampled_from(["uk", "en", "pt-br", "x"]) | json_values,
    },
)
media = st.dictionaries(keys, json_values, max_size=6) | st.fixed_dictionaries(
    {"file_id": st.text(max_size=8)},
    optional={k: json_values for k in ("file_size", "mime_type", "file_name", "duration", "emoji", "is_animated")},
)
messages = st.fixed_dictionaries(
    {
        "chat": st.fixed_dictionaries({"id": st.integers(), "type": st.just("private")}) | json_values,
        "from": people | json_values,
        "text": st.text(min_size=1, max_size=30) | st.none() | json_values,
    },
    optional={
        "caption": json_values,
        "photo": st.lists(media, max_size=3) | json_values,
        "voice": media,
        "document": media,
        "sticker": media,
        "animation": media,
        "audio": media,
        "location": st.fixed_dictionaries({"latitude": json_values, "longitude": json_values}) | json_values,
        "venue": json_values,
        "contact": json_values,
    },
)
# Shaped like an Update so that parsing gets deep; wrong update_ids come from `json_values` and the
# mutation test.
updates = st.fixed_dictionaries(
    {"update_id": st.integers(0, 2**62), "message": messages | messages | json_values},
    optional={"edited_message": json_values},
)


def parses_or_refuses(body: bytes) -> None:
    """The property: a list of well-formed Inbound, or BadRequest; any other exception fails."""
    try:
        result = telegram.parse(body, {}, RECEIVED)
    except BadRequest as error:
        assert error.message
        return
    assert isinstance(result, list) and len(result) <= 1
    for inbound in result:
        assert isinstance(inbound, Inbound) and inbound.channel == "telegram"
        assert inbound.body.strip() and inbound.address and re.fullmatch(r"-?\d+:\d+", inbound.provider_id)
        for text in (inbound.body, inbound.name, inbound.address, inbound.language or ""):
            text.encode("utf-8")  # storable
        for attachment in inbound.attachments:
            assert isinstance(attachment, Attachment) and attachment.provider_file_id
            assert isinstance(attachment.size, int) and attachment.size >= 0
            attachment.name.encode("utf-8")
            attachment.content_type.encode("utf-8")


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_are_refused(body: bytes) -> None:
    parses_or_refuses(body)


@PROPERTY
@given(json_values, st.booleans())
def test_any_json_parses_or_is_refused(value: Any, ascii_only: bool) -> None:
    parses_or_refuses(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


@PROPERTY
@given(updates, st.booleans())
def test_any_update_shaped_json_parses_or_is_refused(value: Any, ascii_only: bool) -> None:
    parses_or_refuses(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


VALID = [fixture(path.stem) for path in sorted(FIXTURES.glob("*.json"))]


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, (dict, list)) and value else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found += _containers(child)
    return found


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> dict[str, Any]:
    """A real update with 1-5 random edits: a key dropped, a value replaced, a known key added."""
    update = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 5))):
        containers = _containers(update)
        if not containers:
            break
        target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["drop", "replace", "add"] if isinstance(target, dict) else ["drop", "replace"]))
        if action == "add":
            target[draw(st.sampled_from(KEYS))] = draw(json_values)
            continue
        key = draw(st.sampled_from(list(target) if isinstance(target, dict) else range(len(target))))
        if action == "drop":
            del target[key]
        else:
            target[key] = draw(json_values)
    return update


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixtures())
def test_mutated_real_updates_parse_or_are_refused(update: dict[str, Any]) -> None:
    parses_or_refuses(json.dumps(update).encode("utf-8", "surrogatepass"))


def test_every_fixture_is_valid_and_parses() -> None:
    assert len(VALID) >= 11
    for update in VALID:
        parses_or_refuses(json.dumps(update).encode())
        assert isinstance(parse(update), list)
