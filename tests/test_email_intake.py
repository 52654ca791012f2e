"""Email the AWS way (SES → S3 + SNS → Lambda): a ticket, an acknowledgement that threads,
replies that join their ticket, and robots that never get an answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.models import Message, Ticket
from tests.conftest import fixture_bytes
from tests.harness import KYIV


def only_ticket() -> Ticket:
    [ticket] = list(Ticket.scan())
    return ticket


def reply(
    *,
    in_reply_to: str = "",
    subject: str,
    sender: str = "Jane Doe <jane.doe@gmail.com>",
    message_id: str = "reply-1@mail.gmail.com",
) -> bytes:
    threading = f"In-Reply-To: <{in_reply_to}>\nReferences: <{in_reply_to}>\n" if in_reply_to else ""
    return (
        f"From: {sender}\nTo: support@promptly.example\nSubject: {subject}\nMessage-ID: <{message_id}>\n"
        f"{threading}Content-Type: text/plain; charset=utf-8\n\n"
        "Still broken after clearing the cache.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Promptly Support <support@promptly.example> wrote:\n"
        "> We received your request\n> A person from our team will answer by Monday\n"
    ).encode()


def test_email_opens_a_ticket_and_gets_a_threaded_acknowledgement(desk):
    desk.at(datetime(2026, 11, 20, 19, 40, tzinfo=KYIV))

    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    desk.pump()

    ticket = only_ticket()
    assert ticket.channel == "email" and ticket.subject == "Can't export my invoices to CSV"
    assert ticket.queue == "billing"  # "invoices" routes by topic
    # email's own target: 12 business hours from Friday evening → Tuesday 12:00
    assert ticket.first_response_due == datetime(2026, 11, 24, 12, 0, tzinfo=KYIV)
    [mail] = desk.sent_mail()
    assert mail["to"] == "Jane Doe <jane.doe@gmail.com>"
    assert mail["in_reply_to"] == "<CAHx7PqN2vR0+5kQm3hT1wZ8yJd=Xo9bL4eF6sG_uA1cV@mail.gmail.com>"
    assert "Tuesday 24 November, 12:00" in mail["text"]
    assert f"[{ticket.ticket_id}]" in mail["subject"]


def test_ukrainian_email_is_acknowledged_in_ukrainian(desk):
    desk.deliver_email(fixture_bytes("email", "gmail_reply_uk.eml"))
    desk.pump()

    [mail] = desk.sent_mail()
    assert mail["language"] == "uk" and "Ми отримали ваше звернення" in mail["subject"]


def test_same_email_delivered_three_times_is_one_ticket_and_one_ack(desk):
    for attempt in range(3):  # SES/SNS at-least-once, even under different S3 keys
        desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"), key=f"ses-{attempt}")
    desk.pump()

    assert len(list(Ticket.scan())) == 1
    assert len(list(Message.query(only_ticket().ticket_id))) == 2  # the email and the ack
    assert len(desk.sent_mail()) == 1


def test_reply_to_the_acknowledgement_joins_the_ticket_without_quoted_history(desk):
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    desk.pump()
    ack_id = desk.sent_mail()[0]["message_id"].strip("<>")
    desk.advance(timedelta(minutes=20))

    desk.deliver_email(reply(in_reply_to=ack_id, subject="Re: something else entirely"), key="ses-reply")
    desk.pump()

    ticket = only_ticket()
    inbound = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    assert len(inbound) == 2
    assert inbound[-1].body.strip() == "Still broken after clearing the cache."
    assert ticket.message_count == 2
    assert len(desk.sent_mail()) == 1  # a follow-up gets no second acknowledgement


def test_reply_quoting_the_id_ses_assigned_also_threads(desk):
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    desk.pump()
    [ack] = [m for m in Message.query(only_ticket().ticket_id) if m.direction == "out"]

    desk.deliver_email(
        reply(in_reply_to=f"{ack.provider_id}@eu-central-1.amazonses.com", subject="Re: hi"), key="ses-reply"
    )

    assert len(list(Ticket.scan())) == 1


def test_reply_with_only_the_reference_in_the_subject_threads(desk):
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    ticket_id = only_ticket().ticket_id

    desk.deliver_email(reply(subject=f"Re: [{ticket_id}] We received your request"), key="ses-reply")

    assert [t.ticket_id for t in Ticket.scan()] == [ticket_id]


def test_a_stranger_quoting_a_reference_opens_their_own_ticket(desk):
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    ticket_id = only_ticket().ticket_id

    desk.deliver_email(
        reply(subject=f"[{ticket_id}] I own this site", sender="mallory@evil.example"), key="ses-stranger"
    )

    tickets = list(Ticket.scan())
    assert len(tickets) == 2
    assert len(list(Message.query(ticket_id))) == 1


def test_out_of_office_and_bounce_are_stored_but_never_acknowledged(desk):
    desk.deliver_email(fixture_bytes("email", "out_of_office.eml"), key="ses-ooo")
    desk.deliver_email(fixture_bytes("email", "bounce_dsn.eml"), key="ses-bounce")
    desk.deliver_email(fixture_bytes("email", "mailing_list.eml"), key="ses-list")
    desk.pump()

    tickets = list(Ticket.scan())
    assert len(tickets) == 3
    assert all(t.automated and t.ack_state == "none" and t.first_response_due is None for t in tickets)
    assert desk.sent_mail() == []


def test_spam_verdict_from_ses_means_no_acknowledgement(desk):
    import json

    from chalicelib import aws, stage

    aws.client("s3").put_object(
        Bucket=stage.inbound_bucket(), Key="spam", Body=fixture_bytes("email", "gmail_plain_en.eml")
    )
    notification = {
        "notificationType": "Received",
        "mail": {"messageId": "spam"},
        "receipt": {
            "spamVerdict": {"status": "FAIL"},
            "action": {"type": "S3", "bucketName": stage.inbound_bucket(), "objectKey": "spam"},
        },
    }
    desk.client.lambda_.invoke("inbound_email", desk.client.events.generate_sns_event(json.dumps(notification)))
    desk.pump()

    assert only_ticket().automated == "ses spamVerdict FAIL"
    assert desk.sent_mail() == []


def test_mail_without_a_usable_sender_and_foreign_notifications_are_dropped_quietly(desk):
    desk.deliver_email(b"Subject: no sender at all\n\nhello", key="ses-nosender")
    desk.client.lambda_.invoke("inbound_email", desk.client.events.generate_sns_event('{"notificationType": "Bounce"}'))

    assert list(Ticket.scan()) == []
