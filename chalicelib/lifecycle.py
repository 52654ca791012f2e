"""The ticket lifecycle: which status changes are allowed, and what they do to the SLA clocks.

    new ──▶ open ──▶ pending ──▶ open ...
     │        │         │
     └────────┴─────────┴──▶ solved ──▶ closed        solved ──▶ open (reopen)

Clocks: first response runs from creation until the first agent answer; next response runs
from the moment the customer writes after an answer until the next answer; resolution runs
from creation until solved. Pending (waiting for the customer) and solved pause every clock;
leaving the pause moves each due time on by exactly the business time spent paused.

Every function here changes a Ticket in memory; callers save it (with its version check).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.config import Settings, settings
from chalicelib.errors import Conflict
from chalicelib.models import Ticket
from chalicelib.sla import alerts
from chalicelib.sla.policy import Target, due_at

LIVE = ("new", "open", "pending")
ALLOWED = {
    "new": {"open", "pending", "solved", "closed"},
    "open": {"pending", "solved", "closed"},
    "pending": {"open", "solved", "closed"},
    "solved": {"open", "closed"},
    "closed": set(),
}
PAUSED = ("pending", "solved")


def change_status(desk: Settings, ticket: Ticket, target: str, now: datetime) -> None:
    """Move `ticket` to `target` or raise Conflict saying why not."""
    if target not in ALLOWED:
        raise Conflict(f"unknown status {target!r}; one of {', '.join(ALLOWED)}")
    if target not in ALLOWED[ticket.status]:
        allowed = ", ".join(sorted(ALLOWED[ticket.status])) or "nothing: it is final"
        raise Conflict(f"a {ticket.status} ticket cannot become {target}; it can become {allowed}")
    if ticket.status in PAUSED and target not in PAUSED:
        _resume(desk, ticket, now)
    if target in PAUSED and ticket.paused_at is None:
        ticket.paused_at = now
    ticket.solved_at = now if target == "solved" else None
    ticket.done_at = None if target in LIVE else now  # finished work is listed newest first by this
    if target == "solved":  # a new solve asks anew: the last verdict was about the last solve
        ticket.last_solved_at = now
        ticket.rating = ticket.rating_comment = ticket.rated_at = None
    ticket.status = target
    ticket.updated_at = now
    refresh_index(ticket, now)


def customer_wrote(desk: Settings, ticket: Ticket, now: datetime) -> None:
    """The customer writes on a live or recently solved ticket: it is open again and, if an
    agent had answered, the next-response clock starts."""
    if ticket.status != "open" and ticket.status != "new":
        change_status(desk, ticket, "open", now)
    if ticket.awaiting_since is None:
        ticket.awaiting_since = now
        if ticket.first_responded_at is not None:
            ticket.next_response_due = _due(desk, ticket, "next_response", now)
    ticket.last_message_at = now
    ticket.updated_at = now
    refresh_index(ticket, now)


def agent_answered(desk: Settings, ticket: Ticket, now: datetime) -> None:
    """An answer stops the first- or next-response clock; a new ticket becomes open."""
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    ticket.awaiting_since = None
    ticket.next_response_due = None
    if ticket.status == "new":
        ticket.status = "open"
    ticket.updated_at = now
    refresh_index(ticket, now)


def reprioritize(desk: Settings, ticket: Ticket, priority: str, now: datetime) -> None:
    """A new priority applies its own SLA policy to the clocks still running, from their
    original starts, plus any time already spent paused."""
    ticket.priority = priority
    if ticket.automated:
        return refresh_index(ticket, now)
    if ticket.first_responded_at is None:
        ticket.first_response_due = _shifted(
            desk, ticket, "first_response", _due(desk, ticket, "first_response", ticket.created_at)
        )
    if ticket.next_response_due is not None and ticket.awaiting_since is not None:
        ticket.next_response_due = _due(desk, ticket, "next_response", ticket.awaiting_since)
    ticket.resolution_due = _shifted(desk, ticket, "resolution", _due(desk, ticket, "resolution", ticket.created_at))
    ticket.updated_at = now
    refresh_index(ticket, now)


def open_clocks(desk: Settings, ticket: Ticket) -> None:
    """Start the clocks of a new ticket (intake); robots get none."""
    if ticket.automated:
        return refresh_index(ticket, ticket.created_at)
    ticket.first_response_due = _due(desk, ticket, "first_response", ticket.created_at)
    ticket.resolution_due = _due(desk, ticket, "resolution", ticket.created_at)
    ticket.awaiting_since = ticket.created_at
    refresh_index(ticket, ticket.created_at)


def running_dues(ticket: Ticket) -> dict[str, datetime]:
    """The due times whose clocks are running now (none while paused)."""
    if ticket.status not in LIVE or ticket.paused_at is not None:
        return {}
    return started_dues(ticket)


def started_dues(ticket: Ticket) -> dict[str, datetime]:
    """The due times of the clocks that run, or would run were the ticket not paused."""
    dues = {
        "first_response": None if ticket.first_responded_at else ticket.first_response_due,
        "next_response": ticket.next_response_due,
        "resolution": ticket.resolution_due,
    }
    return {name: due for name, due in dues.items() if due is not None}


def refresh_index(ticket: Ticket, now: datetime | None = None) -> None:
    """Keep the sparse indexes in step with the ticket: by_queue (live tickets in bands, soonest
    due first), by_owner (live tickets by who works them), by_queue_done (finished ones),
    by_solved, and by_alert (the next SLA warning, re-planned on every change).

    "Breaching soon" is decided at the write, `now`: a ticket crosses its first alert share
    without anyone writing it but the SLA watch, which writes it then (the warning it sends), so
    the band is at most one watch run behind the clock."""
    dues = running_dues(ticket)
    live = ticket.status in LIVE
    marks: alerts.Marks = {}  # the band and the plan both measure the first share: once
    ticket.open_queue = ticket.queue if live else None
    ticket.due_key = _band_key(ticket, dues, now or clock.now(), marks) if live else None
    ticket.owner_lane = _owner_lane(ticket) if live else None
    ticket.owner_key = _owner_key(ticket, dues) if live else None
    ticket.done_queue = None if live else ticket.queue
    ticket.solved_shard = "solved" if ticket.status == "solved" else None
    alerts.plan(settings(), ticket, dues, marks)


def soonest_first(due_key: str | None) -> str:
    """A by_queue key as the order of its due time alone (breaching soon or not), pending and
    robot mail after: how the agents' API lists live tickets."""
    key = due_key or "~"
    return "d#" + key[2:] if key.startswith("b#") else key


def breaching(
    desk: Settings, ticket: Ticket, dues: dict[str, datetime], now: datetime, marks: alerts.Marks | None = None
) -> bool:
    """Whether a running clock has used the policy's first alert share of its time (or more);
    the moments measured go into `marks`, for the plan of the next warning."""
    first = desk.policy_for(ticket.channel, ticket.priority).alert_at[0]
    found = marks if marks is not None else {}
    for target, due in dues.items():
        found[(target, due, first)] = alerts.mark(desk, ticket, target, due, first)
    return any(found[(target, due, first)] <= now for target, due in dues.items())


def _band_key(ticket: Ticket, dues: dict[str, datetime], now: datetime, marks: alerts.Marks) -> str:
    if ticket.automated:
        return f"r#{clock.iso(ticket.created_at)}#{ticket.ticket_id}"
    if ticket.status in PAUSED:
        return f"p#{clock.iso(ticket.paused_at or ticket.updated_at)}#{ticket.ticket_id}"
    if not dues:
        return f"d#~#{ticket.ticket_id}"
    band = "b" if breaching(settings(), ticket, dues, now, marks) else "d"
    return f"{band}#{clock.iso(min(dues.values()))}#{ticket.ticket_id}"


def _owner_lane(ticket: Ticket) -> str:
    if ticket.automated:
        return f"robot#{ticket.queue}"
    return f"agent#{ticket.assignee}" if ticket.assignee else f"free#{ticket.queue}"


def _owner_key(ticket: Ticket, dues: dict[str, datetime]) -> str:
    """Soonest due first; robot mail by arrival (read newest first); paused after the running."""
    if ticket.automated:
        return f"{clock.iso(ticket.created_at)}#{ticket.ticket_id}"
    if dues:
        return f"{clock.iso(min(dues.values()))}#{ticket.ticket_id}"
    paused = clock.iso(ticket.paused_at) if ticket.paused_at else ""
    return f"~{paused}#{ticket.ticket_id}"


def _resume(desk: Settings, ticket: Ticket, now: datetime) -> None:
    if ticket.paused_at is None:
        return
    calendar = desk.calendar_for(ticket.queue)
    business = calendar.between(ticket.paused_at, now)
    elapsed = now - ticket.paused_at
    for target in ("first_response", "next_response", "resolution"):
        attribute = f"{target}_due"
        due = getattr(ticket, attribute)
        if due is None or (target == "first_response" and ticket.first_responded_at is not None):
            continue
        business_clock = desk.policy_for(ticket.channel, ticket.priority).target(target).business
        setattr(ticket, attribute, calendar.add(due, business) if business_clock else due + elapsed)
    ticket.paused_wall = _paused_wall(ticket) + elapsed.total_seconds()  # before paused_total grows
    ticket.paused_total = float(ticket.paused_total or 0) + business.total_seconds()
    ticket.paused_at = None


def _due(desk: Settings, ticket: Ticket, target: Target, start: datetime) -> datetime:
    return due_at(
        desk, queue=ticket.queue, channel=ticket.channel, priority=ticket.priority, target=target, start=start
    )


def _shifted(desk: Settings, ticket: Ticket, target: Target, due: datetime) -> datetime:
    """`due` moved on by the time already spent paused, on the clock the target counts in: a
    business-clock target by the business time paused, a wall-clock one by the hours that passed."""
    if desk.policy_for(ticket.channel, ticket.priority).target(target).business:
        paused = timedelta(seconds=float(ticket.paused_total or 0))
        return desk.calendar_for(ticket.queue).add(due, paused) if paused else due
    return due + timedelta(seconds=_paused_wall(ticket))


def _paused_wall(ticket: Ticket) -> float:
    # Tickets paused before paused_wall was kept have only the business total: the best figure they have.
    return float(ticket.paused_total or 0) if ticket.paused_wall is None else float(ticket.paused_wall)
