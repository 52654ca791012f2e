"""What agents do to tickets: list, open, answer, note, take, hand over, assign, change status
and priority, and routing's offer of a new ticket to the agent on duty. Every action is one
transaction with the ticket's version check (chalicelib/tickets.py), and leaves an event on the
ticket (who, what, when) — the audit trail a lead reads. How the API shows a ticket is
`api.ticket_view`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import clock, facts, job_kinds, lifecycle, outbox, tickets
from chalicelib.agents import duty, paging, staff
from chalicelib.agents.access import Actor, require, visible_queues, visible_ticket
from chalicelib.config import PRIORITIES, settings
from chalicelib.errors import BadRequest, Conflict
from chalicelib.facts import fact
from chalicelib.models import Message, Ticket

LIST_LIMIT = 100


@dataclass(frozen=True)
class Answered:
    """An agent's answer, saved and queued to go out."""

    ticket: Ticket
    message_id: str
    introduced: bool  # signed with an introduction: the ticket was handed to this agent


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


def reply(actor: Actor, ticket_id: str, text: str) -> Answered:
    ticket = visible_ticket(actor, ticket_id)
    if ticket.status == "closed":
        raise Conflict("the ticket is closed; the customer's next message opens a new one")
    _check_owner(actor, ticket, "answer")
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
    answer = tickets.message(ticket, now, direction="out", kind="answer", author=actor.agent_id, body=text)
    records = [answer, *(fact(desk, ticket, kind, now, data) for kind, data in clocks)]
    tickets.commit(ticket, records, load={actor.agent_id: 1} if counts else {})
    outbox.enqueue(job_kinds.answer(ticket.ticket_id, answer.message_id, answer.message_key, introduce=introduce))
    return Answered(ticket, answer.message_id, introduce)


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


def note(actor: Actor, ticket_id: str, text: str) -> Message:
    """An internal note: stored on the ticket, never sent, never shown to the customer."""
    ticket = visible_ticket(actor, ticket_id)
    now = clock.now()
    ticket.updated_at = now
    entry = tickets.message(ticket, now, direction="note", kind="note", author=actor.agent_id, body=text)
    tickets.commit(ticket, [entry])
    return entry


def take(actor: Actor, ticket_id: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id)
    if ticket.assignee == actor.agent_id:
        return ticket
    if ticket.assignee is not None:
        raise Conflict(f"the ticket is owned by {ticket.assignee}; ask them or a lead for a handover")
    _live(ticket, "take")  # type: ignore[unreachable]  # null=True: PynamoDB types assignee as never None
    return _assign(actor, ticket, actor.agent_id, "took the ticket", introduce=False)


def handover(actor: Actor, ticket_id: str, to: str, reason: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id)
    _check_owner(actor, ticket, "hand over")
    _live(ticket, "hand over")
    return _assign(actor, ticket, to, f"handed over to {to}: {reason}", introduce=True)


def assign(actor: Actor, ticket_id: str, to: str, reason: str) -> Ticket:
    require(actor, "lead", "admin")
    ticket = visible_ticket(actor, ticket_id)
    _live(ticket, "assign")
    return _assign(actor, ticket, to, f"assigned to {to}: {reason}", introduce=ticket.assignee is not None)


def set_status(actor: Actor, ticket_id: str, status: str) -> Ticket:
    ticket = visible_ticket(actor, ticket_id)
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


def set_priority(actor: Actor, ticket_id: str, priority: str, reason: str | None) -> Ticket:
    if priority not in PRIORITIES:
        raise BadRequest(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    if priority == "urgent" and not (reason or "").strip():
        raise BadRequest("urgent needs a stated reason, e.g. 'telephony is down, we lose leads'", field="reason")
    ticket = visible_ticket(actor, ticket_id)
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


def offer_to_duty(ticket_id: str) -> Ticket | None:
    """Routing's last step: an unassigned live ticket goes to the on-duty agent of its queue
    with the lowest open load (agents/duty.py). No roster this week: it waits for a lead.

    Returns the ticket when routing gave it to its owner — now, or in an earlier try of the
    same job that wrote the assignment and then failed (so a retry still tells the owner) —
    else None: nobody on duty, or a person took or assigned it first."""
    ticket = Ticket.get(ticket_id)
    if ticket.assignee:
        return ticket if _offered_to(ticket, ticket.assignee) else None
    if ticket.status not in lifecycle.LIVE:
        return None
    now = clock.now()
    chosen = duty.least_loaded(ticket.queue, now)
    if chosen is None:
        return None
    tickets.hand_to(ticket, chosen.agent_id, chosen.full_name)
    ticket.updated_at = now
    offered = tickets.event(
        ticket,
        now,
        ROUTING,
        f"{_OFFERED_TO}{chosen.agent_id} (on duty, {int(chosen.open_load or 0)} open)",
        kind="assignment",
    )
    tickets.commit(ticket, [offered], load={chosen.agent_id: 1})
    return ticket


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
    if ticket.assignee not in (None, actor.agent_id) and not actor.sees_all:
        raise Conflict(f"the ticket is owned by {ticket.assignee}; only they or a lead can {action} it")


def _live(ticket: Ticket, action: str) -> None:
    if ticket.status not in lifecycle.LIVE:
        raise Conflict(
            f"a {ticket.status} ticket cannot be {action}d; reopen it first"
            if ticket.status == "solved"
            else f"a {ticket.status} ticket cannot change hands"
        )


def _event(ticket: Ticket, actor: Actor, now: datetime, kind: str, what: str) -> Message:
    return tickets.event(ticket, now, actor.agent_id, what, kind=kind)


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None
