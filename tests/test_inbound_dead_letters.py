"""Inbound email (and SES's bounce reports) are never dropped: an SNS event that failed every try is parked (deployed: the
function's on-failure queue, see tests/infra; locally: local/inbox/failed/), and
`make redrive` hands it to the desk again, which then stores it like any other mail."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib import aws, stage
from chalicelib.models import Ticket
from tests.conftest import fixture_bytes, fixture_json
from tools import redrive
from tools.local import MAX_INBOX_TRIES, Inbox


class LambdaThatRunsTheHandler:
    """Lambda's Invoke as the redrive uses it, running the real handler in this process."""

    def __init__(self, desk) -> None:
        self.desk = desk
        self.invoked: list[tuple[str, str]] = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:
        self.invoked.append((FunctionName, InvocationType))
        self.desk.client.lambda_.invoke(FunctionName.removeprefix(stage.resource("")), json.loads(Payload))
        return {"StatusCode": 202}


def test_a_parked_email_event_is_handed_to_inbound_email_again_and_becomes_a_ticket(desk):
    sqs = aws.client("sqs")
    parked = sqs.create_queue(QueueName=stage.dead_letters_of("inbound_email"))["QueueUrl"]
    event = desk.email_event(fixture_bytes("email", "gmail_plain_en.eml"), key="mail/failed-once")
    sqs.send_message(
        QueueUrl=parked,
        MessageBody=json.dumps(
            {  # Lambda's on-failure record
                "version": "1.0",
                "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
                "requestPayload": event,
                "responsePayload": {"errorMessage": "Task timed out after 30.00 seconds"},
            }
        ),
    )
    lambda_ = LambdaThatRunsTheHandler(desk)

    moved = redrive.redrive_events(lambda_, parked, stage.resource("inbound_email"))
    desk.pump()

    assert moved == 1 and lambda_.invoked == [("promptly-local-inbound_email", "Event")]
    [ack] = desk.sent_mail()
    assert "We received your request: Can't export my invoices to CSV" in ack["subject"]
    assert sqs.receive_message(QueueUrl=parked).get("Messages", []) == []


def test_a_local_file_that_keeps_failing_is_parked_with_its_error_and_never_holds_up_the_others(desk, tmp_path):
    import app

    def handler(event, context):  # the desk's own, except that one mail makes it fail
        action = json.loads(event["Records"][0]["Sns"]["Message"])["receipt"]["action"]
        raw = aws.client("s3").get_object(Bucket=action["bucketName"], Key=action["objectKey"])["Body"].read()
        if b"poison" in raw:
            raise RuntimeError("the parser gave up")
        return app.inbound_email(event, context)

    inbox = Inbox(handler, tmp_path)
    (tmp_path / "a-poison.eml").write_bytes(fixture_bytes("email", "gmail_plain_en.eml") + b"\npoison\n")
    (tmp_path / "b-good.eml").write_bytes(fixture_bytes("email", "outlook_html_only.eml"))

    inbox.step()
    assert (tmp_path / "processed" / "b-good.eml").exists()  # not held up by the one before it
    for _ in range(MAX_INBOX_TRIES - 1):
        inbox.step()

    assert sorted(path.name for path in tmp_path.glob("*.eml")) == []
    error = (tmp_path / "failed" / "a-poison.eml.error.txt").read_text()
    assert error.startswith("RuntimeError: the parser gave up") and "make redrive STAGE=local" in error
    inbox.step()  # parked: no fourth try
    assert (tmp_path / "failed" / "a-poison.eml").exists()


def test_redrive_puts_failed_local_mail_back_in_the_inbox(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTLY_LOCAL_DIR", str(tmp_path))
    failed = tmp_path / "inbox" / "failed"
    failed.mkdir(parents=True)
    (failed / "mail.eml").write_bytes(b"Subject: hi\n\nhello\n")
    (failed / "mail.eml.error.txt").write_text("RuntimeError: the parser gave up")

    assert redrive.redrive_local_inbox() == 1

    assert Path(tmp_path / "inbox" / "mail.eml").read_bytes() == b"Subject: hi\n\nhello\n"
    assert list(failed.iterdir()) == []


def test_a_parked_bounce_is_handed_to_ses_feedback_again_and_suppresses_the_address(desk):
    sqs = aws.client("sqs")
    parked = sqs.create_queue(QueueName=stage.dead_letters_of("ses_feedback"))["QueueUrl"]
    notification = fixture_json("ses_feedback", "bounce_permanent.json")
    bounce = json.loads(
        json.dumps(notification).replace("RECIPIENT", "ivan@example.com").replace("SES_MESSAGE_ID", "x")
    )
    event = desk.client.events.generate_sns_event(message=json.dumps(bounce))
    sqs.send_message(QueueUrl=parked, MessageBody=json.dumps({"requestPayload": event}))

    moved = redrive.redrive_events(LambdaThatRunsTheHandler(desk), parked, stage.resource("ses_feedback"))
    ticket_id = desk.post_form(
        {"submission_id": "s1", "email": "ivan@example.com", "message": "Where is my order?"}
    ).json_body["ticket"]
    desk.pump()

    assert moved == 1 and desk.sent_mail() == []  # the address was put on the suppression list
    assert Ticket.get(ticket_id).email_undeliverable == "bounced"
