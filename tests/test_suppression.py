"""SES tells us when our mail bounces for good or is marked as spam; the desk then stops mailing
that address (the way to keep SES from pausing the account) and the ticket says why, so the
agent reaches the customer another way. A transient bounce changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib import aws
from chalicelib.models import Ticket
from tests.conftest import fixture_json

FORM = {
    "submission_id": "s1",
    "email": "ivan@example.com",
    "name": "Ivan",
    "subject": "Order 1042",
    "message": "Where is my order?",
}


def feedback(name: str, *, recipient: str, ses_message_id: str) -> dict:
    """An SES notification as documented, about our mail `ses_message_id` to `recipient`."""
    text = json.dumps(fixture_json("ses_feedback", f"{name}.json"))
    return json.loads(text.replace("RECIPIENT", recipient).replace("SES_MESSAGE_ID", ses_message_id))


def acknowledged(desk, **overrides) -> tuple[str, str]:
    """A form ticket whose acknowledgement went out: (ticket id, SES's id of that mail)."""
    ticket_id = desk.post_form({**FORM, **overrides}).json_body["ticket"]
    desk.pump()
    [ack] = [mail for mail in desk.sent_mail() if ticket_id in mail["subject"]]
    return ticket_id, ack["id"]


def conversation(desk, token: str, ticket_id: str) -> dict:
    response = desk.api("GET", f"/api/tickets/{ticket_id}", token)
    assert response.status_code == 200, response.body
    return response.json_body


def events(view: dict, kind: str) -> list[str]:
    return [entry["body"] for entry in view["conversation"] if entry["direction"] == "event" and entry["kind"] == kind]


def test_a_hard_bounce_marks_the_ticket_and_the_next_answer_is_not_sent(desk, team):
    ticket_id, ses_id = acknowledged(desk)

    desk.ses_feedback(feedback("bounce_permanent", recipient="ivan@example.com", ses_message_id=ses_id))
    reply = desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "It ships today."})
    failures = desk.pump()

    assert reply.status_code == 201 and failures == 0
    assert len(desk.sent_mail()) == 1  # the acknowledgement only: the answer was withheld
    assert desk.dead_letters() == []
    view = conversation(desk, team["olena"]["token"], ticket_id)
    assert view["email_undeliverable"] == "bounced"
    [bounced] = events(view, "email_undeliverable")
    assert "bounced for good (Permanent/General)" in bounced
    [withheld] = events(view, "withheld")
    assert withheld.startswith("Answer not sent by email") and "suppression list" in withheld


def test_after_a_bounce_a_new_request_from_that_address_gets_no_acknowledgement(desk, team):
    _, ses_id = acknowledged(desk)
    desk.ses_feedback(feedback("bounce_permanent", recipient="ivan@example.com", ses_message_id=ses_id))

    desk.advance(timedelta(hours=1))  # past the per-address cooldown: the list lasts
    second = desk.post_form({**FORM, "submission_id": "s2", "message": "Any news?"}).json_body["ticket"]
    desk.pump()

    assert len(desk.sent_mail()) == 1
    ticket = Ticket.get(second)
    assert ticket.ack_state == "suppressed" and ticket.email_undeliverable == "bounced"
    [withheld] = events(conversation(desk, team["olena"]["token"], second), "withheld")
    assert withheld.startswith("Acknowledgement not sent by email") and "bounced" in withheld


def test_a_complaint_suppresses_the_address_too(desk, team):
    ticket_id, ses_id = acknowledged(desk)

    desk.ses_feedback(feedback("complaint", recipient="ivan@example.com", ses_message_id=ses_id))
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "It ships today."})
    desk.pump()

    assert len(desk.sent_mail()) == 1
    view = conversation(desk, team["olena"]["token"], ticket_id)
    assert view["email_undeliverable"] == "complained"
    assert "marked our email as spam (abuse)" in events(view, "email_undeliverable")[0]


def test_a_transient_bounce_suppresses_nothing(desk, team):
    ticket_id, ses_id = acknowledged(desk)

    desk.ses_feedback(feedback("bounce_transient", recipient="ivan@example.com", ses_message_id=ses_id))
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "It ships today."})
    desk.pump()

    assert len(desk.sent_mail()) == 2  # the answer went out
    view = conversation(desk, team["olena"]["token"], ticket_id)
    assert view["email_undeliverable"] is None
    assert events(view, "email_undeliverable") == [] and events(view, "withheld") == []


def test_the_same_notification_twice_marks_the_ticket_once(desk, team):
    ticket_id, ses_id = acknowledged(desk)
    bounce = feedback("bounce_permanent", recipient="ivan@example.com", ses_message_id=ses_id)

    desk.ses_feedback(bounce)
    desk.ses_feedback(bounce)  # SNS delivers at least once

    assert len(events(conversation(desk, team["olena"]["token"], ticket_id), "email_undeliverable")) == 1


def test_a_bounce_of_mail_we_cannot_place_still_suppresses_the_address(desk):
    desk.ses_feedback(feedback("bounce_permanent", recipient="Ivan@Example.com", ses_message_id="unknown-id"))

    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()

    assert desk.sent_mail() == []
    ticket = Ticket.get(ticket_id)
    assert ticket.ack_state == "suppressed" and ticket.email_undeliverable == "bounced"


def test_unusable_notifications_are_dropped_without_an_error(desk):
    for garbage in (
        "not json",
        "[]",
        json.dumps({"notificationType": "Bounce"}),
        json.dumps(
            {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"x": 1}]}}
        ),
        json.dumps({"notificationType": "Complaint", "complaint": "spam"}),
        json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "hello"}),
    ):
        desk.ses_feedback(garbage)  # raises if the handler does

    desk.post_form(FORM)
    desk.pump()
    assert len(desk.sent_mail()) == 1


def test_every_mail_names_the_configuration_set_that_reports_bounces(desk):
    named: list[str] = []
    aws.client("ses").meta.events.register(
        "provide-client-params.ses.SendRawEmail", lambda params, **_: named.append(params.get("ConfigurationSetName"))
    )

    acknowledged(desk)

    assert named == ["promptly-local-outbound"]
    sets = aws.client("ses").list_configuration_sets()["ConfigurationSets"]
    assert {"Name": "promptly-local-outbound"} in sets  # infra/local.py made it, as the stack does
