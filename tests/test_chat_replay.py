"""Nobody can pose as a chat visitor by replaying what they captured: the desk's own replies are
signed with another key, and a visitor's genuine message is refused once it is older than five
minutes."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib import clock
from chalicelib.models import Message, Ticket
from chalicelib.signing import unix_seconds
from tests.harness import website_headers

HELLO = {"message_id": "c-1", "visitor_id": "v-42", "text": "Can I change my plan?"}


def messages_in(ticket_id: str) -> list[str]:
    return [m.body for m in Message.query(ticket_id) if m.direction == "in"]


def replay(desk, body: str, headers: dict[str, str]):
    kept = {name: value for name, value in headers.items() if name.lower().startswith("x-promptly-")}
    return desk.client.http.post("/webhooks/chat", headers={"Content-Type": "application/json", **kept}, body=body)


def test_a_captured_reply_posted_back_as_a_visitor_message_is_401(desk, providers):
    ticket = desk.post_chat(HELLO)
    assert ticket.status_code == 200
    desk.pump()
    [reply] = providers.messages("chat")  # the acknowledgement, exactly as the website received it
    assert {"X-Promptly-Timestamp", "X-Promptly-Signature"} <= set(reply["headers"])

    response = replay(desk, reply["body"], reply["headers"])

    assert response.status_code == 401
    assert "X-Promptly-Signature does not match" in response.json_body["Message"]
    [stored] = list(Ticket.scan())
    assert messages_in(stored.ticket_id) == ["Can I change my plan?"]  # the reply did not join as the visitor


def test_a_visitors_message_replayed_after_five_minutes_is_401(desk, providers):
    body = json.dumps(HELLO).encode()
    captured = website_headers(desk.chat_secret, body)
    assert desk.client.http.post("/webhooks/chat", headers=captured, body=body).status_code == 200

    desk.advance(timedelta(minutes=5, seconds=1))
    response = desk.client.http.post(
        "/webhooks/chat",
        headers=captured,
        body=json.dumps({**HELLO, "message_id": "c-2", "text": "Please close my account"}).encode(),
    )
    late = desk.client.http.post("/webhooks/chat", headers=captured, body=body)

    assert response.status_code == 401 and "does not match" in response.json_body["Message"]  # changed body
    assert late.status_code == 401
    assert "X-Promptly-Timestamp is 301 s away from the desk's clock" in late.json_body["Message"]
    [stored] = list(Ticket.scan())
    assert messages_in(stored.ticket_id) == ["Can I change my plan?"]


def test_a_stale_timestamp_is_401_and_a_fresh_one_is_200(desk, providers):
    now = int(unix_seconds(clock.now()))

    stale = desk.post_chat(HELLO, timestamp=str(now - 301))
    fresh = desk.post_chat(HELLO, timestamp=str(now - 299))  # a sender a little behind the desk's clock

    assert stale.status_code == 401 and "away from the desk's clock" in stale.json_body["Message"]
    assert fresh.status_code == 200
    assert len(list(Ticket.scan())) == 1


def test_a_message_signed_with_the_reply_key_or_the_form_key_is_401(desk, providers):
    body = json.dumps(HELLO).encode()
    for secret in (desk.env["PROMPTLY_SECRET_CHAT_REPLY_SECRET"], desk.form_secret):
        response = desk.client.http.post("/webhooks/chat", headers=website_headers(secret, body), body=body)

        assert response.status_code == 401
    assert list(Ticket.scan()) == []
