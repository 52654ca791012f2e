"""The website chat: signed JSON in (the contact form's timestamped scheme, its own secret),
signed JSON replies out to the website's chat backend (a third secret, so a reply is never a
valid message in)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import providers as http
from chalicelib.channels import chat, form
from chalicelib.channels.base import Inbound, Outgoing
from chalicelib.errors import BadRequest, Unauthorized
from tests.harness import website_headers

RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SECRET = os.environ["PROMPTLY_SECRET_CHAT_SECRET"]
REPLY_SECRET = os.environ["PROMPTLY_SECRET_CHAT_REPLY_SECRET"]
URL = "http://127.0.0.1:8000/webhooks/chat"
GOOD = {
    "message_id": "c-1",
    "visitor_id": "v-42",
    "text": "Can I change my plan?",
    "name": "Ann",
    "email": "Ann@Example.com",
    "locale": "en-GB",
    "timezone": "Europe/London",
    "page_url": "https://shop.example.com/pricing",
}


def raw(payload: object) -> bytes:
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str = SECRET, **options: str) -> dict[str, str]:
    """As the website's server signs it now; headers lower-cased, as the webhook passes them."""
    return {name.lower(): value for name, value in website_headers(secret, body, **options).items()}


def parse(payload: object) -> list[Inbound]:
    return chat.parse(raw(payload), {}, RECEIVED)


def test_message_becomes_one_inbound_keyed_by_the_visitor():
    [inbound] = parse(GOOD)

    assert inbound == Inbound(
        channel="chat",
        provider_id="c-1",
        received_at=RECEIVED,
        address="v-42",
        thread_key="v-42",
        body="Can I change my plan?",
        name="Ann",
        email="ann@example.com",
        language="en-GB",
        timezone="Europe/London",
        trust="claimed",
        auth="address typed into the chat",
    )


def test_only_the_required_fields_are_needed_and_unknown_ones_are_ignored():
    [inbound] = parse(
        {
            "message_id": "c-2",
            "visitor_id": "v-1",
            "text": "Hi",
            "widget_version": "3.1",
            "email": "",
            "locale": None,
            "name": "  ",
        }
    )

    assert (inbound.name, inbound.email, inbound.language, inbound.timezone) == ("", None, None, None)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"message_id": None}, "message_id"),
        ({"message_id": ""}, "message_id"),
        ({"message_id": "x" * 129}, "message_id"),
        ({"visitor_id": None}, "visitor_id"),
        ({"visitor_id": "v" * 129}, "visitor_id"),
        ({"text": None}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": ["not", "text"]}, "text"),
        ({"email": "not-an-address"}, "email"),
        ({"locale": "<script>"}, "locale"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"page_url": "https://x.example/" + "p" * 2000}, "page_url"),
        ({"name": "n" * 201}, "name"),
    ],
)
def test_invalid_payloads_are_400_naming_the_field(change, field):
    payload = {k: v for k, v in {**GOOD, **change}.items() if v is not None}

    with pytest.raises(BadRequest) as error:
        parse(payload)

    assert error.value.field == field and error.value.message.startswith(field)


@pytest.mark.parametrize(
    "body, why",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"message_id": ' + b"1" * 5000 + b"}", "not JSON we accept"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_malformed_json_is_a_bad_request(body, why):
    with pytest.raises(BadRequest) as error:
        chat.parse(body, {}, RECEIVED)

    assert why in error.value.message


def test_signature_is_the_contact_forms_scheme_with_the_chats_own_secret():
    body = raw(GOOD)

    assert chat.verify(body, signed(body), URL) is None
    assert (chat.SIGNATURE_HEADER, chat.TIMESTAMP_HEADER) == (form.SIGNATURE_HEADER, form.TIMESTAMP_HEADER)
    assert chat.MAX_BODY_BYTES == form.MAX_BODY_BYTES
    with pytest.raises(Unauthorized, match="does not match"):  # a form submission's key opens no chat
        chat.verify(body, signed(body, os.environ["PROMPTLY_SECRET_FORM_SECRET"]), URL)


@pytest.mark.parametrize(
    "options, why",
    [
        ({"signature": ""}, "missing X-Promptly-Signature"),
        ({"signature": "sha256=" + "0" * 64}, "does not match"),
        ({"signature": "md5=abc"}, "must look like"),
        ({"signature": "sha256=ÿ∑-not-hex"}, "does not match"),
        ({"secret": "another-secret"}, "does not match"),
        ({"body": raw({**GOOD, "text": "something else"})}, "does not match"),
        ({"timestamp": ""}, "missing X-Promptly-Timestamp"),
        ({"timestamp": "2026-11-23T08:00:00Z"}, "must be unix seconds"),
        ({"timestamp": "١٧٩٥٤٢٠٨٠٠"}, "must be unix seconds"),  # digits, but not ASCII ones
        ({"timestamp": "9" * 40}, "must be unix seconds"),
    ],
)
def test_missing_or_wrong_signature_is_refused(options, why):
    body = options.pop("body", raw(GOOD))
    secret = options.pop("secret", SECRET)

    with pytest.raises(Unauthorized, match=why):
        chat.verify(raw(GOOD), signed(body, secret, **options), URL)


def test_a_signature_of_the_body_alone_is_refused():
    """The old scheme (no timestamp in what is signed) no longer passes: it could be replayed."""
    from chalicelib.signing import hmac_hex

    body = raw(GOOD)
    old = signed(body, signature="sha256=" + hmac_hex(SECRET, body))

    with pytest.raises(Unauthorized, match="does not match '<X-Promptly-Timestamp>.<body>'"):
        chat.verify(body, old, URL)


@pytest.mark.parametrize(
    "age_seconds, fresh", [(-299, True), (299, True), (301, False), (-301, False), (86_400, False)]
)
def test_a_signed_message_is_accepted_within_five_minutes_of_the_desks_clock(age_seconds, fresh):
    body = raw(GOOD)
    sent = str(int(datetime.now(UTC).timestamp()) - age_seconds)  # negative: the sender's clock is ahead

    if fresh:
        chat.verify(body, signed(body, timestamp=sent), URL)
    else:
        with pytest.raises(Unauthorized, match=r"X-Promptly-Timestamp is \d+ s away from the desk's clock"):
            chat.verify(body, signed(body, timestamp=sent), URL)


def test_ok_response():
    assert chat.ok_response() == ('{"ok": true}', "application/json")


def reply(text: str = "Hi Ann, your ticket is T-ABC") -> Outgoing:
    return Outgoing(channel="chat", address="v-42", text=text, job_id="job-7", ticket_id="T-ABC")


def test_reply_is_signed_json_to_the_chat_backend(providers, monkeypatch):
    sent_bytes: list[bytes] = []
    real = http.post_bytes

    def recording(url: str, body: bytes, headers: dict[str, str]):
        sent_bytes.append(body)  # the exact bytes on the wire, which the signature must cover
        return real(url, body, headers)

    monkeypatch.setattr(http, "post_bytes", recording)

    reply_id = chat.send(reply())

    [sent] = providers.messages("chat")
    assert sent["path"] == "/chat/replies"
    assert sent["payload"] == {
        "visitor_id": "v-42",
        "ticket": "T-ABC",
        "message_id": "job-7",
        "text": "Hi Ann, your ticket is T-ABC",
    }
    assert sent["headers"]["Content-Type"] == "application/json"
    # the website checks it as we check its posts, with the reply secret: signed, timestamped, fresh
    received = {name.lower(): value for name, value in sent["headers"].items()}
    form.require_signed(sent_bytes[0], received, REPLY_SECRET)
    assert reply_id == sent["response"]["id"]


def test_a_captured_reply_is_not_a_valid_message_in(providers):
    """A reply's JSON has every field a chat message needs; only the key tells them apart."""
    chat.send(reply("Please send me your password"))
    [sent] = providers.messages("chat")
    received = {name.lower(): value for name, value in sent["headers"].items()}

    with pytest.raises(Unauthorized, match="does not match"):
        chat.verify(sent["body"].encode(), received, URL)


def test_reply_id_falls_back_to_the_job_id(providers, monkeypatch):
    monkeypatch.setattr(providers, "_answer", lambda path, payload: (200, {"ok": True}))

    assert chat.send(reply()) == "job-7"


@pytest.mark.parametrize("status, retryable", [(429, True), (503, True), (401, False), (404, False)])
def test_backend_errors_follow_the_common_rules(providers, status, retryable):
    providers.fail("/chat/", status=status, retry_after=3 if status == 429 else None)

    with pytest.raises(http.ProviderError) as error:
        chat.send(reply())

    assert error.value.retryable is retryable and error.value.status == status
    assert error.value.retry_after == (3 if status == 429 else None)


def test_unset_reply_url_is_retried_until_an_operator_sets_it(monkeypatch):
    monkeypatch.delenv("PROMPTLY_CHAT_REPLY_URL", raising=False)

    with pytest.raises(http.ProviderError, match="PROMPTLY_CHAT_REPLY_URL") as error:
        chat.send(reply())

    assert error.value.retryable  # to the dead-letter queue after the tries; redrive once fixed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
chat_like = st.fixed_dictionaries(
    {},
    optional={
        "message_id": st.text(max_size=130) | json_values,
        "visitor_id": st.text(max_size=130) | json_values,
        "text": st.text(max_size=60) | json_values,
        "name": st.text(max_size=30) | json_values,
        "email": st.sampled_from(["a@b.co", "", "x@", "A@B.CO "]) | json_values,
        "locale": st.sampled_from(["uk", "en-GB", "", "zz_ZZZZZZZZZ"]) | json_values,
        "timezone": st.sampled_from(["Europe/Kyiv", "UTC", "", "../etc", "Mars/X"]) | json_values,
        "page_url": st.text(max_size=30) | json_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | chat_like.map(lambda d: json.dumps(d).encode())
)
def test_arbitrary_json_parses_or_is_refused(body):
    try:
        result = chat.parse(body, {}, RECEIVED)
    except BadRequest as error:
        assert error.message
        return
    [inbound] = result
    assert inbound.channel == "chat" and inbound.address == inbound.thread_key and inbound.body.strip()
