"""What agents do to tickets: list, open, answer, note, take, hand over, assign, change status
and priority. Every action is one transaction with the ticket's version check, and leaves an
event on the ticket (who, what, when) — the audit trail a lead reads."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pynamodb.models import Model

from chalicelib import clock, facts, lifecycle, log, outbox, writes
from chalicelib.agents import paging, staff
from chalicelib.agents.access import Actor, require, visible_queues, visible_ticket
from chalicelib.config import PRIORITIES, settings
from chalicelib.errors import BadRequest, Conflict, WriteRefused
from chalicelib.facts import fact
from chalicelib.models import Agent, Message, Ticket
from chalicelib.render import EMAIL_CHANNELS

LIST_LIMIT = 100
MESSENGERS = ("telegram", "viber", "chat")  # answered by an id the provider gave, not a number or address
PHONES = ("sms", "whatsapp")


def list_tickets(actor: Actor, queue: str | None = None) -> list[dict[str, Any]]:
    """Live tickets of the actor's queues, soonest due first (one Query per queue)."""
    tickets: list[Ticket] = []
    for name in visible_queues(actor, queue, tuple(settings().queues)):
        tickets += list(Ticket.by_queue.query(name, limit=LIST_LIMIT))
    now = clock.now()
    return [summary(ticket, now) for ticket in sorted(tickets, key=lambda t: t.due_key or "~")[:LIST_LIMIT]]


def list_done(
    actor: Actor, queue: str | None, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Solved and closed tickets of the actor's queues, newest first, `limit` at a time, and the
    cursor of the next page (None: no more). A keys-only Query per queue, one BatchGetItem of
    the page (models.py says why the index holds keys only; agents/paging.py how pages merge)."""
    positions = paging.start(after, visible_queues(actor, queue, tuple(settings().queues)))
    page = paging.merge({name: _done_in(name, at, limit + 1) for name, at in positions.items()}, positions, limit)
    found = {ticket.ticket_id: ticket for ticket in Ticket.batch_get([entry.ticket_id for entry in page.entries])}
    now = clock.now()
    return [summary(found[entry.ticket_id], now) for entry in page.entries if entry.ticket_id in found], page.cursor


def _done_in(queue: str, after: paging.Position, count: int) -> list[paging.Entry]:
    """Up to `count` finished tickets of `queue`, newest first, after the position `after`."""
    start = (
        None
        if after is None
        else {"done_queue": {"S": queue}, "done_at": {"S": after[0]}, "ticket_id": {"S": after[1]}}
    )
    return [
        paging.Entry(queue, Ticket.done_at.serialize(ticket.done_at), ticket.ticket_id)
        for ticket in Ticket.by_queue_done.query(queue, scan_index_forward=False, limit=count, last_evaluated_key=start)
    ]


def open_ticket(actor: Actor, ticket_id: str) -> dict[str, Any]:
    """A ticket with its whole conversation: messages, answers, notes and events, in order."""
    ticket = visible_ticket(actor, ticket_id)
    conversation = [_entry(message) for message in Message.query(ticket.ticket_id)]
    return {**summary(ticket, clock.now()), "conversation": conversation}


def reply(actor: Actor, ticket_id: str, text: str) -> dict[str, Any]:
    ticket = visible_ticket(actor, ticket_id)
    if ticket.status == "closed":
        raise Conflict("the ticket is closed; the customer's next message opens a new one")
    _check_owner(actor, ticket, "answer")
    now = clock.now()
    desk = settings()
    taken = ticket.assignee is None
    if taken:
        ticket.assignee = actor.agent_id
    counts = taken and ticket.status in lifecycle.LIVE  # a solved ticket adds nothing to anyone's load
    introduce = ticket.introduce == actor.agent_id
    ticket.introduce = None
    clocks = _stopped_clocks(ticket, actor, now)
    lifecycle.agent_answered(desk, ticket, now)
    answer = _message(ticket, now, direction="out", kind="answer", author=actor.agent_id, body=text)
    records = [answer, *(fact(desk, ticket, kind, now, data) for kind, data in clocks)]
    _commit(ticket, records, load={actor.agent_id: 1} if counts else {})
    outbox.enqueue(
        {
            "kind": "answer",
            "job_id": answer.message_id,
            "ticket_id": ticket.ticket_id,
            "message_key": answer.message_key,
            "introduce": introduce,
        }
    )
    return {"message_id": answer.message_id, "introduced": introduce, **summary(ticket, now)}


def _stopped_clocks(ticket: Ticket, actor: Actor, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Facts of the response clocks this answer stops, plus the answer itself."""
    stopped = [("answered", {"agent": actor.agent_id})]
    if ticket.first_responded_at is None:
        # priority: the lane of the usual wait (kpi/usual_wait.py); business_seconds: its sample, in the
        # business time it is added back in (a night's wait is not "usual"); usual_by: whether it held
        waited = settings().calendar_for(ticket.queue).between(ticket.created_at, now)
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


def note(actor: Actor, ticket_id: str, text: str) -> dict[str, Any]:
    """An internal note: stored on the ticket, never sent, never shown to the customer."""
    ticket = visible_ticket(actor, ticket_id)
    now = clock.now()
    ticket.updated_at = now
    entry = _message(ticket, now, direction="note", kind="note", author=actor.agent_id, body=text)
    _commit(ticket, [entry])
    return {"message_id": entry.message_id}


def take(actor: Actor, ticket_id: str) -> dict[str, Any]:
    ticket = visible_ticket(actor, ticket_id)
    if ticket.assignee == actor.agent_id:
        return summary(ticket, clock.now())
    if ticket.assignee is not None:
        raise Conflict(f"the ticket is owned by {ticket.assignee}; ask them or a lead for a handover")
    _live(ticket, "take")
    return _assign(actor, ticket, actor.agent_id, "took the ticket", introduce=False)


def handover(actor: Actor, ticket_id: str, to: str, reason: str) -> dict[str, Any]:
    ticket = visible_ticket(actor, ticket_id)
    _check_owner(actor, ticket, "hand over")
    _live(ticket, "hand over")
    return _assign(actor, ticket, to, f"handed over to {to}: {reason}", introduce=True)


def assign(actor: Actor, ticket_id: str, to: str, reason: str) -> dict[str, Any]:
    require(actor, "lead", "admin")
    ticket = visible_ticket(actor, ticket_id)
    _live(ticket, "assign")
    return _assign(actor, ticket, to, f"assigned to {to}: {reason}", introduce=ticket.assignee is not None)


def set_status(actor: Actor, ticket_id: str, status: str) -> dict[str, Any]:
    ticket = visible_ticket(actor, ticket_id)
    _check_owner(actor, ticket, "change the status of")
    now = clock.now()
    before = ticket.status
    lifecycle.change_status(settings(), ticket, status, now)
    commit_with_event(
        ticket,
        now,
        author=actor.agent_id,
        kind="status",
        body=f"{before} → {status}",
        was_live=before in lifecycle.LIVE,
        before=before,
    )
    if status == "solved":  # ask the customer to confirm, with a signed link
        outbox.enqueue(
            {
                "kind": "solved",
                "job_id": f"solved-{ticket.ticket_id}-{ticket.version}",
                "ticket_id": ticket.ticket_id,
                "agent_id": actor.agent_id,
            }
        )
    return summary(ticket, now)


def commit_with_event(
    ticket: Ticket, now: datetime, *, author: str, kind: str, body: str, was_live: bool, before: str | None = None
) -> None:
    """Save a ticket whose status changed, with its event and its fact (solved, closed,
    reopened), keeping the owner's load right."""
    load = {}
    if ticket.assignee and was_live != (ticket.status in lifecycle.LIVE):
        load = {ticket.assignee: 1 if ticket.status in lifecycle.LIVE else -1}
    records: list[Model] = [_message(ticket, now, direction="event", kind=kind, author=author, body=body)]
    desk = settings()
    if ticket.status == "solved":
        kind, data = facts.timed(
            "solved", agent=ticket.assignee or author, start=ticket.created_at, due=ticket.resolution_due, now=now
        )
        records.append(fact(desk, ticket, kind, now, data))
    elif ticket.status == "closed":
        records.append(fact(desk, ticket, "closed", now, {}))
    elif before == "solved":
        records.append(fact(desk, ticket, "reopened", now, {}))
    _commit(ticket, records, load=load)
    if ticket.status == "closed":
        _ask_for_nps(ticket)


def _ask_for_nps(ticket: Ticket) -> None:
    """Best effort, after the close is saved: a survey lost to an SQS outage must not turn the
    customer's "yes, solved" into an error page or stop the quiet-close run."""
    from chalicelib.feedback.nps import survey_job  # the survey builds on tickets, not vice versa

    job = survey_job(ticket)
    if not job:
        return
    try:
        outbox.enqueue(job)
    except Exception:
        log.exception("nps survey not queued", ticket_id=ticket.ticket_id)


def set_priority(actor: Actor, ticket_id: str, priority: str, reason: str | None) -> dict[str, Any]:
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
    _commit(
        ticket, [_event(ticket, actor, now, "priority", f"{before} → {priority}" + (f": {reason}" if reason else ""))]
    )
    return summary(ticket, now)


def offer_to_duty(ticket_id: str) -> str | None:
    """Routing's last step: an unassigned live ticket goes to the on-duty agent of its queue
    with the lowest open load. No roster this week: it waits for a lead."""
    ticket = Ticket.get(ticket_id)
    if ticket.assignee or ticket.status not in lifecycle.LIVE:
        return ticket.assignee
    now = clock.now()
    on_duty = staff.on_duty(ticket.queue, now)
    candidates = [agent for agent in Agent.batch_get(on_duty) if agent.active and ticket.queue in agent.queues]
    if not candidates:
        return None
    chosen = min(candidates, key=lambda agent: (int(agent.open_load or 0), on_duty.index(agent.agent_id)))
    ticket.assignee = chosen.agent_id
    ticket.updated_at = now
    event = _message(
        ticket,
        now,
        direction="event",
        kind="assignment",
        author="routing",
        body=f"offered to {chosen.agent_id} (on duty, {int(chosen.open_load or 0)} open)",
    )
    _commit(ticket, [event], load={chosen.agent_id: 1})
    return chosen.agent_id


def summary(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """A ticket as the agent API shows it, with the SLA countdown of its nearest running clock."""
    dues = lifecycle.running_dues(ticket)
    nearest = min(dues.items(), key=lambda item: item[1]) if dues else None
    return {
        "ticket": ticket.ticket_id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "urgent_reason": ticket.urgent_reason,
        "queue": ticket.queue,
        "channel": ticket.channel,
        "assignee": ticket.assignee,
        "customer": ticket.customer_name,
        "language": ticket.language,
        "created_at": clock.iso(ticket.created_at),
        "first_response_due": _iso(ticket.first_response_due),
        "next_response_due": _iso(ticket.next_response_due),
        "resolution_due": _iso(ticket.resolution_due),
        "paused": ticket.paused_at is not None,
        "sla": None
        if nearest is None
        else {
            "target": nearest[0],
            "due": clock.iso(nearest[1]),
            "seconds_left": int((nearest[1] - now).total_seconds()),
        },
        "previous_ticket": ticket.previous_ticket,
        "sender": {"trust": ticket.sender_trust, "how": ticket.sender_auth, "stranger_to": ticket.stranger_to},
        "rating": None
        if ticket.rating is None
        else {
            "rating": ticket.rating,
            "comment": ticket.rating_comment,
            "at": _iso(ticket.rated_at),
        },
        "nps": None
        if ticket.nps_score is None
        else {
            "score": int(ticket.nps_score),
            "comment": ticket.nps_comment,
            "at": _iso(ticket.nps_at),
        },
        "email_undeliverable": ticket.email_undeliverable,
        "contacts": contacts(ticket),
    }


def contacts(ticket: Ticket) -> dict[str, Any]:
    """How to reach the customer, from what the ticket itself knows (no lookup): the address the
    desk writes to by email, the phone number of an SMS or WhatsApp conversation, and the id a
    messenger's replies go to (Telegram chat, Viber user, website chat visitor)."""
    return {
        "email": ticket.address if ticket.channel in EMAIL_CHANNELS else ticket.email,
        "phone": ticket.address.removeprefix("whatsapp:") if ticket.channel in PHONES else None,
        "messenger": {"channel": ticket.channel, "id": ticket.address} if ticket.channel in MESSENGERS else None,
    }


def _assign(actor: Actor, ticket: Ticket, to: str, what: str, *, introduce: bool) -> dict[str, Any]:
    target = staff.get_agent(to)
    if not target.active:
        raise BadRequest(f"agent {to} is deactivated", field="to")
    if ticket.queue not in target.queues:
        raise BadRequest(f"agent {to} does not work the {ticket.queue} queue", field="to")
    now = clock.now()
    load = {to: 1}
    if ticket.assignee:
        load[ticket.assignee] = load.get(ticket.assignee, 0) - 1
    ticket.assignee = to
    ticket.introduce = to if introduce else None
    ticket.updated_at = now
    _commit(ticket, [_event(ticket, actor, now, "assignment", what)], load=load)
    return summary(ticket, now)


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


def _message(ticket: Ticket, now: datetime, **fields: Any) -> Message:
    message_id = f"M-{secrets.token_hex(8)}"
    return Message(
        ticket.ticket_id,
        f"{clock.iso(now)}#{message_id}",
        message_id=message_id,
        channel=ticket.channel,
        created_at=now,
        **fields,
    )


def _event(ticket: Ticket, actor: Actor, now: datetime, kind: str, what: str) -> Message:
    return _message(ticket, now, direction="event", kind=kind, author=actor.agent_id, body=what)


def _entry(message: Message) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "at": clock.iso(message.created_at),
        "direction": message.direction,
        "kind": message.kind,
        "author": message.author,
        "channel": message.channel,
        "subject": message.subject,
        "body": message.body,
        "attachments": message.attachments,
        "sender_trust": message.trust,
        "truncated": message.truncated or [],
    }


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None


def system_event(ticket: Ticket, now: datetime, author: str, body: str, *, kind: str | None = None) -> Message:
    """An event not caused by an agent (routing, the SLA watch, the customer's rating), for the audit trail."""
    return _message(ticket, now, direction="event", kind=kind or author, author=author, body=body)


def commit_records(ticket: Ticket, records: list[Model], load: dict[str, int] | None = None) -> None:
    _commit(ticket, records, load)


def _commit(ticket: Ticket, records: list[Model], load: dict[str, int] | None = None) -> None:
    """Ticket (version-checked), its new records and agents' load counters, all or nothing;
    a ticket someone else changed meanwhile is a 409 — reload and try again."""
    try:
        with writes.transaction() as transaction:
            transaction.save(ticket)
            for record in records:
                transaction.save(record)
            for agent_id, delta in (load or {}).items():
                if delta:
                    transaction.update(
                        Agent(agent_id), actions=[Agent.open_load.add(delta)], condition=Agent.agent_id.exists()
                    )
    except WriteRefused:  # changed, or changing right now
        raise Conflict("the ticket changed while you were acting on it; reload and try again") from None
