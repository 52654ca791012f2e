"""Nothing is lost: an acknowledgement SES refuses is retried with backoff, sent exactly once
when SES recovers, and parked in the dead-letter queue (ticket intact) when it never does."""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from chalicelib import aws, clock, job_kinds, outbox, stage
from chalicelib.models import Ticket
from tools.local import sqs_event

FORM = {"submission_id": "r1", "email": "ivan@example.com", "name": "Ivan", "message": "Where is my order?"}


def ses_fails(times: int | None) -> list[int]:
    """Make SES throttle the next `times` sends (None: every send). Returns the call log."""
    calls: list[int] = []

    def refuse(**_: object) -> None:
        calls.append(1)
        if times is None or len(calls) <= times:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}, "SendRawEmail"
            )

    aws.client("ses").meta.events.register("before-call.ses.SendRawEmail", refuse)
    return calls


def test_ses_failing_twice_then_succeeding_sends_exactly_one_ack(desk):
    calls = ses_fails(2)
    ticket_id = desk.post_form(FORM).json_body["ticket"]

    failures = desk.pump()

    assert failures == 2
    assert len(calls) == 3
    assert len(desk.sent_mail()) == 1
    assert Ticket.get(ticket_id).ack_state == "sent"
    assert desk.dead_letters() == []


def test_ses_failing_always_parks_the_job_in_the_dlq_and_keeps_the_ticket(desk):
    ses_fails(None)
    ticket_id = desk.post_form(FORM).json_body["ticket"]

    failures = desk.pump(rounds=40)

    assert failures == outbox.MAX_RECEIVES
    assert desk.sent_mail() == []
    names = {  # what the job reads with the ticket: the form's address, its queue
        "channel": "form",
        "address": "ivan@example.com",
        "email": "ivan@example.com",
        "queue": "general",
        "acknowledge": True,
        "offer": True,
        "on_duty": [],  # nobody on the queue's roster this week, as intake read it
    }
    assert desk.dead_letters() == [
        {"kind": "new_ticket", "job_id": f"new-{ticket_id}", "ticket_id": ticket_id, "names": names}
    ]
    ticket = Ticket.get(ticket_id)
    assert ticket.status == "new" and ticket.ack_state == "pending"


def test_redrive_sends_parked_jobs_once_ses_is_back(desk):
    calls = ses_fails(outbox.MAX_RECEIVES)
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump(rounds=40)
    assert desk.sent_mail() == [] and len(calls) == outbox.MAX_RECEIVES

    moved = outbox.redrive()
    desk.pump()

    assert moved == 1
    assert len(desk.sent_mail()) == 1
    assert Ticket.get(ticket_id).ack_state == "sent"


def ses_down_until(back: datetime) -> None:
    """SES throttles every send until the desk's clock reaches `back`."""

    def refuse(**_: object) -> None:
        if clock.now() < back:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}, "SendRawEmail"
            )

    aws.client("ses").meta.events.register("before-call.ses.SendRawEmail", refuse)


def work_the_queue(desk, until: datetime, step: timedelta = timedelta(seconds=30)) -> None:
    """Lambda's poller, `step` apart on the desk's clock (the harness's pump jumps 16 minutes
    when the queue looks empty, which would skip most of an outage's retries)."""
    sqs = aws.client("sqs")
    url = aws.queue_url(stage.outbox_queue())
    while clock.now() < until:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            desk.advance(step)
            continue
        try:
            desk.client.lambda_.invoke("outbox_worker", sqs_event(batch[0]))
        except Exception:  # noqa: BLE001, S112 (any failure backs the job off: SQS hands it out again later)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=batch[0]["ReceiptHandle"])


def test_an_ses_outage_of_an_hour_delays_the_acknowledgement_but_loses_nothing(desk):
    start = clock.now()
    ses_down_until(start + timedelta(hours=1))
    ticket_id = desk.post_form(FORM).json_body["ticket"]

    work_the_queue(desk, until=start + timedelta(hours=3))

    [ack] = desk.sent_mail()
    assert ack["to"].endswith("<ivan@example.com>")
    assert Ticket.get(ticket_id).ack_state == "sent"
    assert desk.dead_letters() == []


def test_a_provider_saying_retry_after_1_s_through_an_hour_long_outage_does_not_exhaust_the_tries(
    desk, providers, monkeypatch
):
    """Honoured as is, "retry after 1 s" would spend every try within seconds."""
    back = clock.now() + timedelta(hours=1)
    answer = providers._answer
    monkeypatch.setattr(
        providers,
        "_answer",
        lambda path, payload: (
            answer(path, payload)
            if clock.now() >= back
            else (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
            )
        ),
    )
    desk.post_telegram(
        {
            "update_id": 9,
            "message": {
                "message_id": 1,
                "date": 1795420800,
                "text": "Hi",
                "chat": {"id": 77, "type": "private"},
                "from": {"id": 77, "is_bot": False, "first_name": "Ira"},
            },
        }
    )

    work_the_queue(desk, until=back + timedelta(hours=2))

    assert [m["payload"]["chat_id"] for m in providers.messages("telegram")] == [77]
    assert desk.dead_letters() == []


def test_a_redelivered_job_does_not_send_twice(desk):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()

    outbox.enqueue(job_kinds.ack(ticket_id))  # SQS at-least-once: the same job again
    desk.pump()

    assert len(desk.sent_mail()) == 1


def test_retry_backoff_grows_and_is_capped():
    delays = [outbox.retry_delay(n) for n in range(1, 8)]

    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == outbox.RETRY_MAX_SECONDS


def test_a_mail_that_cannot_be_built_is_skipped_and_the_other_destination_still_gets_it(desk, team, providers):
    """A name stored before intake cleaned names has a line break: the email package refuses to
    build mail to it (header injection). Only that destination is given up, at once — not
    retried five times into the dead-letter queue, where every redrive would fail again."""
    desk.post_chat({"message_id": "c-1", "visitor_id": "v-1", "text": "Hi", "name": "Ann", "email": "ann@example.com"})
    desk.pump()
    [ticket] = list(Ticket.scan())
    ticket.update(actions=[Ticket.customer_name.set("Ann\r\nBcc: someone@example.net")])

    reply = desk.api("POST", f"/api/tickets/{ticket.ticket_id}/reply", team["olena"]["token"], {"text": "Sure!"})
    failures = desk.pump()

    assert reply.status_code == 201 and failures == 0
    assert desk.dead_letters() == []
    assert [m["payload"]["text"] for m in providers.messages("chat")][-1].startswith("Sure!")
    assert len(desk.sent_mail()) == 1  # the acknowledgement, from before; the answer's copy was given up
