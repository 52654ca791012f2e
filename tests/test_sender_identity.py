"""Who a message is from is earned, not typed: an encoded display name cannot pose as the address,
a forged From or a Reply-To cannot speak for an organization or aim our acknowledgement, and a
stranger quoting our headers or a reference never gets into someone else's ticket."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from chalicelib.config import settings
from chalicelib.models import Message, Ticket
from tests.conftest import edited_desk_file, fixture_bytes

FAILED = {"spf": "FAIL", "dkim": "FAIL", "dmarc": "FAIL"}


def encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def mail(
    sender: str,
    *,
    subject: str = "Printer on fire",
    extra: str = "",
    message_id: str = "m1@mail.example",
    body: str = "Please help, the printer is on fire.",
) -> bytes:
    return (
        f"From: {sender}\r\n{extra}To: support@promptly.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def tickets() -> list[Ticket]:
    return sorted(Ticket.scan(), key=lambda ticket: ticket.created_at)


def inbound_count(ticket_id: str) -> int:
    return sum(message.direction == "in" for message in Message.query(ticket_id))


@pytest.mark.parametrize("display", ["x\r\nBcc: other@evil.example", "other@evil.example, ", "<other@evil.example>"])
def test_an_encoded_display_name_never_becomes_the_address(desk, display):
    desk.deliver_email(mail(f"{encoded(display)} <real@customer.example>"))
    desk.pump()

    [ticket] = tickets()
    assert ticket.address == "real@customer.example" and ticket.email == "real@customer.example"
    assert [m["to"].rpartition("<")[2].rstrip(">") for m in desk.sent_mail()] == ["real@customer.example"]


def test_a_forged_from_of_an_authorized_requester_is_not_verified_and_not_acknowledged(desk):
    desk.deliver_email(mail("Jane Doe <jane.doe@acme.example>"), verdicts=FAILED)
    desk.pump()

    [ticket] = tickets()
    assert ticket.organization is None and ticket.requester_unverified == "ACME Ltd"
    assert ticket.queue == settings().routing.verification_queue
    assert (ticket.sender_trust, ticket.sender_auth) == ("unauthenticated", "spf=fail dkim=fail dmarc=fail")
    assert ticket.ack_state == "none" and desk.sent_mail() == []  # a person answers it, nobody is mailed now
    assert ticket.first_response_due is not None  # the SLA clock runs all the same


def test_a_reply_to_of_an_authorized_requester_is_where_answers_go_not_who_asks(desk):
    desk.deliver_email(mail("Mallory <mallory@evil.example>", extra="Reply-To: Jane Doe <jane.doe@acme.example>\r\n"))
    desk.pump()

    [ticket] = tickets()
    assert ticket.organization is None and ticket.requester_unverified is None  # mallory is nobody's requester
    assert ticket.email == "mallory@evil.example" and ticket.address == "jane.doe@acme.example"
    assert desk.sent_mail() == []  # an acknowledgement would have gone to Jane, whom nobody proved sent it


def test_an_authenticated_listed_requester_is_verified_and_acknowledged(desk):
    desk.deliver_email(mail("Jane Doe <jane.doe@acme.example>"))
    desk.pump()

    [ticket] = tickets()
    assert ticket.organization == "acme" and ticket.requester_unverified is None
    assert ticket.sender_trust == "authenticated"
    [ack] = desk.sent_mail()
    assert "jane.doe@acme.example" in ack["to"] and "could not confirm" not in ack["text"]


def acknowledged_ticket(desk) -> tuple[Ticket, str]:
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    desk.pump()
    [ticket] = tickets()
    desk.advance(timedelta(minutes=5))  # what follows comes later, so `tickets()` lists it second
    return ticket, desk.sent_mail()[0]["message_id"].strip("<>")


def test_a_stranger_replying_to_our_acknowledgement_gets_a_new_linked_ticket(desk):
    original, ack_id = acknowledged_ticket(desk)

    desk.deliver_email(
        mail(
            "Mallory <mallory@evil.example>",
            subject="Re: whatever",
            extra=f"In-Reply-To: <{ack_id}>\r\nReferences: <{ack_id}>\r\n",
        ),
        key="ses-stranger",
    )
    desk.pump()

    first, stranger = tickets()
    assert first.ticket_id == original.ticket_id and inbound_count(original.ticket_id) == 1
    assert (stranger.previous_ticket, stranger.stranger_to) == (original.ticket_id, original.ticket_id)
    assert stranger.customer_id != original.customer_id


def test_unauthenticated_mail_from_the_customers_own_address_does_not_join_their_ticket(desk):
    original, ack_id = acknowledged_ticket(desk)

    desk.deliver_email(
        mail("Jane Doe <jane.doe@gmail.com>", subject="Re: hi", extra=f"In-Reply-To: <{ack_id}>\r\n"),
        key="ses-forged",
        verdicts=FAILED,
    )

    assert inbound_count(original.ticket_id) == 1
    assert tickets()[1].stranger_to == original.ticket_id


def test_the_customers_authenticated_reply_joins_and_records_how_it_was_checked(desk):
    original, ack_id = acknowledged_ticket(desk)

    desk.deliver_email(
        mail("Jane Doe <jane.doe@gmail.com>", subject="Re: hi", extra=f"In-Reply-To: <{ack_id}>\r\n"), key="ses-reply"
    )

    assert len(tickets()) == 1
    [reply] = [m for m in Message.query(original.ticket_id) if m.direction == "in"][1:]
    assert (reply.trust, reply.auth) == ("authenticated", "spf=pass dkim=pass dmarc=pass")


def test_a_form_customer_answering_our_mail_from_that_address_joins_their_ticket(desk):
    ticket_id = desk.post_form(
        {"submission_id": "s1", "email": "olga@example.com", "message": "Cannot log in"}
    ).json_body["ticket"]
    desk.pump()
    ack_id = desk.sent_mail()[0]["message_id"].strip("<>")

    desk.deliver_email(mail("Olga <olga@example.com>", subject="Re: hi", extra=f"In-Reply-To: <{ack_id}>\r\n"))

    assert len(tickets()) == 1 and inbound_count(ticket_id) == 2


def test_a_typed_address_quoting_a_reference_opens_a_new_linked_ticket(desk):
    original, _ = acknowledged_ticket(desk)

    response = desk.post_form(
        {
            "submission_id": "s1",
            "email": "jane.doe@gmail.com",
            "message": "It's me, Jane",
            "subject": f"Re: [{original.ticket_id}]",
        }
    )

    assert inbound_count(original.ticket_id) == 1
    assert Ticket.get(response.json_body["ticket"]).stranger_to == original.ticket_id


def test_the_api_shows_the_agent_how_the_sender_was_identified(desk, team):
    original, ack_id = acknowledged_ticket(desk)
    desk.deliver_email(
        mail("Mallory <mallory@evil.example>", extra=f"In-Reply-To: <{ack_id}>\r\n"),
        key="ses-stranger",
        verdicts={"dmarc": "FAIL"},
    )
    stranger = tickets()[1]

    shown = desk.api("GET", f"/api/tickets/{stranger.ticket_id}", team["admin"]["token"]).json_body
    assert shown["sender"] == {
        "trust": "unauthenticated",
        "how": "spf=pass dkim=pass dmarc=fail",
        "stranger_to": original.ticket_id,
    }
    assert [entry["sender_trust"] for entry in shown["conversation"] if entry["direction"] == "in"] == [
        "unauthenticated"
    ]


def test_two_from_addresses_prove_nobody(desk):
    desk.deliver_email(mail("Jane Doe <jane.doe@acme.example>, Mallory <mallory@evil.example>"))
    desk.pump()

    [ticket] = tickets()
    assert ticket.email is None and ticket.organization is None and ticket.sender_trust == "unauthenticated"
    assert desk.sent_mail() == []


@pytest.fixture
def acknowledging_everything(monkeypatch, tmp_path):
    path = edited_desk_file(
        tmp_path, "acknowledge_unauthenticated_email = false", "acknowledge_unauthenticated_email = true"
    )
    monkeypatch.setenv("PROMPTLY_CONFIG", str(path))
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_a_desk_may_choose_to_acknowledge_unauthenticated_mail(desk, acknowledging_everything):
    desk.deliver_email(mail("Ann <ann@small.example>"), verdicts={"dmarc": "GRAY", "spf": "FAIL", "dkim": "GRAY"})
    desk.pump()

    [ticket] = tickets()
    assert ticket.sender_trust == "unauthenticated"
    assert [m["to"] for m in desk.sent_mail()] == ["Ann <ann@small.example>"]
