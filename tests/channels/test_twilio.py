"""Twilio SMS/MMS and WhatsApp: webhook bodies → Inbound, X-Twilio-Signature, Messages API sends.

Fixtures under tests/fixtures/twilio are raw `application/x-www-form-urlencoded` bodies shaped
like Twilio's incoming-message webhook (parameter names and order as Twilio sends them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import providers as http
from chalicelib import stage
from chalicelib.channels import twilio
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.errors import BadRequest, Unauthorized

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FORM = {"content-type": "application/x-www-form-urlencoded"}
ACCOUNT = os.environ["PROMPTLY_SECRET_TWILIO_ACCOUNT_SID"]
TOKEN = os.environ["PROMPTLY_SECRET_TWILIO_AUTH_TOKEN"]
MEDIA = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM0e4d9a2b7c6f1e3d5a8b9c0d1e2f3a4b"
    "/Media/ME9c3f2e1d0b8a7c6e5f4d3c2b1a0f9e8d"
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def webhook_url() -> str:
    return f"{stage.public_url()}/webhooks/twilio"


def expected_signature(token: str, url: str, body: bytes) -> str:
    """Written from Twilio's documentation, independently of the adapter: the URL, then each
    POST parameter name followed by its value, sorted by name; HMAC-SHA1; base64."""
    params = parse_qs(body.decode(), keep_blank_values=True)
    data = url + "".join(name + value for name in sorted(params) for value in sorted(params[name]))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed(body: bytes, url: str | None = None, token: str = TOKEN) -> dict[str, str]:
    return {**FORM, "x-twilio-signature": expected_signature(token, url or webhook_url(), body)}


def parse(body: bytes) -> list[Inbound]:
    return twilio.parse(body, FORM, RECEIVED)


def message(**params: str) -> bytes:
    base = {
        "MessageSid": "SM11111111111111111111111111111111",
        "AccountSid": ACCOUNT,
        "From": "+380501234567",
        "To": "+15005550006",
        "Body": "Hello",
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    return urlencode({**base, **params}).encode()


# --- parse: what an agent sees ---------------------------------------------------------------


def test_sms_text_is_one_message_from_the_phone_number():
    [inbound] = parse(fixture("sms_text.txt"))

    assert inbound == Inbound(
        channel="sms",
        provider_id="SM5f3b1e2a9c8d4e7f6a1b2c3d4e5f6a7b",
        received_at=RECEIVED,
        address="+380501234567",
        phone="+380501234567",
        thread_key="+380501234567",
        body='Добрий день! Не можу увійти в кабінет,\nпише "невірний пароль". Замовлення #4411',
        name="",
        language=None,
        attachments=(),
    )


def test_mms_image_without_text_is_described_and_recorded_for_the_fetch_job():
    [inbound] = parse(fixture("sms_mms_image.txt"))

    assert inbound.channel == "sms" and inbound.provider_id == "MM0e4d9a2b7c6f1e3d5a8b9c0d1e2f3a4b"
    assert inbound.address == inbound.phone == "+12125550142"
    assert inbound.body == "[image/jpeg]"
    assert inbound.attachments == (
        Attachment(
            name="ME9c3f2e1d0b8a7c6e5f4d3c2b1a0f9e8d.jpg", content_type="image/jpeg", size=0, provider_file_id=MEDIA
        ),
    )


def test_whatsapp_text_carries_the_profile_name_and_the_prefixed_address():
    [inbound] = parse(fixture("whatsapp_text.txt"))

    assert inbound.channel == "whatsapp"
    assert inbound.provider_id == "SM8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
    assert inbound.address == inbound.thread_key == "whatsapp:+380671234567"  # replies go back on WhatsApp
    assert inbound.phone == "+380671234567"  # the same person on SMS is the same customer
    assert inbound.name == "Олена Коваль"
    assert inbound.body == "Hi! My order 4411 still hasn't arrived 😕 Can you check?"
    assert inbound.language is None and inbound.attachments == ()


def test_whatsapp_location_is_described_with_its_coordinates():
    [inbound] = parse(fixture("whatsapp_location.txt"))

    assert inbound.channel == "whatsapp"
    assert inbound.body == "[location 50.45010, 30.52340]"


def test_named_place_adds_its_label_and_address():
    [inbound] = parse(
        message(
            From="whatsapp:+380671234567",
            Body="",
            MessageType="location",
            Latitude="50.4501",
            Longitude="30.5234",
            Label="Нова пошта №12",
            Address="вул. Хрещатик, 1, Київ",
        )
    )

    assert inbound.body == "[location 50.45010, 30.52340] Нова пошта №12, вул. Хрещатик, 1, Київ"


def test_caption_with_several_media_keeps_the_caption_and_lists_every_file():
    second = MEDIA.replace("ME9c3f", "ME0000")
    [inbound] = parse(
        message(
            Body="Both screenshots",
            NumMedia="2",
            MediaUrl0=MEDIA,
            MediaContentType0="image/png",
            MediaUrl1=second,
            MediaContentType1="application/pdf",
        )
    )

    assert inbound.body == "Both screenshots"
    assert [(a.name, a.content_type, a.provider_file_id) for a in inbound.attachments] == [
        ("ME9c3f2e1d0b8a7c6e5f4d3c2b1a0f9e8d.png", "image/png", MEDIA),
        ("ME00002e1d0b8a7c6e5f4d3c2b1a0f9e8d.pdf", "application/pdf", second),
    ]


def test_media_only_message_lists_each_type():
    [inbound] = parse(
        message(
            Body="",
            NumMedia="2",
            MediaUrl0=MEDIA,
            MediaContentType0="image/jpeg",
            MediaUrl1=MEDIA + "x",
            MediaContentType1="audio/ogg",
        )
    )

    assert inbound.body == "[image/jpeg] [audio/ogg]"


@pytest.mark.parametrize(
    "params, body",
    [
        ({"Body": "", "MessageType": "sticker"}, "[sticker message]"),
        ({"Body": "  "}, "[empty message]"),
    ],
)
def test_a_message_with_nothing_readable_still_says_what_it_was(params, body):
    assert parse(message(**params))[0].body == body


def test_sid_falls_back_to_the_deprecated_sms_message_sid():
    body = urlencode(
        {
            "SmsMessageSid": "SM22222222222222222222222222222222",
            "From": "+380501234567",
            "Body": "Hi",
            "SmsStatus": "received",
            "AccountSid": ACCOUNT,
        }
    ).encode()

    assert parse(body)[0].provider_id == "SM22222222222222222222222222222222"


def test_short_code_sender_has_no_phone_but_can_be_answered():
    [inbound] = parse(message(From="72345"))

    assert inbound.address == "72345" and inbound.phone is None and inbound.channel == "sms"


def test_stop_keyword_is_stored_but_marked_so_it_is_not_acknowledged():
    [inbound] = parse(message(Body="STOP", OptOutType="STOP"))

    assert inbound.automated == "opt-out keyword STOP"
    assert parse(message(Body="HELP", OptOutType="HELP"))[0].automated is None  # a request for help is one


@pytest.mark.parametrize(
    "body",
    [
        fixture("status_callback.txt"),
        urlencode(
            {
                "SmsSid": "SM3",
                "SmsStatus": "sent",
                "MessageStatus": "sent",
                "MessageSid": "SM3",
                "AccountSid": ACCOUNT,
                "From": "+15005550006",
                "To": "+380501234567",
            }
        ).encode(),
        urlencode({"MessageSid": "SM4", "MessageStatus": "undelivered", "ErrorCode": "30003"}).encode(),
        urlencode({"MessageSid": "SM5", "SmsStatus": "delivered", "Body": "x", "From": "+1"}).encode(),
    ],
)
def test_status_callbacks_are_ignored(body):
    assert parse(body) == []


@pytest.mark.parametrize(
    "body, headers, why",
    [
        (b"\xff\xfe\x00garbage", FORM, "not UTF-8"),
        (b"MessageSid=SM1&a=%ff", FORM, "not UTF-8"),
        (b"just some text", FORM, "not form-encoded"),
        (b"MessageSid=SM1&&From=x", FORM, "not form-encoded"),
        (b'{"MessageSid": "SM1"}', {"content-type": "application/json"}, "application/x-www-form-urlencoded"),
        (b"", FORM, "MessageSid is missing"),
        (b"From=%2B380501234567&Body=hi", FORM, "MessageSid is missing"),
        (b"MessageSid=SM1&Body=hi", FORM, "From is missing"),
        (b"MessageSid=SM1&From=&Body=hi", FORM, "From is missing"),
        (b"MessageSid=SM1&MessageSid=SM2&From=%2B1", FORM, "MessageSid appears 2 times"),
        (message(NumMedia="lots"), FORM, "NumMedia"),
        (message(NumMedia="11"), FORM, "NumMedia"),
        (message(NumMedia="2", MediaUrl0=MEDIA), FORM, "MediaUrl1 is missing"),
        (message(Body="", Latitude="north", Longitude="30.5"), FORM, "Latitude"),
        (message(Body="", Latitude="50.4", Longitude="nan"), FORM, "Longitude"),
        (message(Body="", Latitude="95", Longitude="30.5"), FORM, "Latitude"),
        (message(From="messenger:1234567890"), FORM, "'messenger'"),
        ("=".join(["a"] * 2).encode() + b"&" + b"&".join(b"k%d=v" % i for i in range(600)), FORM, "not form-encoded"),
    ],
)
def test_malformed_bodies_are_bad_requests_with_a_reason(body, headers, why):
    with pytest.raises(BadRequest) as error:
        twilio.parse(body, headers, RECEIVED)

    assert why in error.value.message


def test_ok_response_is_empty_twiml():
    assert twilio.ok_response() == ('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml")


# --- verify: X-Twilio-Signature --------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sms_text.txt", "sms_mms_image.txt", "whatsapp_text.txt", "whatsapp_location.txt", "status_callback.txt"]
)
def test_signature_by_the_documented_algorithm_is_accepted(name):
    body = fixture(name)

    assert twilio.verify(body, signed(body), [webhook_url()]) is None


def test_twilio_sdk_test_vectors():
    """From twilio-python's tests/unit/test_request_validator.py (token "12345")."""
    uri = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ]

    assert twilio.signature("12345", uri, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert expected_signature("12345", uri, urlencode(params).encode()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio.signature("12345", uri.replace(".com", ".com:443"), params) == "kvajT1Ptam85bY51eRf/AJRuM3w="
    duplicates = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio.signature("12345", uri, duplicates) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_known_vector_is_accepted_by_verify(monkeypatch):
    monkeypatch.setenv("PROMPTLY_SECRET_TWILIO_AUTH_TOKEN", "12345")
    body = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309"
    uri = "https://mycompany.com/myapp.php?foo=1&bar=2"

    twilio.verify(body, {**FORM, "x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}, [uri])
    twilio.verify(
        body, {**FORM, "x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}, [uri.replace(".com", ".com:1234")]
    )  # SDK: "removes port on https"
    with pytest.raises(Unauthorized, match="does not match"):
        twilio.verify(body, {**FORM, "x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B9="}, [uri])


@pytest.mark.parametrize(
    "signed_url, called_url",
    [
        ("https://desk.example.com:443/webhooks/twilio", "https://desk.example.com/webhooks/twilio"),
        ("https://desk.example.com/webhooks/twilio", "https://desk.example.com:443/webhooks/twilio"),
        ("https://desk.example.com/webhooks/twilio?tenant=a", "https://desk.example.com/webhooks/twilio?tenant=a"),
    ],
)
def test_port_variants_of_the_same_url_are_accepted_as_twilio_sdks_do(signed_url, called_url):
    body = fixture("sms_text.txt")

    twilio.verify(body, signed(body, url=signed_url), [called_url])


def post_signed(desk, signed_url: str, path: str = "/webhooks/twilio") -> int:
    """A message webhook signed for `signed_url`, posted to the desk at `path`: its status."""
    body = message()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body, url=signed_url)}
    return desk.client.http.post(path, headers=headers, body=body).status_code


def test_a_webhook_url_with_a_query_string_is_verified_with_it(desk):
    """Twilio signs the URL it called, query string included."""
    path = "/webhooks/twilio?desk=kyiv&line=2"

    assert post_signed(desk, f"{stage.public_url()}{path}", path) == 200
    assert post_signed(desk, f"{stage.public_url()}/webhooks/twilio", path) == 401  # signed without it
    assert post_signed(desk, f"{stage.public_url()}/webhooks/twilio?desk=lviv&line=2", path) == 401


def test_every_configured_public_url_is_accepted_and_no_other(desk, monkeypatch):
    """A custom domain in front of API Gateway: Twilio's console may name either."""
    gateway = "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/api"
    monkeypatch.setenv("PROMPTLY_PUBLIC_URL_ALIASES", f"https://desk.example.com/, {gateway}")

    for base in (stage.public_url(), "https://desk.example.com", gateway):
        assert post_signed(desk, f"{base}/webhooks/twilio") == 200, base
    assert post_signed(desk, "https://attacker.example/webhooks/twilio") == 401


def refused(body: bytes, headers: dict[str, str], url: str | None = None) -> str:
    with pytest.raises(Unauthorized) as error:
        twilio.verify(body, headers, [url or webhook_url()])
    return error.value.message


def test_missing_signature_is_refused():
    body = fixture("sms_text.txt")

    assert "missing X-Twilio-Signature" in refused(body, FORM)
    assert "missing X-Twilio-Signature" in refused(body, {**FORM, "x-twilio-signature": "  "})


@pytest.mark.parametrize("header", ["", "bm90IGEgc2lnbmF0dXJl", "ÿ-not-base64-∑", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_wrong_signature_is_refused(header):
    body = fixture("sms_text.txt")
    headers = {**FORM, "x-twilio-signature": header} if header else signed(body, token="another-token")

    assert "does not match" in refused(body, headers)


def test_signature_for_another_url_is_refused():
    body = fixture("whatsapp_text.txt")

    assert "does not match" in refused(body, signed(body, url="https://attacker.example/webhooks/twilio"))
    assert "does not match" in refused(body, signed(body, url=webhook_url() + "?x=1"))


def test_signature_of_another_body_is_refused():
    body = fixture("sms_text.txt")
    tampered = body.replace(b"Body=", b"Body=REFUND+NOW+")

    assert "does not match" in refused(tampered, signed(body))


def test_signed_message_for_another_account_is_refused():
    body = message(AccountSid="ACffffffffffffffffffffffffffffffff")
    twice = message() + b"&AccountSid=ACffffffffffffffffffffffffffffffff"

    assert "AccountSid is not this desk's" in refused(body, signed(body))
    assert "AccountSid appears 2 times" in refused(twice, signed(twice))


def test_signed_body_without_account_passes_verify_and_is_judged_by_parse():
    body = urlencode({"From": "+380501234567", "Body": "no sid"}).encode()

    twilio.verify(body, signed(body), [webhook_url()])
    with pytest.raises(BadRequest, match="MessageSid is missing"):
        parse(body)


# --- send: the Messages API ------------------------------------------------------------------


def outgoing(channel: str = "sms", address: str = "+380501234567", text: str = "Your ticket is T-1") -> Outgoing:
    return Outgoing(channel=channel, address=address, text=text, job_id="job-1", ticket_id="T-1")


def test_sms_is_posted_as_a_form_with_basic_auth_and_returns_the_sid(providers):
    sid = twilio.send(outgoing())

    [sent] = providers.messages("twilio")
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sent["payload"] == {"To": "+380501234567", "From": "+15005550006", "Body": "Your ticket is T-1"}
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert sid == sent["response"]["sid"] and sid.startswith("SM")


def test_whatsapp_uses_the_whatsapp_sender(providers):
    twilio.send(outgoing("whatsapp", "whatsapp:+380671234567"))
    twilio.send(outgoing("whatsapp", "+380671234567"))  # an address without the prefix still goes to WhatsApp

    assert [(m["payload"]["From"], m["payload"]["To"]) for m in providers.messages("twilio")] == [
        ("whatsapp:+14155238886", "whatsapp:+380671234567")
    ] * 2


def test_text_over_1600_characters_is_cut_with_an_ellipsis(providers):
    twilio.send(outgoing(text="Дякуємо! " * 300))

    body = providers.messages("twilio")[0]["payload"]["Body"]
    assert len(body) <= 1600 and body.endswith("…") and body.startswith("Дякуємо! Дякуємо!")


def test_truncation_counts_emoji_as_twilio_does_and_never_splits_one():
    assert twilio.truncate("x" * 1600) == "x" * 1600
    cut = twilio.truncate("😀" * 1000)
    assert cut == "😀" * 799 + "…"  # 799 × 2 UTF-16 units + 1 ≤ 1600
    assert twilio.truncate("ab cd", limit=4) == "ab…"


def test_rate_limit_is_retryable_after_twilios_wait(providers):
    providers.fail("Messages.json", status=429, times=1, retry_after=5)

    with pytest.raises(http.ProviderError) as error:
        twilio.send(outgoing())

    assert error.value.retryable and error.value.retry_after == 5 and error.value.status == 429
    assert twilio.send(outgoing()).startswith("SM")  # and the retry goes through


def test_server_error_is_retryable(providers):
    providers.fail("Messages.json", status=503)

    with pytest.raises(http.ProviderError) as error:
        twilio.send(outgoing())

    assert error.value.retryable and error.value.status == 503


@pytest.mark.parametrize(
    "code, text, why",
    [
        (
            21211,
            "The 'To' number +380501234567 is not a valid phone number.",
            "The 'To' number <number> is not a valid phone number.",
        ),
        (21610, "Attempt to send to unsubscribed recipient", "Attempt to send to unsubscribed recipient"),
        (
            63016,
            (
                "Failed to send freeform message because you are outside the allowed window. "
                "If you are using WhatsApp, please use a Message Template."
            ),
            "outside the allowed window",
        ),
    ],
)
def test_permanent_twilio_errors_are_not_retried_and_say_why(providers, monkeypatch, code, text, why):
    answer = {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": 400}
    monkeypatch.setattr(providers, "_answer", lambda path, payload: (400, answer))

    with pytest.raises(http.ProviderError) as error:
        twilio.send(outgoing())

    assert not error.value.retryable and error.value.status == 400
    assert str(code) in str(error.value) and why in str(error.value)
    assert TOKEN not in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "The 'To' number +380501234567 is not a valid phone number.",
        "The 'To' number whatsapp:+380 50 123 45 67 is not a valid WhatsApp user.",
        "Message from +15005550006 to 380501234567 was blocked",
    ],
)
def test_a_refusal_quoting_the_customers_number_keeps_it_out_of_the_error_and_the_logs(
    desk, providers, monkeypatch, caplog, text
):
    """Twilio's error text names the phone number; the error is logged ("refused for good"),
    and logs carry ticket ids, never a customer's number."""
    monkeypatch.setattr(providers, "_answer", lambda path, payload: (400, {"code": 21211, "message": text}))
    params = {
        "MessageSid": "SM1",
        "AccountSid": ACCOUNT,
        "From": "+380501234567",
        "To": "+15005550006",
        "Body": "Hello",
    }

    with caplog.at_level("INFO"):
        assert desk.post_twilio(params).status_code == 200
        desk.pump()

    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "21211" in logged  # the refusal is logged, with Twilio's code
    for digits in ("380501234567", "380 50 123 45 67", "15005550006"):
        assert digits not in logged


def test_an_error_echoing_the_token_does_not_leak_it(providers, monkeypatch):
    monkeypatch.setattr(providers, "_answer", lambda path, payload: (401, {"code": 20003, "message": f"bad {TOKEN}"}))

    with pytest.raises(http.ProviderError) as error:
        twilio.send(outgoing())

    assert not error.value.retryable and "20003" in str(error.value) and TOKEN not in str(error.value)


def test_network_failure_is_retryable_and_names_no_secret(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PROMPTLY_TWILIO_API", f"http://127.0.0.1:{port}")  # nothing listens there

    with pytest.raises(http.ProviderError) as error:
        twilio.send(outgoing())

    assert error.value.retryable and TOKEN not in str(error.value)


def test_missing_sender_number_is_retried_until_an_operator_sets_it(providers, monkeypatch):
    monkeypatch.delenv("PROMPTLY_TWILIO_WHATSAPP_FROM")

    with pytest.raises(http.ProviderError, match="PROMPTLY_TWILIO_WHATSAPP_FROM") as error:
        twilio.send(outgoing("whatsapp", "whatsapp:+380671234567"))

    assert error.value.retryable and providers.messages() == []


# --- never anything but Inbound or BadRequest ------------------------------------------------


def parses_or_refuses(body: bytes) -> None:
    try:
        result = twilio.parse(body, FORM, RECEIVED)
    except BadRequest as error:
        assert error.message
        return
    assert isinstance(result, list) and len(result) <= 1
    assert all(isinstance(item, Inbound) and item.provider_id and item.address for item in result)


NAMES = [
    "MessageSid",
    "SmsMessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "MediaUrl1",
    "MediaContentType1",
    "ProfileName",
    "WaId",
    "Latitude",
    "Longitude",
    "Label",
    "Address",
    "MessageType",
    "SmsStatus",
    "MessageStatus",
    "OptOutType",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "2",
            "11",
            "-1",
            "received",
            "delivered",
            "whatsapp:+380501234567",
            "+380501234567",
            "messenger:1",
            "whatsapp:",
            "50.45",
            "1e400",
            "nan",
            MEDIA,
            "STOP",
            "١",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_are_refused(body):
    parses_or_refuses(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=10), VALUES), max_size=14))
def test_arbitrary_form_bodies_parse_or_are_refused(params):
    parses_or_refuses(urlencode(params).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=300)
    | st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=8).map(lambda params: urlencode(params).encode()),
    header=st.text(max_size=40),
    url=st.text(max_size=60),
)
def test_verify_only_ever_refuses(body, header, url):
    try:
        twilio.verify(body, {**FORM, "x-twilio-signature": header}, [url])
    except (Unauthorized, BadRequest):
        pass
