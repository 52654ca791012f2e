"""The outbox: every outbound message is a job on SQS, sent by `handle`, retried with
backoff, and parked in the dead-letter queue when it never succeeds (see `redrive`).

A job is JSON `{"kind": "ack", "job_id": "...", "ticket_id": "..."}`. Sending is
idempotent per job: the ticket records what went out, so a redelivered job sends nothing
twice (only a crash between the provider's accept and our record can repeat a send).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from pynamodb.exceptions import PutError
from pynamodb.transactions import TransactWrite

from chalicelib import aws, clock, mail, models, stage
from chalicelib.config import settings
from chalicelib.log import logger
from chalicelib.models import Customer, Key, Message, Ticket
from chalicelib.render import render

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 900
MAX_RECEIVES = 5  # the queue's redrive policy moves a job to the DLQ after this many tries


def enqueue(job: dict[str, Any]) -> None:
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(stage.outbox_queue()), MessageBody=json.dumps(job))


def enqueue_ack(ticket_id: str) -> None:
    enqueue({"kind": "ack", "job_id": f"ack-{ticket_id}", "ticket_id": ticket_id})


def retry_delay(receive_count: int) -> int:
    """Seconds before the next try: 30 s, 1 min, 2 min, 4 min... capped at 15 minutes."""
    return min(RETRY_BASE_SECONDS * 2 ** max(receive_count - 1, 0), RETRY_MAX_SECONDS)


def handle(records: Iterable[Any]) -> None:
    """SQS batch (size 1) from Lambda. A failure backs the job off and re-raises, so SQS
    redelivers it later and, after MAX_RECEIVES, moves it to the dead-letter queue."""
    for record in records:
        payload = record.to_dict()
        receives = int(payload.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            process(json.loads(record.body))
        except Exception:
            logger.exception("outbox job failed", extra={"message_id": payload.get("messageId"), "receives": receives})
            _back_off(record.receipt_handle, receives)
            raise


def _back_off(receipt_handle: str, receives: int) -> None:
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=aws.queue_url(stage.outbox_queue()),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=retry_delay(receives),
        )
    except Exception:  # the queue's own visibility timeout still delays the retry
        logger.warning("could not set retry backoff", exc_info=True)


def process(job: dict[str, Any]) -> None:
    handler = JOBS.get(str(job.get("kind")))
    if handler is None:
        raise ValueError(f"unknown outbox job kind {job.get('kind')!r}")
    handler(job)


def send_ack(job: dict[str, Any]) -> None:
    ticket = Ticket.get(job["ticket_id"])
    if ticket.ack_state != "pending":
        return  # sent already (a redelivered job) or suppressed
    now = clock.now()
    if not _claim_cooldown(ticket, job["job_id"], now):
        _mark_ack(ticket, "suppressed")
        logger.info("acknowledgement suppressed by cooldown", extra={"ticket_id": ticket.ticket_id})
        return
    desk = settings()
    customer = Customer.get(ticket.customer_id)
    context = {
        "desk_name": desk.desk.name,
        "ticket_ref": ticket.ticket_id,
        "subject": ticket.subject,
        "customer_name": customer.name,
        "due": ticket.promised_at,
        "tz": ticket.timezone,
        "channel": ticket.channel,
    }
    rendered = render("ack", ticket.language, context, channel=ticket.channel)
    msg_id = mail.message_id(desk.desk.sender, job["job_id"])
    envelope = mail.Envelope(
        sender=desk.desk.sender, sender_name=desk.desk.name, to=ticket.email or ticket.address,
        to_name=customer.name, language=ticket.language, in_reply_to=ticket.thread_ref,
    )
    provider_id = mail.send(envelope, rendered, msg_id)
    _record_sent(ticket, job["job_id"], rendered.text, rendered.subject, provider_id,
                 mail.delivered_ids(msg_id, provider_id, stage.region()), now)
    logger.info("acknowledgement sent", extra={"ticket_id": ticket.ticket_id, "channel": "email"})


def _claim_cooldown(ticket: Ticket, job_id: str, now: datetime) -> bool:
    """At most one acknowledgement per address per cooldown: two desks never ping-pong."""
    until = now + settings().desk.ack_cooldown_span
    guard = Key(f"ackguard#{ticket.channel}#{ticket.address}", owner=job_id, until=until,
                expires=until + timedelta(days=1))
    try:
        guard.save(condition=Key.key.does_not_exist() | (Key.until < now) | (Key.owner == job_id))
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _mark_ack(ticket: Ticket, state: str) -> None:
    ticket.update(actions=[Ticket.ack_state.set(state)], condition=Ticket.ack_state == "pending")


def _record_sent(ticket: Ticket, job_id: str, body: str, subject: str, provider_id: str,
                 email_ids: list[str], now: datetime) -> None:
    """The outbound message, its thread keys and the ticket's ack state, all at once."""
    record = Message(ticket.ticket_id, f"{clock.iso(now)}#{job_id}", message_id=job_id, direction="out",
                     kind="ack", channel="email", author="desk", subject=subject, body=body,
                     provider_id=provider_id, created_at=now)
    with TransactWrite(connection=models.connection()) as transaction:
        transaction.save(record)
        for email_id in email_ids:
            transaction.save(Key(f"thread#email#{email_id}", ticket_id=ticket.ticket_id))
        transaction.update(ticket, actions=[Ticket.ack_state.set("sent"), Ticket.updated_at.set(now)],
                           condition=Ticket.ack_state == "pending")


JOBS: dict[str, Callable[[dict[str, Any]], None]] = {"ack": send_ack}


def redrive(limit: int = 1000) -> int:
    """Move jobs from the dead-letter queue back to the outbox; returns how many moved."""
    sqs = aws.client("sqs")
    source = aws.queue_url(stage.resource("outbox-dlq"))
    target = aws.queue_url(stage.outbox_queue())
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved

