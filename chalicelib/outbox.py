"""The outbox: every outbound message is a job on SQS, run by `handle`, retried with backoff,
and parked in the dead-letter queue when it never succeeds (see `redrive`). This module is the
queue and nothing more: what a job carries is `chalicelib/job_kinds.py`, who runs each kind is
`chalicelib/jobs.py`, and what the customer receives is `chalicelib/replies.py`.

A job is JSON `{"kind": "ack", "job_id": "...", "ticket_id": "..."}`. Running a job is
idempotent: its handler claims what it sends (`claim`, `claim_until`) and marks each step sent
(`mark_sent`, `already_sent`), so a redelivered job sends nothing twice (replies.py describes
the one window that remains, between a provider's accept and our record).

A provider outage is waited out: the backoff (30 s doubling to 15 minutes) over MAX_RECEIVES
tries puts the last try `outage_tolerated()` seconds (75 minutes) after the first, and only then
does SQS park the job in the dead-letter queue. Two things shorten that span: a worker that dies
without backing off (Lambda timeout) leaves the queue's 180 s visibility as the wait, and a
provider's Retry-After is honoured as is only on the first retry (later it is a floor under our
backoff — a provider answering "retry after 1 s" through an outage would otherwise spend every
try within a minute).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib import aws, clock, keys, log, stage, transient, writes
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.errors import ProviderError
from chalicelib.models import Key

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 900
MAX_RECEIVES = 10  # the queue's redrive policy moves a job to the DLQ after this many tries
RECORD_SECONDS = 10.0  # in-process retries of a record after the provider accepted (replies.py)
BATCH = 10  # SQS takes at most ten messages per SendMessageBatch

# A job as the queue sees it: a JSON object with a "kind" (chalicelib/job_kinds.py).
Job = Mapping[str, Any]
_RECEIVES: ContextVar[int] = ContextVar("outbox_receives", default=1)


def enqueue(job: Job) -> None:
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(stage.outbox_queue()), MessageBody=json.dumps(job))


def enqueue_many(jobs: Sequence[Job]) -> None:
    """Several jobs in as few SQS calls as can carry them (ten a call): a new ticket's
    acknowledgement and duty offer, a watch run's warnings, a digest's readers."""
    for start in range(0, len(jobs), BATCH):
        _send_batch(jobs[start : start + BATCH])


def _send_batch(jobs: Sequence[Job]) -> None:
    response = aws.client("sqs").send_message_batch(
        QueueUrl=aws.queue_url(stage.outbox_queue()),
        Entries=[{"Id": str(index), "MessageBody": json.dumps(job)} for index, job in enumerate(jobs)],
    )
    failed = response.get("Failed") or []
    if failed:  # a partial failure must fail the webhook, so the provider retries
        # SQS's own trouble (not the sender's fault) is worth a retry now; queueing every job
        # again is harmless, each is idempotent by its job id
        busy = not any(entry.get("SenderFault") for entry in failed)
        error = transient.TransientError if busy else RuntimeError
        raise error(f"SQS refused {len(failed)} of {len(jobs)} outbox jobs")


def enqueue_quietly(job: Job, failure: str, **context: object) -> None:
    """Best effort, for a job whose loss costs less than failing the caller's own work (a survey
    lost to an SQS outage must not turn a close into an error): a failure is logged, not raised."""
    try:
        enqueue(job)
    except Exception:  # noqa: BLE001 - whatever stopped the job, the caller's work is done and stays done
        log.exception(failure, **context)


def retry_delay(receive_count: int) -> int:
    """Seconds before the next try: 30 s, 1 min, 2 min, 4 min... capped at 15 minutes."""
    return min(int(RETRY_BASE_SECONDS * 2 ** max(receive_count - 1, 0)), RETRY_MAX_SECONDS)


def outage_tolerated() -> int:
    """Seconds from a job's first try to its last before the dead-letter queue: a provider down
    for less than this still gets every job once it is back (infra sets the redrive count)."""
    return sum(retry_delay(receives) for receives in range(1, MAX_RECEIVES))


def handle(records: Iterable[Any], dispatch: Callable[[dict[str, Any]], None]) -> None:
    """SQS batch (size 1) from Lambda; `dispatch` runs one job (chalicelib/jobs.py). A failure
    backs the job off and re-raises, so SQS redelivers it later and, after MAX_RECEIVES, moves
    it to the dead-letter queue."""
    for record in records:
        payload = record.to_dict()
        receives = int(payload.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        running = _RECEIVES.set(receives)
        try:
            dispatch(json.loads(record.body))
        except Exception as error:
            log.exception("outbox job failed", message_id=payload.get("messageId"), receives=receives)
            _back_off(record.receipt_handle, _delay_for(error, receives))
            raise
        finally:
            _RECEIVES.reset(running)


def receives() -> int:
    """How many times SQS has handed out the job being run: 1 on its first try."""
    return _RECEIVES.get()


def last_try() -> bool:
    """Whether a failure now parks the job in the dead-letter queue: a handler that must not
    leave its work half done (a file listed as pending for ever) settles it instead."""
    return receives() >= MAX_RECEIVES


def _delay_for(error: Exception, receives: int) -> int:
    """The provider's own Retry-After on the first retry (a one-off rate limit costs seconds,
    not our 30), after that whichever is longer, its wait or our exponential backoff: a
    provider that keeps saying "retry after 1 s" must not spend the tries that carry a job
    through an outage (see `outage_tolerated`)."""
    wanted = getattr(error, "retry_after", None)
    if wanted is None:
        return retry_delay(receives)
    floor = 1 if receives <= 1 else retry_delay(receives)
    return int(min(max(wanted, floor), RETRY_MAX_SECONDS))


def _back_off(receipt_handle: str, seconds: int) -> None:
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=aws.queue_url(stage.outbox_queue()),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=seconds,
        )
    except Exception as error:  # noqa: BLE001 - the queue's own visibility timeout still delays the retry
        log.warning("could not set retry backoff", error=type(error).__name__)


def unless_refused(send: Callable[[], object], refusal: str, **context: object) -> bool:
    """Run one send of a job; True if it went. A refusal no retry can fix (a `ProviderError`
    that is not retryable: a rejected address, a blocked bot) is logged as `refusal` and is
    False, so the job goes on with its other destinations; anything else raises, and the job
    is retried."""
    try:
        send()
    except ProviderError as error:
        if error.retryable:
            raise
        log.warning(refusal, **context, reason=str(error))
        return False
    return True


def mark_sent(step: str, ticket_id: str | None = None, *, forget_after: timedelta | None = None) -> None:
    """Record that `step` went out (for sends that are not messages to the customer), retried
    in-process: it follows a send, and a job retried for want of it would send again. A marker
    with `forget_after` expires (TTL) then: for steps nobody asks about once no retry can come."""
    expires = clock.now() + forget_after if forget_after is not None else None
    transient.call(
        lambda _: Key(keys.sent(step), ticket_id=ticket_id, expires=expires).save(),
        transient.Deadline(RECORD_SECONDS),
        what="mark sent",
    )


def already_sent(step: str, read: AlreadyRead = NOTHING) -> bool:
    """Strongly consistent: an eventually consistent read may miss a marker written a moment
    ago by the try before, and send the step again. `read`: the job read the marker already."""
    if read.knows(keys.sent(step)):
        return read.item(keys.sent(step)) is not None
    try:
        Key.get(keys.sent(step), consistent_read=True)
    except Key.DoesNotExist:
        return False
    return True


def claim_until(key: str, owner: str, until: datetime, now: datetime) -> bool:
    """Hold `key` for `owner` until `until`: False while someone else holds it. The same owner
    (a redelivered job) may claim again."""
    return writes.put_if(*hold(key, owner, until, now))


def hold(key: str, owner: str, until: datetime, now: datetime) -> tuple[Key, Condition]:
    """The item and condition of a `claim_until` hold, for a caller that writes it in a
    transaction with other writes (the acknowledgement's cooldown with its rate limits)."""
    guard = Key(key, owner=owner, until=until, expires=until + timedelta(days=1))
    return guard, Key.key.does_not_exist() | (Key.until < now) | (Key.owner == owner)


def release(key: str, owner: str) -> None:
    """Give back a `claim_until` hold, if `owner` still holds it."""
    writes.delete_if(Key(key), Key.owner == owner)


def claim(job_id: str, nonce: str) -> bool:
    """One job per logical send: a job queued by a concurrent run of a schedule finds the claim
    taken; a redelivery of the same job (same nonce) may claim again."""
    return writes.put_if(Key(keys.claim(job_id), owner=nonce), Key.key.does_not_exist() | (Key.owner == nonce))


def redrive(limit: int = 1000) -> int:
    """Move jobs from the dead-letter queue back to the outbox; returns how many moved."""
    target = aws.queue_url(stage.outbox_queue())
    return drain(
        aws.queue_url(stage.resource("outbox-dlq")),
        lambda body: aws.client("sqs").send_message(QueueUrl=target, MessageBody=body),
        limit,
    )


def drain(queue_url: str, hand_on: Callable[[str], object], limit: int) -> int:
    """Hand each message of a dead-letter queue on, then delete it (a message whose hand-on
    raised stays parked); returns how many went. A redrive is a deliberate act: `limit` bounds it."""
    sqs = aws.client("sqs")
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for message in batch:
            hand_on(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
