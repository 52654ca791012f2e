"""What agents do to tickets: list, open, answer, note, take, hand over, assign, change status
and priority, and routing's offer of a new ticket to the agent on duty. Every action is one
transaction with the ticket's version check (chalicelib/tickets.py), and leaves an event on the
ticket (who, what, when) — the audit trail a lead reads. How the API shows a ticket is
`api.ticket_view`; what the console offers an agent on a ticket is `permitted`, from the same
rules the actions check.

Actions read the ticket strongly consistently: the version they write against is then the last
one written, and an action right after another (send, then solve) is not refused as a conflict.

An answer may carry what its writer had seen (`Seen`): if the customer wrote, or another agent
answered or added a note since, it is held (`Stale`, a 409 with the news) rather than sent —
Help Scout's "Traffic Cop". Agent-written entries carry the agent's name (`author_name`) and the
ticket its owner's (`assignee_name`), so a page shows people without reading them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib import clock, facts, job_kinds, lifecycle, outbox, tickets
from chalicelib.agents import duty, paging, staff
from chalicelib.agents.access import Actor, may_see, require, visible_queues, visible_ticket
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.attachments import answers
from chalicelib.config import PRIORITIES, settings
from chalicelib.errors import BadRequest, Conflict
from chalicelib.facts import fact
from chalicelib.models import Agent, Customer, Message, Ticket

LIST_LIMIT = 100
PAGE = 20  # entries of a conversation per page (the console's ticket page loads older ones on demand)
NEWS_LIMIT = 50  # entries shown when an answer is held: what the agent had not seen
ASSIGNERS = ("lead", "admin")  # who may give a ticket to anyone of its queue
TRIES = 3  # of an action whose ticket the desk was writing that moment

P = ParamSpec("P")
R = TypeVar("R")


def again_if_changed(action: Callable[P, R]) -> Callable[P, R]:
    """An agent's action that lost the race with a write of the desk's own (the acknowledgement
    recording its promise, routing's offer, the SLA watch's mark — a new ticket gets two within
    its first second) is done again on a fresh read, up to TRIES times. Its checks run again, so
    an action that no longer holds (someone took the ticket, the customer wrote) is refused for
    that reason; only a ticket changing under every try is the 409 "reload and try again"."""

    @functools.wraps(action)
    def tried(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(TRIES - 1):
            try:
                return action(*args, **kwargs)
            except tickets.Changed:
                continue
        return action(*args, **kwargs)

    return tried


@dataclass(frozen=True)
class Answered:
    """An agent's answer, saved and queued to go out."""

    ticket: Ticket
    message_id: str
    introduced: bool  # signed with an introduction: the ticket was handed to this agent


@dataclass(frozen=True)
class Seen:
    """What an answering agent had in front of them: the ticket's version and the newest entries
    of its conversation — the keys of those written in its newest millisecond (usually one)."""

    version: int
    newest: tuple[str, ...]  # Message.message_key values sharing one time; () when they had seen none

    @classmethod
    def of(cls, version: int, newest: str) -> Seen:
        """From a form: the version, and the keys separated by spaces (at most 20 are read)."""
        return cls(version, tuple(newest.split()[:20]))


def newest_keys(entries: list[Message]) -> tuple[str, ...]:
    """The keys of the entries written in the newest millisecond of `entries` (any order)."""
    if not entries:
        return ()
    moment = max(entry.message_key for entry in entries).split("#", 1)[0]
    return tuple(entry.message_key for entry in entries if entry.message_key.split("#", 1)[0] == moment)


class Stale(Conflict):
    """An answer held because news arrived since its writer looked: a customer message, or another
    agent's answer or note. `entries` is everything after what they had seen, oldest first (the
    news and any events between), and `ticket` the ticket as it is now."""

    def __init__(self, ticket: Ticket, entries: list[Message]) -> None:
        super().__init__(
            "the customer wrote, or someone else answered or added a note, since you opened the ticket:"
            " read it, then send again"
        )
        self.ticket = ticket
        self.entries = entries


@dataclass(frozen=True)
class Permitted:
    """What an actor may do to a ticket as it stands: each action's own checks, asked in advance."""

    answer: bool
    take: bool
    hand_over: bool
    assign: bool
    statuses: tuple[str, ...]  # the statuses it may be moved to
    priority: bool


def permitted(actor: Actor, ticket: Ticket) -> Permitted:
    """The buttons a page offers: exactly the actions that would not be refused now (any agent who
    sees the ticket may add a note)."""
    owns, live = _may_act(actor, ticket), ticket.status in lifecycle.LIVE
    return Permitted(
        answer=owns and ticket.status != "closed",
        take=not ticket.assignee and live,
        hand_over=owns and live,
        assign=actor.role in ASSIGNERS and live,
        statuses=tuple(status for status in lifecycle.ALLOWED if status in lifecycle.ALLOWED[ticket.status])
        if owns
        else (),
        priority=owns and live,
    )


def list_tickets(actor: Actor, queue: str | None = None) -> list[Ticket]:
    """Live tickets of the actor's queues, soonest due first (one Query per queue; of a queue
    with more than LIST_LIMIT, its first in by_queue's order: the breaching soon, then the rest)."""
    found: list[Ticket] = []
    for name in visible_queues(actor, queue, tuple(settings().queues)):
        found += list(Ticket.by_queue.query(name, limit=LIST_LIMIT))
    return sorted(found, key=lambda t: lifecycle.soonest_first(t.due_key))[:LIST_LIMIT]


def list_done(actor: Actor, queue: str | None, limit: int, after: str | None) -> tuple[list[Ticket], str | None]:
    """Solved and closed tickets of the actor's queues, newest first, `limit` at a time, and the
    cursor of the next page (None: no more). A keys-only Query per queue, one BatchGetItem of
    the page (models.py says why the index holds keys only; agents/paging.py how pages merge)."""
    positions = paging.start(after, visible_queues(actor, queue, tuple(settings().queues)))
    page = paging.merge({name: _done_in(name, at, limit + 1) for name, at in positions.items()}, positions, limit)
    found = {ticket.ticket_id: ticket for ticket in Ticket.batch_get([entry.ticket_id for entry in page.entries])}
    return [found[entry.ticket_id] for entry in page.entries if entry.ticket_id in found], page.cursor


def _done_in(queue: str, after: paging.Position, count: int) -> list[paging.Entry]:
    """Up to `count` finished tickets of `queue`, newest first, after the position `after`."""
    start = (
        None
        if after is None
        else {"done_queue": {"S": queue}, "done_at": {"S": after[0]}, "ticket_id": {"S": after[1]}}
    )
    return [
        paging.Entry(
            queue,
            Ticket.done_at.serialize(ticket.done_at),  # type: ignore[no-untyped-call]  # unannotated in PynamoDB
            ticket.ticket_id,
        )
        for ticket in Ticket.by_queue_done.query(queue, scan_index_forward=False, limit=count, last_evaluated_key=start)
    ]


def open_ticket(actor: Actor, ticket_id: str) -> tuple[Ticket, list[Message]]:
    """A ticket with its whole conversation: messages, answers, notes and events, in order."""
    ticket = visible_ticket(actor, ticket_id)
    return ticket, list(Message.query(ticket.ticket_id))


def open_page(actor: Actor, ticket_id: str, limit: int = PAGE) -> tuple[Ticket, list[Message], str | None]:
    """A ticket with the newest `limit` entries of its conversation (oldest first) and the cursor
    of the page before them (None: that was all): one GetItem and one Query, both consistent, so
    a page shown right after an action shows it."""
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    entries, cursor = older(ticket.ticket_id, None, limit)
    return ticket, entries, cursor


def older(ticket_id: str, before: str | None, limit: int = PAGE) -> tuple[list[Message], str | None]:
    """Up to `limit` entries of a ticket's conversation before the cursor `before` (a message key;
    None: the newest), oldest first, and the cursor of the page before those (None: no more). One
    Query: newest first, one entry more than the page to know whether more exist. For a caller
    that has authorized the actor on this ticket."""
    condition = Message.message_key < before if before else None
    found = list(
        Message.query(
            ticket_id, condition, scan_index_forward=False, limit=limit + 1, page_size=limit + 1, consistent_read=True
        )
    )
    page = found[:limit]
    cursor = page[-1].message_key if len(found) > limit else None
    return page[::-1], cursor


def customer_of(actor: Actor, ticket_id: str) -> tuple[Ticket, Customer | None, list[Ticket]]:
    """A ticket, its customer as first stored (None if never stored) and their other tickets the
    actor may see (`customer_tickets`): four calls, for the console's sidebar, loaded after the page."""
    ticket = visible_ticket(actor, ticket_id)
    try:
        customer: Customer | None = Customer.get(ticket.customer_id)
    except Customer.DoesNotExist:
        customer = None
    return ticket, customer, customer_tickets(actor, ticket)


def people_for(actor: Actor, ticket_id: str) -> tuple[Ticket, list[Agent]]:
    """A ticket and who it may be handed over or assigned to: the active agents of its queue but
    its owner (one Scan of the agents table, which is small; only when someone asks)."""
    ticket = visible_ticket(actor, ticket_id)
    agents = [
        agent
        for agent in staff.all_agents()
        if agent.active and ticket.queue in (agent.queues or ()) and agent.agent_id != ticket.assignee
    ]
    return ticket, agents


def customer_tickets(actor: Actor, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other tickets that the actor may see, newest first: one keys-only Query of
    the by_customer index and one BatchGetItem of what it found."""
    hits = Ticket.by_customer.query(ticket.customer_id, scan_index_forward=False, limit=2 * limit, page_size=2 * limit)
    ids = [hit.ticket_id for hit in hits if hit.ticket_id != ticket.ticket_id]
    found = [other for other in Ticket.batch_get(ids) if may_see(actor, other)] if ids else []
    return sorted(found, key=lambda other: other.created_at, reverse=True)[:limit]


def reply(actor: Actor, ticket_id: str, text: str, *, seen: Seen | None = None, files: Sequence[str] = ()) -> Answered:
    """An answer to the customer, sent through the outbox, with the files the agent uploaded for
    it (`files`: upload keys, see attachments/answers.py). With `seen`, it is held (`Stale`) when
    news arrived after what its writer had seen. Text or files, or both: a file alone is an
    answer too ("here is your invoice" is said by the file's name and the agent's signature)."""
    keys = answers.check_keys(files, ticket_id, actor.agent_id)
    if not text.strip() and not keys:
        raise BadRequest("write an answer or attach a file", field="text")
    answered = _reply(actor, ticket_id, text, seen, keys, tickets.new_message_id())
    answers.discard(keys)
    return answered


@again_if_changed
def _reply(actor: Actor, ticket_id: str, text: str, seen: Seen | None, keys: list[str], message_id: str) -> Answered:
    """The answer under `message_id`, chosen once: a try again on a fresh read copies its files
    to the same keys."""
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _check_answerable(actor, ticket)
    if seen is not None:
        _hold_if_news(actor, ticket, seen)
    attached = answers.take(ticket.ticket_id, message_id, ticket.channel, keys)
    now = clock.now()
    desk = settings()
    taken = ticket.assignee is None
    if taken:
        tickets.hand_to(ticket, actor.agent_id, actor.name)
    counts = taken and ticket.status in lifecycle.LIVE  # a solved ticket adds nothing to anyone's load
    introduce = ticket.introduce == actor.agent_id
    ticket.introduce = None
    clocks = _stopped_clocks(ticket, actor, now)
    lifecycle.agent_answered(desk, ticket, now)
    answer = tickets.message(
        ticket,
        now,
        message_id=message_id,
        direction="out",
        kind="answer",
        author=actor.agent_id,
        author_name=actor.name,
        body=text,
        attachments=list(attached),
    )
    records = [answer, *(fact(desk, ticket, kind, now, data) for kind, data in clocks)]
    tickets.commit(ticket, records, load={actor.agent_id: 1} if counts else {})
    to: job_kinds.ReplyTo = {"channel": ticket.channel, "address": ticket.address, "email": ticket.email}
    job = job_kinds.answer(
        ticket.ticket_id, answer.message_id, answer.message_key, introduce=introduce, author=actor.agent_id, to=to
    )
    outbox.enqueue(job)
    return Answered(ticket, answer.message_id, introduce)


def upload(actor: Actor, ticket_id: str, picked: answers.Picked) -> dict[str, Any]:
    """A presigned POST for one file of an answer the actor may write now (the checks of
    `attachments.answers.admit`, the customer's channel's limits among them)."""
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _check_answerable(actor, ticket)
    return answers.upload(ticket.ticket_id, actor.agent_id, ticket.channel, picked)


def _check_answerable(actor: Actor, ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise Conflict("the ticket is closed; the customer's next message opens a new one")
    _check_owner(actor, ticket, "answer")


def _hold_if_news(actor: Actor, ticket: Ticket, seen: Seen) -> None:
    """Raise Stale if the customer, or another agent, wrote on the ticket after `seen`. Every such
    entry is written with the ticket (its version moves), so an unchanged version costs no read;
    else one consistent Query of what came after. An entry that lands after this read moves the
    version, and the answer's version-checked write is refused (a Conflict), never sent blind."""
    if ticket.version == seen.version:
        return
    entries = entries_since(ticket.ticket_id, seen.newest, consistent=True)
    if any(is_news(entry, actor) for entry in entries):
        raise Stale(ticket, entries)


def entries_since(ticket_id: str, newest: tuple[str, ...], *, consistent: bool = False) -> list[Message]:
    """The entries not among `newest` from their millisecond on (`newest_keys`; (): all), oldest
    first, at most NEWS_LIMIT. Keys begin with their time to the millisecond and end with a random
    id, so an entry written in the same millisecond as one seen may sort either side of it: it
    counts as new unless it was seen itself."""
    moment = min((key.split("#", 1)[0] for key in newest), default="")
    after = Message.message_key >= moment if moment else None
    found = Message.query(
        ticket_id, after, consistent_read=consistent, limit=NEWS_LIMIT + len(newest), page_size=NEWS_LIMIT + len(newest)
    )
    return [entry for entry in found if entry.message_key not in newest][:NEWS_LIMIT]


def is_news(entry: Message, actor: Actor) -> bool:
    """What an answer must not be written without seeing: the customer's message, or a person's
    answer or note other than the actor's own (not the desk's automatic messages, not events)."""
    if entry.direction == "in":
        return True
    return entry.direction in ("out", "note") and entry.author not in (actor.agent_id, "desk")


def _stopped_clocks(ticket: Ticket, actor: Actor, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Facts of the response clocks this answer stops, plus the answer itself."""
    stopped = [("answered", {"agent": actor.agent_id})]
    if ticket.first_responded_at is None:
        # priority: the lane of the usual wait (kpi/usual_wait.py); business_seconds: its sample, in the
        # business time it is added back in (a night's wait is not "usual"); usual_by: whether it held
        calendar = settings().calendar_for(ticket.queue)  # type: ignore[unreachable]  # null=True: typed never None
        waited = calendar.between(ticket.created_at, now)
        stopped.append(
            facts.timed(
                "first_response",
                agent=actor.agent_id,
                start=ticket.created_at,
                due=ticket.first_response_due,
                now=now,
                promised_at=_iso(ticket.promised_at),
                priority=ticket.priority,
                usual_by=_iso(ticket.usual_by),
                business_seconds=int(waited.total_seconds()),
            )
        )
    elif ticket.awaiting_since is not None:
        stopped.append(
            facts.timed(
                "next_response",
                agent=actor.agent_id,
                start=ticket.awaiting_since,
                due=ticket.next_response_due,
                now=now,
            )
        )
    return stopped


@again_if_changed
def note(actor: Actor, ticket_id: str, text: str) -> Message:
    """An internal note: stored on the ticket, never sent, never shown to the customer."""
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    now = clock.now()
    ticket.updated_at = now
    entry = tickets.message(
        ticket, now, direction="note", kind="note", author=actor.agent_id, author_name=actor.name, body=text
    )
    tickets.commit(ticket, [entry])
    return entry


@again_if_changed
def take(actor: Actor, ticket_id: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    if ticket.assignee == actor.agent_id:
        return ticket
    if ticket.assignee is not None:
        raise Conflict(f"the ticket is owned by {ticket.assignee}; ask them or a lead for a handover")
    _live(ticket, "take")  # type: ignore[unreachable]  # null=True: PynamoDB types assignee as never None
    return _assign(actor, ticket, actor.agent_id, "took the ticket", introduce=False)


@again_if_changed
def handover(actor: Actor, ticket_id: str, to: str, reason: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _check_owner(actor, ticket, "hand over")
    _live(ticket, "hand over")
    return _assign(actor, ticket, to, f"handed over to {to}: {reason}", introduce=True)


@again_if_changed
def assign(actor: Actor, ticket_id: str, to: str, reason: str) -> Ticket:
    require(actor, *ASSIGNERS)
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _live(ticket, "assign")
    return _assign(actor, ticket, to, f"assigned to {to}: {reason}", introduce=ticket.assignee is not None)


@again_if_changed
def set_status(actor: Actor, ticket_id: str, status: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _check_owner(actor, ticket, "change the status of")
    now = clock.now()
    before = ticket.status
    lifecycle.change_status(settings(), ticket, status, now)
    tickets.commit_status(
        ticket,
        now,
        author=actor.agent_id,
        kind="status",
        body=f"{before} → {status}",
        was_live=before in lifecycle.LIVE,
        before=before,
    )
    if status == "solved":  # ask the customer to confirm, with a signed link
        outbox.enqueue(job_kinds.solved(ticket.ticket_id, ticket.version, actor.agent_id))
    if ticket.status == "closed":  # after the close is saved; the survey decides whether to ask
        outbox.enqueue_quietly(job_kinds.survey(ticket.ticket_id), "nps survey not queued", ticket_id=ticket.ticket_id)
    return ticket


@again_if_changed
def set_priority(actor: Actor, ticket_id: str, priority: str, reason: str | None) -> Ticket:
    if priority not in PRIORITIES:
        raise BadRequest(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    if priority == "urgent" and not (reason or "").strip():
        raise BadRequest("urgent needs a stated reason, e.g. 'telephony is down, we lose leads'", field="reason")
    ticket = visible_ticket(actor, ticket_id, consistent=True)
    _check_owner(actor, ticket, "reprioritize")
    _live(ticket, "reprioritize")
    now = clock.now()
    before = ticket.priority
    lifecycle.reprioritize(settings(), ticket, priority, now)
    ticket.urgent_reason = reason.strip() if priority == "urgent" and reason else None
    tickets.commit(
        ticket, [_event(ticket, actor, now, "priority", f"{before} → {priority}" + (f": {reason}" if reason else ""))]
    )
    return ticket


def offer_to_duty(ticket: Ticket, read: AlreadyRead = NOTHING) -> tuple[Ticket, Agent | None] | None:
    """Routing's last step: an unassigned live ticket goes to the on-duty agent of its queue
    with the lowest open load (agents/duty.py). No roster this week: it waits for a lead.

    Returns the ticket when routing gave it to its owner — now (with the owner as read to
    choose them), or in an earlier try of the same job that wrote the assignment and then failed
    (so a retry still tells the owner; None for the owner, not read) — else None: nobody on
    duty, or a person took or assigned it first. `ticket` is as the caller read it (strongly
    consistent); a write of someone else's since is tickets.Changed. `read`: the roster, read
    by the job already."""
    if ticket.assignee:
        return (ticket, None) if _offered_to(ticket, ticket.assignee) else None
    if ticket.status not in lifecycle.LIVE:
        return None
    now = clock.now()
    chosen = duty.least_loaded(ticket.queue, now, read=read)
    if chosen is None:
        return None
    tickets.commit(ticket, [_hand_on_duty(ticket, chosen, now)], load={chosen.agent_id: 1})
    return ticket, chosen


def duty_choice(ticket: Ticket, read: AlreadyRead = NOTHING) -> Agent | None:
    """Whom `offer_to_duty` would give `ticket` to now, written nowhere: None when it is owned
    already, no longer live, or nobody on duty can take it."""
    if ticket.assignee or ticket.status not in lifecycle.LIVE:
        return None
    return duty.least_loaded(ticket.queue, clock.now(), read=read)


@dataclass
class RidingOffer:
    """Routing's offer of a new ticket to `agent`, written with the acknowledgement's record (the
    one transaction that settles its `ack_state`, replies.Settle) instead of a transaction of its
    own: one write of the ticket, not two. The ticket is saved whole and version-checked, as
    `offer_to_duty` saves it; refused (an agent wrote the ticket meanwhile), the record goes
    without it and the offer is made on its own, on a fresh read. `done` once written."""

    agent: Agent
    done: bool = False
    _offered: Ticket | None = None

    def write(
        self, transaction: TransactWrite, ticket: Ticket, values: Mapping[str, Any], condition: Condition
    ) -> None:
        """Queue the ticket (with `values` set and given to the agent) and the offer's event and
        load on `transaction`, under `condition` too. `ticket` itself is left as it is until the
        transaction is written (`written`): a refused or retried write starts from it again."""
        offered = Ticket.from_raw_data(ticket.serialize())
        for name, value in values.items():
            setattr(offered, name, value)
        event = _hand_on_duty(offered, self.agent, clock.now())
        tickets.save_in(transaction, offered, [event], load={self.agent.agent_id: 1}, condition=condition)
        self._offered = offered

    def written(self, ticket: Ticket) -> None:
        """`ticket` as the transaction wrote it (its version moved with the commit)."""
        assert self._offered is not None  # written only after write
        ticket.attribute_values = dict(self._offered.attribute_values)
        self.done = True


def _hand_on_duty(ticket: Ticket, chosen: Agent, now: datetime) -> Message:
    """Give `ticket` to `chosen` (in place); the event saying routing did."""
    tickets.hand_to(ticket, chosen.agent_id, chosen.full_name)
    ticket.updated_at = now
    return tickets.event(
        ticket,
        now,
        ROUTING,
        f"{_OFFERED_TO}{chosen.agent_id} (on duty, {int(chosen.open_load or 0)} open)",
        kind="assignment",
    )


ROUTING = "routing"  # the author of an offer's event
_OFFERED_TO = "offered to "


def _offered_to(ticket: Ticket, agent_id: str) -> bool:
    """Whether the ticket's trail says routing gave it to `agent_id` (read only when a retried
    offer finds the ticket owned: whose doing was it?)."""
    return any(
        event.body.startswith(f"{_OFFERED_TO}{agent_id} ")
        for event in Message.query(
            ticket.ticket_id, filter_condition=(Message.direction == "event") & (Message.author == ROUTING)
        )
    )


def _assign(actor: Actor, ticket: Ticket, to: str, what: str, *, introduce: bool) -> Ticket:
    target = staff.get_agent(to)
    if not target.active:
        raise BadRequest(f"agent {to} is deactivated", field="to")
    if ticket.queue not in target.queues:
        raise BadRequest(f"agent {to} does not work the {ticket.queue} queue", field="to")
    now = clock.now()
    load = {to: 1}
    if ticket.assignee:
        load[ticket.assignee] = load.get(ticket.assignee, 0) - 1
    tickets.hand_to(ticket, to, target.full_name)
    ticket.introduce = to if introduce else None
    ticket.updated_at = now
    tickets.commit(ticket, [_event(ticket, actor, now, "assignment", what)], load=load)
    return ticket


def _check_owner(actor: Actor, ticket: Ticket, action: str) -> None:
    if not _may_act(actor, ticket):
        raise Conflict(f"the ticket is owned by {ticket.assignee}; only they or a lead can {action} it")


def _may_act(actor: Actor, ticket: Ticket) -> bool:
    """Its owner, anyone while nobody owns it, and leads and admins may work a ticket."""
    return ticket.assignee in (None, actor.agent_id) or actor.sees_all


def _live(ticket: Ticket, action: str) -> None:
    if ticket.status not in lifecycle.LIVE:
        raise Conflict(
            f"a {ticket.status} ticket cannot be {action}d; reopen it first"
            if ticket.status == "solved"
            else f"a {ticket.status} ticket cannot change hands"
        )


def _event(ticket: Ticket, actor: Actor, now: datetime, kind: str, what: str) -> Message:
    return tickets.event(ticket, now, actor.agent_id, what, kind=kind, author_name=actor.name)


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None
