"""The outbox: every outbound message is a job on SQS, sent by `handle`, retried with
backoff, and parked in the dead-letter queue when it never succeeds (see `redrive`).

A job is JSON `{"kind": "ack", "job_id": "...", "ticket_id": "..."}`. Sending is
idempotent per job: the ticket records what went out, so a redelivered job sends nothing
twice (only a crash between the provider's accept and our record can repeat a send).

A provider outage is waited out: the backoff (30 s doubling to 15 minutes) over MAX_RECEIVES
tries puts the last try `outage_tolerated()` seconds (75 minutes) after the first, and only then
does SQS park the job in the dead-letter queue. Two things shorten that span: a worker that dies
without backing off (Lambda timeout) leaves the queue's 180 s visibility as the wait, and a
provider's Retry-After is honoured as is only on the first retry (later it is a floor under our
backoff — a provider answering "retry after 1 s" through an outage would otherwise spend every
try within a minute).

The window that remains: a send the provider accepted but we did not record. Every destination
is sent as a step — send, then one transaction that writes the message and its `sent#<step>`
marker — and a retried job skips the steps whose marker exists (read strongly consistently).
The record is retried in-process on throttling, conflicts and timeouts (`RECORD_SECONDS`), so
only these still repeat a send, once per such failure: the worker dies (timeout, out of memory)
between the provider's answer and the record; the record keeps failing past its retries; the
provider accepted but its answer never reached us (a connection dropped or timed out after it
took the message); or SQS hands the same job to two workers at the same moment (at-least-once
delivery) and both send before either records. None of the providers offers an idempotency key
on its send API (SES, Telegram, Viber, Twilio), so the customer then gets that message twice; an
email repeats its Message-ID (an HMAC of the step), which lets mail clients fold the copies.
Nothing is ever lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import (
    aws,
    channels,
    clock,
    customer_text,
    keys,
    limits,
    log,
    mail,
    metrics,
    stage,
    suppression,
    transient,
    writes,
)
from chalicelib.agents import notices
from chalicelib.channels.base import Outgoing
from chalicelib.config import settings
from chalicelib.errors import ConditionFailed
from chalicelib.kpi import usual_wait
from chalicelib.models import Agent, Key, Message, Ticket
from chalicelib.providers import ProviderError
from chalicelib.render import EMAIL_CHANNELS, Rendered, render

# What a person wrote goes out as a person's mail, without Auto-Submitted and
# X-Auto-Response-Suppress: under RFC 3834 an agent's answer is not an automatic reply, and mail
# systems that file away or never answer automatic mail would treat it as a robot's. Everything
# else the desk sends on its own (acknowledgements, "solved?", surveys) stays automatic.
PERSONAL = frozenset({"answer"})
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 900
MAX_RECEIVES = 10  # the queue's redrive policy moves a job to the DLQ after this many tries
RECORD_SECONDS = 10.0  # in-process retries of a record after the provider accepted (see above)


def enqueue(job: dict[str, Any]) -> None:
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(stage.outbox_queue()), MessageBody=json.dumps(job))


def enqueue_ack(ticket_id: str) -> None:
    enqueue({"kind": "ack", "job_id": f"ack-{ticket_id}", "ticket_id": ticket_id})


def enqueue_many(jobs: list[dict[str, Any]]) -> None:
    """Several jobs in one SQS call (a new ticket's acknowledgement and duty offer)."""
    if not jobs:
        return
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


def new_ticket_jobs(ticket_id: str, *, acknowledge: bool, offer: bool) -> list[dict[str, Any]]:
    jobs = [{"kind": "ack", "job_id": f"ack-{ticket_id}", "ticket_id": ticket_id}] if acknowledge else []
    if offer:
        jobs.append({"kind": "offer", "job_id": f"offer-{ticket_id}", "ticket_id": ticket_id})
    return jobs


def retry_delay(receive_count: int) -> int:
    """Seconds before the next try: 30 s, 1 min, 2 min, 4 min... capped at 15 minutes."""
    return min(RETRY_BASE_SECONDS * 2 ** max(receive_count - 1, 0), RETRY_MAX_SECONDS)


def outage_tolerated() -> int:
    """Seconds from a job's first try to its last before the dead-letter queue: a provider down
    for less than this still gets every job once it is back (infra sets the redrive count)."""
    return sum(retry_delay(receives) for receives in range(1, MAX_RECEIVES))


def handle(records: Iterable[Any]) -> None:
    """SQS batch (size 1) from Lambda. A failure backs the job off and re-raises, so SQS
    redelivers it later and, after MAX_RECEIVES, moves it to the dead-letter queue."""
    for record in records:
        payload = record.to_dict()
        receives = int(payload.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            process(json.loads(record.body))
        except Exception as error:
            log.exception("outbox job failed", message_id=payload.get("messageId"), receives=receives)
            _back_off(record.receipt_handle, _delay_for(error, receives))
            raise


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
    except Exception as error:  # the queue's own visibility timeout still delays the retry
        log.warning("could not set retry backoff", error=type(error).__name__)


def process(job: dict[str, Any]) -> None:
    handler = JOBS.get(str(job.get("kind")))
    if handler is None:
        raise ValueError(f"unknown outbox job kind {job.get('kind')!r}")
    handler(job)


def send_ack(job: dict[str, Any]) -> None:
    """The acknowledgement: on the customer's own channel, and by email too when we know
    their address (each destination is sent at most once, see `deliver`)."""
    ticket = Ticket.get(job["ticket_id"])
    if ticket.ack_state != "pending":
        return  # sent already (a redelivered job), suppressed or failed for good
    now = clock.now()
    if not _claim_cooldown(ticket, job["job_id"], now):
        _mark_ack(ticket, "suppressed")
        log.info("acknowledgement suppressed by cooldown", ticket_id=ticket.ticket_id)
        return
    wait = usual_wait.wait_for(ticket, now)  # "we usually answer within …", only when true and worth saying
    context = {**message_context(ticket), **ack_echo(ticket), **({"usual": wait.median} if wait else {})}
    outcome = deliver_screened(ticket, job["job_id"], "ack", context, now)
    _mark_ack(ticket, outcome.ack_state, usual_by=wait.by if wait and outcome.delivered else None)


def send_answer(job: dict[str, Any]) -> None:
    """An agent's answer, signed with their name, on the ticket's channel (and by email for
    a chat whose visitor left an address). The answer is on the ticket already; this sends it."""
    ticket = Ticket.get(job["ticket_id"])
    answer = Message.get(ticket.ticket_id, job["message_key"])
    agent = Agent.get(answer.author)
    context = {
        **message_context(ticket),
        "text": answer.body,
        "agent_name": agent.full_name,
        "agent_first_name": agent.first_name,
        "introduce": bool(job.get("introduce")),
    }
    deliver_everywhere(ticket, job["job_id"], "answer", context, clock.now(), record=False)


def send_solved(job: dict[str, Any]) -> None:
    """ "We think this is solved — is it?" with the signed confirm link and the good/bad rating
    links, on the customer's channel."""
    from chalicelib.feedback import confirm, csat  # feedback builds on the outbox, not vice versa

    ticket = Ticket.get(job["ticket_id"])
    if ticket.status != "solved" or ticket.automated:
        return  # reopened or closed meanwhile; robots are not asked
    now = clock.now()
    agent = Agent.get(job["agent_id"])
    context = {
        **message_context(ticket),
        "agent_name": agent.full_name,
        "confirm_url": confirm.confirm_url(ticket, now),
        "quiet_close": settings().desk.quiet_close_span,
        "rate_url": csat.rate_url(ticket),  # messengers and SMS: one link, the page offers both
        "rate_good_url": csat.rate_url(ticket, "good"),
        "rate_bad_url": csat.rate_url(ticket, "bad"),
    }
    deliver_everywhere(ticket, job["job_id"], "solved", context, now)


def deliver_everywhere(
    ticket: Ticket, job_id: str, message: str, context: dict[str, Any], now: datetime, *, record: bool = True
) -> bool:
    """Send `message` to every destination of the ticket; True if any accepted it."""
    return deliver_screened(ticket, job_id, message, context, now, record=record).delivered


@dataclass(frozen=True)
class Outcome:
    """What became of one message's destinations."""

    delivered: bool  # at least one accepted it
    withheld: bool  # at least one was withheld on purpose (suppressed address, acknowledgement limit)

    @property
    def ack_state(self) -> str:
        return "sent" if self.delivered else "suppressed" if self.withheld else "failed"


def deliver_screened(
    ticket: Ticket, job_id: str, message: str, context: dict[str, Any], now: datetime, *, record: bool = True
) -> Outcome:
    """Send `message` to every destination of the ticket that may have it (see `withhold`). A
    refusal no retry can fix is logged and skipped; anything else raises, so the job is retried."""
    delivered = withheld = False
    for step, channel, address in _destinations(ticket, job_id):
        if withhold(step, ticket, channel, address, message, now):
            withheld = True
            continue
        try:
            deliver(step, ticket, channel, address, message, context, now, record=record)
            delivered = True
        except ProviderError as error:
            if error.retryable:
                raise
            log.warning(
                "refused for good", ticket_id=ticket.ticket_id, kind=message, channel=channel, reason=str(error)
            )
    return Outcome(delivered=delivered, withheld=withheld)


def _destinations(ticket: Ticket, job_id: str) -> list[tuple[str, str, str]]:
    destinations = [(job_id, ticket.channel, ticket.address)]
    if ticket.email and ticket.channel not in EMAIL_CHANNELS:
        destinations.append((f"{job_id}-email", "email", ticket.email))
    return destinations


def message_context(ticket: Ticket) -> dict[str, Any]:
    """What every message to the customer knows of their ticket."""
    return {
        "desk_name": settings().desk.name,
        "ticket_ref": ticket.ticket_id,
        "subject": ticket.subject,
        "customer_name": ticket.customer_name,
        "due": ticket.promised_at,
        "tz": ticket.timezone,
        "channel": ticket.channel,
        "unverified_for": ticket.requester_unverified,
    }


def ack_echo(ticket: Ticket) -> dict[str, str]:
    """The customer's name and subject as an acknowledgement may repeat them: it goes out
    without a person, so nothing a stranger typed may turn it into their advert (customer_text)."""
    return {
        "customer_name": customer_text.echo_name(ticket.customer_name),
        "subject": customer_text.echo_subject(ticket.subject),
    }


# Withheld destinations --------------------------------------------------------------------------
WITHHELD = "withheld"  # the owner of a `sent#<step>` marker that settled a step without sending it
WHAT = {"ack": "Acknowledgement", "answer": "Answer", "solved": 'The "solved?" message', "nps": "NPS survey"}


def withhold(step: str, ticket: Ticket, channel: str, address: str, message: str, now: datetime) -> bool:
    """True if this email destination must not get `message`: its address is on the suppression
    list (SES reported a hard bounce or a complaint), or it is an acknowledgement over a limit of
    desk.toml [limits]. The destination is then settled — its `sent#<step>` marker written with
    an event on the ticket saying why — so a redelivered job does not ask again. Messenger
    destinations are never withheld: they answer the person the provider authenticated."""
    if channel not in EMAIL_CHANNELS:
        return False
    listed = suppression.suppressed(address)
    if listed is not None:
        why = f"the address is on the suppression list ({listed}, reported by SES)"
        log.info("email withheld", ticket_id=ticket.ticket_id, kind=message, why=listed)
        return _settle_withheld(ticket, step, message, why, now, undeliverable=listed)
    if message != "ack":
        return False
    refusal = limits.admit_ack_email(step, address, now)
    if refusal is None:
        return False
    metrics.count(metrics.ACKS_REFUSED, limit=refusal.scope)
    log.warning("acknowledgement over a limit", ticket_id=ticket.ticket_id, limit=refusal.scope, cap=refusal.cap)
    return _settle_withheld(ticket, step, message, refusal.reason, now)


def _settle_withheld(
    ticket: Ticket, step: str, message: str, why: str, now: datetime, *, undeliverable: str | None = None
) -> bool:
    """The event an agent reads, the step's marker and (for a suppressed address) the ticket's
    `email_undeliverable`, at once. If the step was settled before, by an earlier try of the job,
    the marker says how: True if it was withheld then, False if it was sent (`deliver` skips it)."""
    event = Message(
        ticket.ticket_id,
        f"{clock.iso(now)}#{step}-withheld",
        message_id=f"{step}-withheld",
        direction="event",
        kind="withheld",
        channel="email",
        author="desk",
        created_at=now,
        body=f"{WHAT.get(message, message)} not sent by email: {why}.",
    )
    try:
        with writes.transaction() as transaction:
            transaction.save(
                Key(keys.sent(step), ticket_id=ticket.ticket_id, owner=WITHHELD), condition=Key.key.does_not_exist()
            )
            transaction.save(event)
            if undeliverable is not None and ticket.email_undeliverable is None:
                transaction.update(  # type: ignore[unreachable]  # null=True: PynamoDB types it as never None
                    ticket, actions=[Ticket.email_undeliverable.set(undeliverable)], add_version_condition=False
                )  # a fact about the address, not an edit
    except ConditionFailed:
        return Key.get(keys.sent(step), consistent_read=True).owner == WITHHELD
    return True


def deliver(
    step: str,
    ticket: Ticket,
    channel: str,
    address: str,
    message: str,
    context: dict[str, Any],
    now: datetime,
    *,
    record: bool = True,
) -> None:
    """Render `message` for `channel` and send it to `address` once: a step already recorded
    as sent is skipped, and the send is recorded on the ticket in one transaction (`record`
    False: the message is on the ticket already, as an agent's answer is)."""
    if already_sent(step):
        return
    rendered = render(message, ticket.language, context, channel=channel)
    if channel in EMAIL_CHANNELS:
        provider_id, thread_ids = _send_email(
            step, ticket, address, str(context.get("customer_name") or ""), rendered, automatic=message not in PERSONAL
        )
        channel = "email"
    else:
        outgoing = Outgoing(
            channel=channel,
            address=address,
            text=rendered.text.strip(),
            job_id=step,
            ticket_id=ticket.ticket_id,
            language=ticket.language,
        )
        provider_id, thread_ids = channels.adapter(channel).send(outgoing), []
    _record_sent(ticket, step, message, channel, rendered, provider_id, thread_ids, now, record=record)
    log.info("message sent", ticket_id=ticket.ticket_id, kind=message, channel=channel)


def _send_email(
    step: str, ticket: Ticket, address: str, name: str, rendered: Rendered, *, automatic: bool
) -> tuple[str, list[str]]:
    desk = settings().desk
    msg_id = mail.message_id(desk.sender, step)
    envelope = mail.Envelope(
        sender=desk.sender,
        sender_name=desk.name,
        to=address,
        to_name=name,
        language=ticket.language,
        in_reply_to=ticket.thread_ref,
        automatic=automatic,
    )
    provider_id = mail.send(envelope, rendered, msg_id)
    return provider_id, mail.delivered_ids(msg_id, provider_id, stage.region())


def mark_sent(step: str, ticket_id: str | None = None) -> None:
    """Record that `step` went out (for sends that are not messages to the customer), retried
    in-process: it follows a send, and a job retried for want of it would send again."""
    transient.call(
        lambda _: Key(keys.sent(step), ticket_id=ticket_id).save(), transient.Deadline(RECORD_SECONDS), what="mark sent"
    )


def already_sent(step: str) -> bool:
    """Strongly consistent: an eventually consistent read may miss a marker written a moment
    ago by the try before, and send the step again."""
    try:
        Key.get(keys.sent(step), consistent_read=True)
    except Key.DoesNotExist:
        return False
    return True


def _claim_cooldown(ticket: Ticket, job_id: str, now: datetime) -> bool:
    """At most one acknowledgement per address per cooldown: two desks never ping-pong."""
    until = now + settings().desk.ack_cooldown_span
    return claim_until(keys.ack_guard(ticket.channel, ticket.address), job_id, until, now)


def claim_until(key: str, owner: str, until: datetime, now: datetime) -> bool:
    """Hold `key` for `owner` until `until`: False while someone else holds it. The same owner
    (a redelivered job) may claim again."""
    guard = Key(key, owner=owner, until=until, expires=until + timedelta(days=1))
    return writes.put_if(guard, Key.key.does_not_exist() | (Key.until < now) | (Key.owner == owner))


def release(key: str, owner: str) -> None:
    """Give back a `claim_until` hold, if `owner` still holds it."""
    writes.delete_if(Key(key), Key.owner == owner)


def _mark_ack(ticket: Ticket, state: str, *, usual_by: datetime | None = None) -> None:
    """Settle the acknowledgement; `usual_by` (what its "usually" meant) rides on the same write."""
    actions = [Ticket.ack_state.set(state)]
    if usual_by is not None:
        actions.append(Ticket.usual_by.set(usual_by))
    # Guarded by its own condition, not the version: agents may edit meanwhile. When it fails, a
    # concurrent run of the same job already settled it.
    writes.update_if(ticket, actions, Ticket.ack_state == "pending", add_version_condition=False)


def _record_sent(
    ticket: Ticket,
    step: str,
    kind: str,
    channel: str,
    rendered: Rendered,
    provider_id: str,
    thread_ids: list[str],
    now: datetime,
    *,
    record: bool,
) -> None:
    """The outbound message, its "sent" marker and its thread keys, all at once. The provider
    has accepted the message by now, so a transient failure is retried here rather than by
    the job (which would send again); a marker that exists already was written by a try whose
    answer we lost, or by a concurrent run of the same job: recorded either way."""

    def write(_: int) -> None:
        with writes.transaction() as transaction:
            if record:
                transaction.save(
                    Message(
                        ticket.ticket_id,
                        f"{clock.iso(now)}#{step}",
                        message_id=step,
                        direction="out",
                        kind=kind,
                        channel=channel,
                        author="desk",
                        subject=rendered.subject,
                        body=rendered.text,
                        provider_id=provider_id,
                        created_at=now,
                    )
                )
            transaction.save(Key(keys.sent(step), ticket_id=ticket.ticket_id), condition=Key.key.does_not_exist())
            for thread_id in thread_ids:
                transaction.save(Key(keys.thread_email(thread_id), ticket_id=ticket.ticket_id))

    try:
        transient.call(write, transient.Deadline(RECORD_SECONDS), what="record sent")
    except ConditionFailed:
        pass


def send_digest(job: dict[str, Any]) -> None:
    from chalicelib.kpi.mailing import deliver  # the morning digest is mailed through here too

    deliver(job)


def claim(job_id: str, nonce: str) -> bool:
    """One job per logical send: a job queued by a concurrent run of a schedule finds the claim
    taken; a redelivery of the same job (same nonce) may claim again."""
    return writes.put_if(Key(keys.claim(job_id), owner=nonce), Key.key.does_not_exist() | (Key.owner == nonce))


def send_alert(job: dict[str, Any]) -> None:
    from chalicelib.sla.notify import send  # the SLA watch's warnings travel through here too

    send(job)


def send_survey(job: dict[str, Any]) -> None:
    from chalicelib.feedback.nps import send_survey as send  # the NPS survey is a message too

    send(job)


def send_rating_alert(job: dict[str, Any]) -> None:
    from chalicelib.sla.notify import send_rating_alert as send  # told like an SLA warning

    send(job)


def offer_to_duty(job: dict[str, Any]) -> None:
    from chalicelib.agents.work import offer_to_duty as offer  # agents' work queues jobs here too

    offer(job["ticket_id"])


def send_token_notice(job: dict[str, Any]) -> None:
    """An agent is told of a token someone else issued for them, once (chalicelib/agents/notices.py)."""
    if already_sent(job["job_id"]):
        return
    notices.send_token_issued(job)
    mark_sent(job["job_id"])


JOBS: dict[str, Callable[[dict[str, Any]], None]] = {
    "ack": send_ack,
    "answer": send_answer,
    "offer": offer_to_duty,
    "solved": send_solved,
    "alert": send_alert,
    "digest": send_digest,
    "nps": send_survey,
    "rating_alert": send_rating_alert,
    notices.TOKEN_ISSUED: send_token_notice,
}


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
