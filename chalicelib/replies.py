"""What the customer receives from the desk on its own: the acknowledgement, an agent's answer
and "solved — is it?", on the ticket's channel and by email too when we know their address
(the NPS survey, feedback/nps.py, goes out the same way). Each is an outbox job
(chalicelib/jobs.py runs them); this module renders and sends.

Sending is idempotent per job: every destination is sent as a step — send, then one
transaction that writes the message and its `sent#<step>` marker — and a retried job skips the
steps whose marker exists (read strongly consistently). The record is retried in-process on
throttling, conflicts and timeouts (`outbox.RECORD_SECONDS`), so only these still repeat a send,
once per such failure: the worker dies (timeout, out of memory) between the provider's answer
and the record; the record keeps failing past its retries; the provider accepted but its answer
never reached us (a connection dropped or timed out after it took the message); or SQS hands
the same job to two workers at the same moment (at-least-once delivery) and both send before
either records. None of the providers offers an idempotency key on its send API (SES, Telegram,
Viber, Twilio), so the customer then gets that message twice; an email repeats its Message-ID
(an HMAC of the step), which lets mail clients fold the copies. Nothing is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import (
    already_read,
    channels,
    clock,
    customer_text,
    keys,
    limits,
    log,
    mail,
    metrics,
    outbox,
    suppression,
    transient,
    writes,
)
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.attachments import delivery
from chalicelib.attachments.files import FileEntry
from chalicelib.channels import twilio
from chalicelib.channels.base import Outgoing
from chalicelib.config import settings
from chalicelib.errors import ConditionFailed
from chalicelib.feedback import confirm, csat
from chalicelib.job_kinds import AckJob, AnswerJob, SolvedJob
from chalicelib.kpi import usual_wait
from chalicelib.models import Agent, Key, Message, Ticket
from chalicelib.render import EMAIL_CHANNELS, Rendered, render

# What a person wrote goes out as a person's mail, without Auto-Submitted and
# X-Auto-Response-Suppress: under RFC 3834 an agent's answer is not an automatic reply, and mail
# systems that file away or never answer automatic mail would treat it as a robot's. Everything
# else the desk sends on its own (acknowledgements, "solved?", surveys) stays automatic.
PERSONAL = frozenset({"answer"})


def send_ack(job: AckJob) -> None:
    """The acknowledgement job of a deployed stage's queue (a new ticket's job does it now)."""
    acknowledge(Ticket.get(job["ticket_id"], consistent_read=True), job["job_id"])


def acknowledge(ticket: Ticket, job_id: str, read: AlreadyRead = NOTHING, rider: Rider | None = None) -> None:
    """The acknowledgement: on the customer's own channel, and by email too when we know
    their address (each destination is sent at most once, see `deliver`). `ticket` is read
    strongly consistently (its `ack_state` decides whether to send); it is kept in step with
    what this writes to it, so the caller may go on writing it under its version. `read`: what
    the job read up front (`ack_reads`); `rider`: a write of the ticket its record carries, if
    the acknowledgement is recorded (see `Settle`)."""
    if ticket.ack_state != "pending":
        return  # sent already (a redelivered job), suppressed or failed for good
    now = clock.now()
    claim = _claim_before_send(ticket, job_id, now, read)
    if not claim.held:
        _mark_ack(ticket, "suppressed")
        log.info("acknowledgement suppressed by cooldown", ticket_id=ticket.ticket_id)
        return
    wait = usual_wait.wait_for(ticket, now, read=read)  # "we usually answer within …", only when true and worth saying
    context = {**message_context(ticket), **ack_echo(ticket), **({"usual": wait.median} if wait else {})}
    # "sent" rides on the record of the last destination (one write, not a record and an update)
    settle = Settle({"ack_state": "sent", **({"usual_by": wait.by} if wait else {})}, rider=rider)
    outcome = deliver_screened(ticket, job_id, "ack", context, now, settle=settle, read=read, admitted=claim.admitted)
    if not settle.done:  # nothing went to the last destination (withheld, refused, sent before)
        _mark_ack(ticket, outcome.ack_state, usual_by=wait.by if wait and outcome.delivered else None)


def ack_reads(ticket: Ticket, job_id: str) -> list[str]:
    """The keys `acknowledge` reads, known from the ticket: the usual wait (unless this process
    holds it), each destination's `sent#` marker and an email destination's suppression entry
    (none once it is settled)."""
    if ticket.ack_state != "pending":
        return []
    destinations = _destinations(ticket, job_id)
    return [
        *([keys.USUAL_SUMMARY] if usual_wait.due(clock.now()) else []),
        *(keys.sent(step) for step, _, _ in destinations),
        *(keys.suppressed(address) for _, channel, address in destinations if channel in EMAIL_CHANNELS),
    ]


class Rider(Protocol):
    """A write of the ticket that rides on the acknowledgement's record instead of a transaction of
    its own (routing's offer, agents/work.py RidingOffer): it writes the ticket, with `values`."""

    def write(
        self, transaction: TransactWrite, ticket: Ticket, values: Mapping[str, Any], condition: Condition
    ) -> None: ...

    def written(self, ticket: Ticket) -> None: ...


@dataclass
class Settle:
    """Ticket attributes set with the record of a message's last destination, under the condition
    that its acknowledgement is still pending; `done` once written. A `rider` writes the ticket
    instead, with these values and its own change; refused, the record is tried without it."""

    values: dict[str, Any]
    done: bool = False
    rider: Rider | None = None

    def actions(self) -> list[Action]:
        return [getattr(Ticket, name).set(value) for name, value in self.values.items()]

    def queue(self, transaction: TransactWrite, ticket: Ticket) -> None:
        """The ticket's write on the record's transaction. Its own condition, not the version:
        agents may edit meanwhile (a rider's whole-ticket write checks the version too)."""
        pending = Ticket.ack_state == "pending"
        if self.rider is not None:
            self.rider.write(transaction, ticket, self.values, pending)
        else:
            transaction.update(ticket, self.actions(), condition=pending, add_version_condition=False)

    def apply(self, ticket: Ticket) -> None:
        """The local ticket as the record left it (the transaction moved its version already)."""
        if self.rider is not None:
            self.rider.written(ticket)
        else:
            for name, value in self.values.items():
                setattr(ticket, name, value)
        self.done = True


def send_answer(job: AnswerJob) -> None:
    """An agent's answer, signed with their name, on the ticket's channel (and by email for
    a chat whose visitor left an address). The answer is on the ticket already; this sends it."""
    ticket, answer, agent, read = _answer_reads(job)
    context = {
        **message_context(ticket),
        "text": answer.body,
        "agent_name": agent.full_name,
        "agent_first_name": agent.first_name,
        "introduce": bool(job.get("introduce")),
    }
    deliver_everywhere(
        ticket,
        job["job_id"],
        "answer",
        context,
        clock.now(),
        record=False,
        files=delivery.stored(answer.attachments),
        read=read,
    )


def _answer_reads(job: AnswerJob) -> tuple[Ticket, Message, Agent, AlreadyRead]:
    """The ticket, the answer, its author, and its destinations' `sent#` markers and suppression
    entries: in one consistent BatchGetItem when the job names them (its author, where the ticket
    sends), else one by one as jobs queued before read them."""
    author, to = job.get("author"), job.get("to")
    if author is None or to is None:
        ticket = Ticket.get(job["ticket_id"])
        answer = Message.get(ticket.ticket_id, job["message_key"])
        return ticket, answer, Agent.get(answer.author), NOTHING
    as_queued = Ticket(job["ticket_id"], channel=to["channel"], address=to["address"], email=to["email"])
    destinations = _destinations(as_queued, job["job_id"])
    wanted = [
        *(keys.sent(step) for step, _, _ in destinations),
        *(keys.suppressed(address) for _, channel, address in destinations if channel in EMAIL_CHANNELS),
    ]
    read = already_read.read(
        wanted, ticket_id=job["ticket_id"], message=(job["ticket_id"], job["message_key"]), agents=[author]
    )
    if read.ticket is None or read.message is None:  # not so: asked for, they are there or read raised
        raise Message.DoesNotExist()
    answer = read.message
    agent = read.agents.get(answer.author) or Agent.get(answer.author)  # the author named is the answer's
    return read.ticket, answer, agent, read


def send_solved(job: SolvedJob) -> None:
    """ "We think this is solved — is it?" with the signed confirm link and the good/bad rating
    links, on the customer's channel."""
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
    ticket: Ticket,
    job_id: str,
    message: str,
    context: dict[str, Any],
    now: datetime,
    *,
    record: bool = True,
    files: Sequence[FileEntry] = (),
    read: AlreadyRead = NOTHING,
) -> bool:
    """Send `message` (with an answer's `files`) to every destination of the ticket; True if any
    accepted it. `read`: the destinations' markers and suppression entries the job read already."""
    return deliver_screened(ticket, job_id, message, context, now, record=record, files=files, read=read).delivered


@dataclass(frozen=True)
class Outcome:
    """What became of one message's destinations."""

    delivered: bool  # at least one accepted it
    withheld: bool  # at least one was withheld on purpose (suppressed address, acknowledgement limit)

    @property
    def ack_state(self) -> str:
        return "sent" if self.delivered else "suppressed" if self.withheld else "failed"


def deliver_screened(
    ticket: Ticket,
    job_id: str,
    message: str,
    context: dict[str, Any],
    now: datetime,
    *,
    record: bool = True,
    files: Sequence[FileEntry] = (),
    settle: Settle | None = None,
    read: AlreadyRead = NOTHING,
    admitted: Mapping[str, limits.Refusal | None] | None = None,
) -> Outcome:
    """Send `message` to every destination of the ticket that may have it (see `withhold`). A
    refusal no retry can fix is logged and skipped; anything else raises, so the job is retried.
    `settle` rides on the last destination's record, if it is sent now; `read`: markers and
    suppression entries the job read already; `admitted`: steps counted against the limits
    already, and the cap each would break."""
    delivered = withheld = False
    destinations = _destinations(ticket, job_id)
    for step, channel, address in destinations:
        if withhold(step, ticket, channel, address, message, now, read, admitted or {}):
            withheld = True
            continue
        last = settle if step == destinations[-1][0] else None
        sent = outbox.unless_refused(
            partial(
                deliver,
                step,
                ticket,
                channel,
                address,
                message,
                context,
                now,
                record=record,
                files=files,
                settle=last,
                read=read,
            ),
            "refused for good",
            ticket_id=ticket.ticket_id,
            kind=message,
            channel=channel,
        )
        delivered = delivered or sent
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


def withhold(
    step: str,
    ticket: Ticket,
    channel: str,
    address: str,
    message: str,
    now: datetime,
    read: AlreadyRead = NOTHING,
    admitted: Mapping[str, limits.Refusal | None] | None = None,
) -> bool:
    """True if this email destination must not get `message`: its address is on the suppression
    list (SES reported a hard bounce or a complaint), or it is an acknowledgement over a limit of
    desk.toml [limits]. The destination is then settled — its `sent#<step>` marker written with
    an event on the ticket saying why — so a redelivered job does not ask again. Messenger
    destinations are never withheld: they answer the person the provider authenticated."""
    if channel not in EMAIL_CHANNELS:
        return False
    listed = suppression.suppressed(address, read)
    if listed is not None:
        why = f"the address is on the suppression list ({listed}, reported by SES)"
        log.info("email withheld", ticket_id=ticket.ticket_id, kind=message, why=listed)
        return _settle_withheld(ticket, step, message, why, now, undeliverable=listed)
    if message != "ack":
        return False
    admitted = admitted or {}
    refusal = admitted[step] if step in admitted else limits.admit_ack_email(step, address, now)
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
    files: Sequence[FileEntry] = (),
    settle: Settle | None = None,
    read: AlreadyRead = NOTHING,
) -> None:
    """Render `message` for `channel` and send it to `address` once: a step already recorded
    as sent is skipped, and the send is recorded on the ticket in one transaction (`record`
    False: the message is on the ticket already, as an agent's answer is). An answer's `files`
    go the channel's way (attachments/delivery.py): in the mail, as messages of their own after
    the text (each a step of its own), or as links in the text."""
    if not outbox.already_sent(step, read):
        _send_text(step, ticket, channel, address, message, context, now, record=record, files=files, settle=settle)
    if files and channel not in EMAIL_CHANNELS and delivery.by_message(channel):
        delivery.send_files(step, _outgoing(step, ticket, channel, address, ""), files)


def _outgoing(step: str, ticket: Ticket, channel: str, address: str, text: str) -> Outgoing:
    return Outgoing(
        channel=channel, address=address, text=text, job_id=step, ticket_id=ticket.ticket_id, language=ticket.language
    )


def _send_text(
    step: str,
    ticket: Ticket,
    channel: str,
    address: str,
    message: str,
    context: dict[str, Any],
    now: datetime,
    *,
    record: bool,
    files: Sequence[FileEntry],
    settle: Settle | None = None,
) -> None:
    rendered = render(message, ticket.language, context, channel=channel)
    if channel in EMAIL_CHANNELS:
        parts = delivery.mail_parts(files) if files else []
        if parts is None:  # too big for a mail together: links instead
            rendered = Rendered(
                rendered.subject,
                delivery.with_links(rendered.text, files, now),
                delivery.with_links_html(rendered.html, files, now),
            )
        sent = mail.send_from_desk(
            step,
            rendered,
            to=address,
            to_name=str(context.get("customer_name") or ""),
            language=ticket.language,
            in_reply_to=ticket.thread_ref,
            automatic=message not in PERSONAL,
            files=parts or (),
        )
        provider_id, thread_ids = sent.provider_id, sent.thread_ids
        channel = "email"
    else:
        text = rendered.text.strip()
        if files and not delivery.by_message(channel):  # SMS, chat: the files are links in the text
            text = delivery.with_links(text, files, now, limit=twilio.MAX_TEXT if channel == "sms" else None)
        outgoing = _outgoing(step, ticket, channel, address, text)
        provider_id, thread_ids = channels.adapter(channel).send(outgoing), []
    _record_sent(ticket, step, message, channel, rendered, provider_id, thread_ids, now, record=record, settle=settle)
    log.info("message sent", ticket_id=ticket.ticket_id, kind=message, channel=channel)


@dataclass(frozen=True)
class _Claim:
    """What the acknowledgement took before its first send: the address's cooldown (`held`: ours),
    and the steps counted against the limits with it (each with the cap it would break, or None)."""

    held: bool
    admitted: Mapping[str, limits.Refusal | None]


def _claim_before_send(ticket: Ticket, job_id: str, now: datetime, read: AlreadyRead) -> _Claim:
    """At most one acknowledgement per address per cooldown: two desks never ping-pong. When the
    first destination is an email the limits count (not suppressed, as the job read already), the
    hold and the count are one write (limits.hold_and_admit_ack_email); else the hold alone."""
    until = now + settings().desk.ack_cooldown_span
    hold = outbox.hold(keys.ack_guard(ticket.channel, ticket.address), job_id, until, now)
    step, channel, address = _destinations(ticket, job_id)[0]
    if (
        channel in EMAIL_CHANNELS
        and read.knows(keys.suppressed(address))
        and suppression.suppressed(address, read) is None
    ):
        admission = limits.hold_and_admit_ack_email(hold, step, address, now)
        return _Claim(admission.held, {step: admission.refusal} if admission.held else {})
    return _Claim(writes.put_if(*hold), {})


def _mark_ack(ticket: Ticket, state: str, *, usual_by: datetime | None = None) -> None:
    """Settle the acknowledgement; `usual_by` (what its "usually" meant) rides on the same write."""
    actions: list[Action] = [Ticket.ack_state.set(state)]
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
    settle: Settle | None = None,
) -> None:
    """The outbound message, its "sent" marker, its thread keys and what it `settle`s on the
    ticket, all at once. The provider has accepted the message by now, so a transient failure is
    retried here rather than by the job (which would send again); a marker that exists already was
    written by a try whose answer we lost, or by a concurrent run of the same job: recorded either
    way. A ticket no longer pending (that concurrent run settled it) is recorded without `settle`."""

    def write(settling: Settle | None, _: int) -> None:
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
            if settling is not None:
                settling.queue(transaction, ticket)
        if settling is not None:
            settling.apply(ticket)

    ridden = settle is not None and settle.rider is not None
    for settling in [settle, settle, None] if ridden else [settle, None] if settle is not None else [None]:
        try:
            transient.call(partial(write, settling), transient.Deadline(outbox.RECORD_SECONDS), what="record sent")
            return
        except ConditionFailed:
            if settling is not None:  # a rider refused (the ticket moved on): settle without it
                settling.rider = None
            continue
