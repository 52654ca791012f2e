"""Normalized inbound message → ticket: dedupe, thread, route, start the SLA clock, store.

The webhook path costs three AWS calls for a new ticket: one BatchGetItem over the lookup
keys (delivery, contacts, threads), one TransactWriteItems that stores everything at once,
and one SQS batch send for the new ticket's job (its acknowledgement and its offer to the agent
on duty, chalicelib/new_ticket.py) and any messenger files to fetch. A provider's
redelivery fails the delivery key's condition and becomes a no-op that still answers with the
ticket it created.

Identity is earned, not typed: only an authenticated sender (see `Inbound.trust`) is looked
up as a known customer, continues a ticket, or speaks for an organization. A thread header
or a quoted reference proves nothing — anyone can copy them — so a message that refers to a
ticket whose participant it is not opens a new ticket linked to it and flagged for the agent.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib import clock, customer_text, job_kinds, keys, lifecycle, log, outbox, transient, writes
from chalicelib.attachments import files
from chalicelib.channels.base import AUTHENTICATED, Attachment, Inbound
from chalicelib.config import Settings, settings
from chalicelib.errors import ConditionFailed, Unavailable
from chalicelib.facts import fact
from chalicelib.models import Customer, Key, Message, Ticket
from chalicelib.routing import queue_for

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Retries start within this many seconds of the first try: far inside API Gateway's 29 s and the
# ~15 s Telegram and Twilio wait for an answer, so the provider hears 503 rather than a timeout.
INTAKE_SECONDS = 5.0


@dataclass(frozen=True)
class Receipt:
    """What intake did with a message: the ticket it is on, and whether it was new."""

    ticket_id: str
    created: bool
    duplicate: bool = False


@dataclass
class _Lookup:
    """The exact-match keys one inbound message is looked up by, fetched in one BatchGetItem."""

    delivery: str
    contacts: list[str]
    threads: list[str]
    # the roster of the queue routing picks, this week: a new ticket's job then reads the agents
    # on it with the ticket (job_kinds.TicketNames.on_duty); one more key, no more calls
    roster: str | None = None
    found: dict[str, Key] = field(default_factory=dict)
    consistent: bool = False  # a retry must see what the writer it raced with committed

    def fetch(self) -> None:
        rosters = [self.roster] if self.roster else []
        wanted = list(dict.fromkeys([self.delivery, *self.contacts, *self.threads, *rosters]))
        self.found = {item.key: item for item in Key.batch_get(wanted, consistent_read=self.consistent)}

    def on_duty(self, roster: str) -> list[str] | None:
        """Who is on `roster` as read (None: it was not the roster read)."""
        if roster != self.roster:
            return None
        item = self.found.get(roster)
        return list(((item.data if item is not None else None) or {}).get("agents", []))

    def contact(self) -> Key | None:
        """The first known contact: it carries the customer's id and remembered preferences."""
        return next((self.found[k] for k in self.contacts if k in self.found), None)

    def customer_id(self) -> str | None:
        contact = self.contact()
        return contact.customer_id if contact else None

    def threaded_ticket(self) -> str | None:
        return next((self.found[k].ticket_id for k in self.threads if k in self.found), None)


def receive(message: Inbound) -> Receipt:
    """Store `message` on a new or existing ticket and queue its acknowledgement.

    A lost race is looked up again; throttling, transaction conflicts, 5xx and timeouts are
    retried with jittered backoff (chalicelib/transient.py) for up to INTAKE_SECONDS, each retry
    reading strongly consistently. A retry after the transaction committed but before the jobs
    were queued finds the delivery key and queues what is missing (`_redelivered`), answering as
    for a duplicate. When retries run out: Unavailable (503), and the provider's redelivery (for
    Twilio, its Fallback URL) takes the same path."""
    message = _cleaned(message)
    deadline = transient.Deadline(INTAKE_SECONDS)
    try:
        return transient.call(
            lambda attempt: _receive_once(settings(), message, fresh=attempt > 0),
            deadline,
            also=(ConditionFailed,),  # another writer got there first: look up again
            what="intake",
        )
    except ConditionFailed:
        raise Unavailable("intake kept racing with another delivery of this message; deliver it again") from None
    except Exception as error:
        if transient.is_transient(error):
            raise Unavailable(f"storage is busy ({transient.code(error)}); deliver the message again") from None
        raise


def new_ticket_id(prefix: str) -> str:
    """A short reference customers can quote: prefix + 8 Crockford base32 characters (40 bits)."""
    number = secrets.randbits(40)
    return f"{prefix}-" + "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(35, -1, -5))


def delivery_key(message: Inbound) -> str:
    return keys.delivery(message.channel, message.provider_id)


def contact_keys(message: Inbound) -> list[str]:
    """The sender's proven identities. A claimed or unauthenticated address is none: looked up,
    it would hand a stranger the customer (and their tickets) it names."""
    found = [keys.contact("email", message.email.lower())] if message.email and message.trust == AUTHENTICATED else []
    if message.phone:
        found.append(keys.contact("phone", message.phone))
    if message.channel not in ("email", "form"):
        found.append(keys.contact(message.channel, message.address))
    return list(dict.fromkeys(found))


def thread_keys(message: Inbound) -> list[str]:
    found = [keys.thread_email(ref) for ref in message.thread_refs]
    if message.thread_key:
        found.append(keys.thread(message.channel, message.thread_key))
    return found


def roster_key(desk: Settings, queue: str, now: datetime) -> str:
    """The key of `queue`'s duty roster for the week of `now` (agents/staff.py writes it)."""
    return keys.roster(queue, clock.iso_week(now, desk.desk.timezone))


def _receive_once(desk: Settings, message: Inbound, *, fresh: bool = False) -> Receipt:
    roster = roster_key(desk, queue_for(desk, message), clock.now())
    lookup = _Lookup(delivery_key(message), contact_keys(message), thread_keys(message), roster, consistent=fresh)
    lookup.fetch()
    if lookup.delivery in lookup.found:
        return _redelivered(lookup.found[lookup.delivery].ticket_id or "", message)
    customer_id = lookup.customer_id()
    ticket = _referred_ticket(desk, message, lookup)
    now = clock.now()
    if ticket is not None and not participant(message, ticket, customer_id):
        return _open(desk, message, lookup, customer_id, now, previous=ticket, stranger=True)
    if ticket is not None and continues(desk, ticket, now):
        return _append(desk, message, lookup, ticket, now)
    return _open(desk, message, lookup, customer_id, now, previous=ticket)


def continues(desk: Settings, ticket: Ticket, now: datetime) -> bool:
    """A message joins its conversation's ticket while it is live, or solved within the
    reopen window; after that (or once closed) it opens a new ticket linking the old one."""
    if ticket.status in ("new", "open", "pending"):
        return True
    return (
        ticket.status == "solved"
        and ticket.solved_at is not None
        and now - ticket.solved_at <= desk.desk.reopen_window_span
    )


def _referred_ticket(desk: Settings, message: Inbound, lookup: _Lookup) -> Ticket | None:
    """The ticket this message refers to: by thread key, else by a reference in the subject.
    Whether it may continue that ticket is `participant`'s question."""
    ticket_id = lookup.threaded_ticket() or _reference_in(desk, message.subject)
    if ticket_id is None:
        return None
    try:
        return Ticket.get(ticket_id, consistent_read=lookup.consistent)
    except Ticket.DoesNotExist:
        return None


def participant(message: Inbound, ticket: Ticket, customer_id: str | None) -> bool:
    """Whether the sender is the ticket's own correspondent: its customer, found by a proven
    identity, or the proven address the desk writes to on it (a form's customer answering
    our email from that mailbox)."""
    if customer_id is not None and customer_id == ticket.customer_id:
        return True
    if message.trust != AUTHENTICATED or not message.email:
        return False
    ours = {(ticket.email or "").lower(), ticket.address.lower() if ticket.channel == "email" else ""}
    return message.email.lower() in ours - {""}


def _reference_in(desk: Settings, subject: str) -> str | None:
    pattern = rf"\[({re.escape(desk.desk.ticket_prefix)}-[{_CROCKFORD}]{{8}})\]"
    match = re.search(pattern, subject.upper())
    return match.group(1) if match else None


def _redelivered(ticket_id: str, message: Inbound) -> Receipt:
    """A provider retry: nothing new to store. The first delivery may have stored the ticket
    and failed before its jobs were queued, so every job whose effect the ticket does not show
    yet is queued again: the new ticket's job while `ack_state` is pending or nobody owns the
    live ticket. It is idempotent (the ack's `sent#` marker and `ack_state`; the offer returns
    once someone owns the ticket), so queueing one that is already on the queue costs one
    message, never a second send. So is the fetch of the
    message's messenger files while any is pending (`_refetch`)."""
    ticket = Ticket.get(ticket_id, consistent_read=True)  # written in the same transaction as the key
    outbox.enqueue_many(
        [
            *_new_ticket_job(ticket, acknowledge=ticket.ack_state == "pending", offer=awaits_offer(ticket)),
            *_refetch(ticket_id, message),
        ]
    )
    log.info("duplicate delivery", ticket_id=ticket_id)
    return Receipt(ticket_id=ticket_id, created=False, duplicate=True)


def _new_ticket_job(
    ticket: Ticket, *, acknowledge: bool, offer: bool, on_duty: list[str] | None = None
) -> list[job_kinds.Job]:
    """The new ticket's job (if it owes anything), naming what the job reads with the ticket."""
    names = job_kinds.ticket_names(
        channel=ticket.channel,
        address=ticket.address,
        email=ticket.email,
        queue=ticket.queue,
        acknowledge=acknowledge,
        offer=offer,
        on_duty=on_duty if offer else None,
    )
    return job_kinds.new_ticket(ticket.ticket_id, acknowledge=acknowledge, offer=offer, names=names)


def awaits_offer(ticket: Ticket) -> bool:
    """Whether routing still owes this ticket its offer to the agent on duty."""
    return (
        ticket.assignee is None
        and ticket.automated is None  # type: ignore[unreachable]  # null=True: PynamoDB types it as never None
        and ticket.status in lifecycle.LIVE
    )


def _open(
    desk: Settings,
    message: Inbound,
    lookup: _Lookup,
    customer_id: str | None,
    now: datetime,
    previous: Ticket | None,
    *,
    stranger: bool = False,
) -> Receipt:
    """A new ticket; `previous` is the one it continues, or — from a `stranger` to it — the one
    it refers to, flagged so the agent checks who this is before sharing anything."""
    customer = _customer(message, lookup.contact(), now)
    ticket = _new_ticket(desk, message, customer, now)
    ticket.previous_ticket = previous.ticket_id if previous is not None else None
    ticket.stranger_to = previous.ticket_id if previous is not None and stranger else None
    items = _new_ticket_items(desk, message, lookup, ticket, customer, customer_id, now)
    _commit(items)
    on_duty = lookup.on_duty(roster_key(desk, ticket.queue, now))  # None if routed elsewhere after all
    outbox.enqueue_many(  # one SQS call for them all: files to fetch add no call to intake
        [
            *_new_ticket_job(
                ticket, acknowledge=ticket.ack_state == "pending", offer=ticket.automated is None, on_duty=on_duty
            ),
            *_fetches(items),
        ]
    )
    log.info(
        "ticket opened",
        ticket_id=ticket.ticket_id,
        channel=message.channel,
        queue=ticket.queue,
        automated=message.automated,
        trust=message.trust,
        stranger_to=ticket.stranger_to,
    )
    return Receipt(ticket_id=ticket.ticket_id, created=True)


def _new_ticket_items(
    desk: Settings,
    message: Inbound,
    lookup: _Lookup,
    ticket: Ticket,
    customer: Customer,
    customer_id: str | None,
    now: datetime,
) -> list[tuple[Model, Condition | None]]:
    """Everything a new ticket writes in its one transaction: the delivery (once only), the
    ticket, its first message and fact, a new customer, their new contacts, its thread keys."""
    created = {
        "priority": ticket.priority,
        "automated": ticket.automated,
        "subject": ticket.subject,
        "promised_at": clock.iso(ticket.promised_at) if ticket.promised_at else None,
    }
    items: list[tuple[Model, Condition | None]] = [
        (Key(lookup.delivery, ticket_id=ticket.ticket_id), Key.key.does_not_exist()),
        (ticket, Ticket.ticket_id.does_not_exist()),
        (_inbound_message(message, ticket.ticket_id, now), None),
        (fact(desk, ticket, "created", now, created), None),
    ]
    if customer_id is None:
        items.append((customer, Customer.customer_id.does_not_exist()))
    items += [
        (
            Key(k, customer_id=customer.customer_id, language=customer.language, timezone=customer.timezone),
            Key.key.does_not_exist(),
        )
        for k in lookup.contacts
        if k not in lookup.found
    ]
    items += [(Key(k, ticket_id=ticket.ticket_id), None) for k in _own_thread_keys(message)]
    return items


def _append(desk: Settings, message: Inbound, lookup: _Lookup, ticket: Ticket, now: datetime) -> Receipt:
    """A follow-up joins its ticket (no second acknowledgement); the customer writing again
    brings a pending ticket back to open and reopens a recently solved one."""
    reopened = ticket.status == "solved"
    lifecycle.customer_wrote(desk, ticket, now)
    ticket.message_count = int(ticket.message_count or 0) + 1
    items: list[tuple[Model, Condition | None]] = [
        (Key(lookup.delivery, ticket_id=ticket.ticket_id), Key.key.does_not_exist()),
        (_inbound_message(message, ticket.ticket_id, now), None),
        (ticket, None),  # its version check makes a concurrent change retry with a fresh read
    ]
    items += [(Key(k, ticket_id=ticket.ticket_id), None) for k in _own_thread_keys(message)]
    if reopened:
        items.append((fact(desk, ticket, "reopened", now, {}), None))
    _commit(items)
    outbox.enqueue_many(_fetches(items))  # none (no call) unless it brought messenger files
    log.info("message threaded", ticket_id=ticket.ticket_id, channel=message.channel, reopened=reopened)
    return Receipt(ticket_id=ticket.ticket_id, created=False)


def _customer(message: Inbound, contact: Key | None, now: datetime) -> Customer:
    """The customer for a new ticket. A known one is rebuilt from the contact key (which
    remembers their language and zone) so the webhook path needs no extra read."""
    if contact is not None:
        return Customer(
            contact.customer_id,
            name=message.name,
            language=message.language or contact.language,
            timezone=message.timezone or contact.timezone,
            created_at=now,
        )
    return Customer(
        f"C-{secrets.token_hex(8)}",
        name=message.name,
        email=message.email,
        phone=message.phone,
        language=message.language,
        timezone=message.timezone,
        created_at=now,
    )


def _new_ticket(desk: Settings, message: Inbound, customer: Customer, now: datetime) -> Ticket:
    wants_ack = message.automated is None and bool(message.address) and may_acknowledge(desk, message)
    ticket = Ticket(
        new_ticket_id(desk.desk.ticket_prefix),
        customer_id=customer.customer_id,
        customer_name=message.name or customer.name,
        channel=message.channel,
        address=message.address,
        email=message.email,
        subject=message.subject or _first_line(message.body),
        status="new",
        priority="normal",
        queue=queue_for(desk, message),
        language=desk.language(message.language or customer.language),
        timezone=message.timezone or customer.timezone or desk.desk.timezone,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        ack_state="pending" if wants_ack else "none",
        automated=message.automated,
        thread_ref=message.provider_id if message.channel == "email" else None,
        message_count=1,
        sender_trust=message.trust,
        sender_auth=message.auth,
    )
    _check_requester(desk, message, ticket)
    lifecycle.open_clocks(desk, ticket)
    ticket.promised_at = ticket.first_response_due if wants_ack else None
    return ticket


def may_acknowledge(desk: Settings, message: Inbound) -> bool:
    """An automatic email answer goes only to the proven sender of the mail, so a forged From or
    a Reply-To cannot aim the desk's mail at a third party. Unauthenticated mail still becomes a
    ticket that a person answers; a desk may choose to acknowledge it all the same."""
    if message.channel != "email" or desk.desk.acknowledge_unauthenticated_email:
        return True
    return message.trust == AUTHENTICATED and message.address == message.email


def _check_requester(desk: Settings, message: Inbound, ticket: Ticket) -> None:
    """Only listed people may ask on behalf of an organization, and only with a proven address:
    anyone else from its domain — or a listed address typed into a form, or mail that failed its
    checks — is flagged and routed to verification (the acknowledgement says so, politely)."""
    found = desk.organization_of(message.email)
    if found is None:
        return
    key, organization = found
    listed = (message.email or "").lower() in (r.lower() for r in organization.requesters)
    if listed and message.trust == AUTHENTICATED:
        ticket.organization = key
        return
    ticket.requester_unverified = organization.name
    ticket.queue = desk.routing.verification_queue or ticket.queue


def _first_line(body: str, limit: int = 80) -> str:
    line = next((part.strip() for part in body.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _message_id(message: Inbound) -> str:
    """One id per delivery: a retried attempt puts its files under the same keys again."""
    return f"M-{hashlib.sha256(delivery_key(message).encode()).hexdigest()[:16]}"


def _inbound_message(message: Inbound, ticket_id: str, now: datetime) -> Message:
    message_id = _message_id(message)
    return Message(
        ticket_id,
        f"{clock.iso(now)}#{message_id}",
        message_id=message_id,
        direction="in",
        channel=message.channel,
        author="customer",
        subject=message.subject,
        body=message.body,
        attachments=_files(message, ticket_id, message_id),
        provider_id=message.provider_id,
        created_at=now,
        automated=message.automated,
        raw_ref=message.raw_ref,
        trust=message.trust,
        auth=message.auth,
        truncated=list(message.truncated) or None,
    )


def _files(message: Inbound, ticket_id: str, message_id: str) -> list[files.FileEntry]:
    """The message's files as it lists them: email's bytes kept in S3 now (one PutObject each,
    within the desk's caps), a messenger's left PENDING for the fetch job, the rest listed."""
    budget = files.Budget(settings().attachments)
    return [
        _file(message.channel, ticket_id, message_id, index, found, budget)
        for index, found in enumerate(message.attachments)
    ]


def _file(
    channel: str, ticket_id: str, message_id: str, index: int, found: Attachment, budget: files.Budget
) -> files.FileEntry:
    extra: dict[str, str] = {"cid": found.cid} if found.cid else {}

    def listed(state: str, reason: str = "", **more: str) -> files.FileEntry:
        return files.listed(
            name=found.name, declared=found.content_type, size=found.size, state=state, reason=reason, **extra, **more
        )

    if found.quarantined:
        return listed(files.QUARANTINED, found.refused or "SES found a virus in this mail")
    if found.data is not None:
        try:
            return files.keep(
                ticket_id,
                message_id,
                index,
                name=found.name,
                declared=found.content_type,
                data=found.data,
                budget=budget,
                cid=found.cid,
                note=found.note,
            )
        except Exception as error:  # noqa: BLE001 - a file S3 will not take must not lose the message's text
            log.warning("attachment not kept", ticket_id=ticket_id, error=type(error).__name__)
            return listed(files.FAILED, "not kept: storage failed; the whole mail is kept")
    if found.provider_file_id:
        return listed(files.PENDING, provider=channel, source=found.provider_file_id)
    return listed(files.REFUSED, found.refused or "the channel did not hand the file over")


def _fetches(items: list[tuple[Model, Condition | None]]) -> list[job_kinds.Job]:
    """The fetch job of a stored message that lists messenger files still to fetch."""
    return [
        job_kinds.fetch_files(item.ticket_id, item.message_key)
        for item, _ in items
        if isinstance(item, Message) and any(entry.get("state") == files.PENDING for entry in item.attachments or [])
    ]


def _refetch(ticket_id: str, message: Inbound) -> list[job_kinds.Job]:
    """A redelivered message that brought messenger files: its fetch job again, while any is
    pending. Its key holds the time it was first stored, so it is found among the ticket's
    messages by its id (one Query, newest first, only for a redelivery with files)."""
    if not any(found.provider_file_id for found in message.attachments):
        return []
    stored = Message.query(
        ticket_id,
        filter_condition=Message.message_id == _message_id(message),
        scan_index_forward=False,
        consistent_read=True,
    )
    return _fetches([(item, None) for item in stored])


def _own_thread_keys(message: Inbound) -> list[str]:
    """Keys later messages of this conversation will carry: its email Message-ID, its chat."""
    own = [keys.thread_email(message.provider_id)] if message.channel == "email" else []
    if message.thread_key:
        own.append(keys.thread(message.channel, message.thread_key))
    return own


def _commit(items: list[tuple[Model, Condition | None]]) -> None:
    """One all-or-nothing transaction. A failed condition (ConditionFailed) means another writer
    got there first (a concurrent duplicate, a new contact, a status change): the caller retries."""
    with writes.transaction() as transaction:
        for item, condition in items:
            transaction.save(item, condition=condition)


def _cleaned(message: Inbound) -> Inbound:
    """The name and subject without control characters, whatever the channel: a CR/LF in a
    stored name would make every email to the customer unbuildable (see customer_text)."""
    return replace(message, name=customer_text.clean(message.name), subject=customer_text.clean(message.subject))
