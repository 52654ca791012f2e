"""When a ticket's next SLA warning is due (who gets it: sla/recipients.py).

A warning fires when a running target has used a share of its time (the policy's
`alert_at`, by default 75%, 90% and the breach at 100%). The share is measured backwards from
the due time, so pauses and business hours move the warnings with the due time: a Friday
17:00 ticket with 4 business hours gets its 75% warning on Monday, not on Saturday.

Each warning is identified by (ticket, target, cycle, share); the cycle distinguishes each
wait of the customer for a next response. Which warnings went out is kept on the ticket.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.config import Settings
from chalicelib.models import Ticket
from chalicelib.sla.calendar import BusinessCalendar, open_since, to_us

SHARDS = 4  # by_alert partitions; the watch queries each


Marks = dict[tuple[str, datetime, float], datetime]  # (target, due, share) → `mark`, for one ticket as it is


def plan(desk: Settings, ticket: Ticket, running: dict[str, datetime], marks: Marks | None = None) -> None:
    """Set the ticket's next warning (or clear it) from its running clocks; `marks` are the
    moments already measured for the ticket as it is (lifecycle's band measured the first)."""
    best: tuple[datetime, dict[str, object]] | None = None
    for target, due in running.items():
        policy = desk.policy_for(ticket.channel, ticket.priority)
        cycle = cycle_of(ticket, target)
        sent = float((ticket.alerts_sent or {}).get(f"{target}#{cycle}", 0))
        share = next((step for step in policy.alert_at if step > sent), None)
        if share is None:
            continue
        at = marks.get((target, due, share)) if marks is not None else None
        if at is None:
            at = mark(desk, ticket, target, due, share)
        if best is None or at < best[0]:
            best = (at, {"target": target, "share": share, "cycle": cycle, "due": clock.iso(due)})
    ticket.next_alert_at, ticket.next_alert = (best[0], best[1]) if best else (None, None)
    ticket.alert_shard = shard_of(ticket.ticket_id) if best else None


def catch_up(desk: Settings, ticket: Ticket, now: datetime) -> None:
    """When several warnings of a target are already past (the ticket came in out of hours,
    the watch was down), send only the most urgent of them, not a burst of stale ones."""
    alert = ticket.next_alert or {}
    target, due = alert.get("target"), alert.get("due")
    if not target or not due:
        return
    shares = desk.policy_for(ticket.channel, ticket.priority).alert_at
    passed = [
        share
        for share in shares
        if share >= alert["share"] and mark(desk, ticket, str(target), clock.parse_iso(str(due)), share) <= now
    ]
    if passed:
        ticket.next_alert = {**alert, "share": passed[-1]}


def mark(desk: Settings, ticket: Ticket, target: str, due: datetime, share: float) -> datetime:
    """The moment `share` of the target's time is used: due minus the remaining share."""
    span = desk.policy_for(ticket.channel, ticket.priority).target(target)  # type: ignore[arg-type]
    remaining = span.length * (1 - share)
    if not span.business:
        return due - remaining
    return before(desk.calendar_for(ticket.queue), due, remaining)


def share_reached(desk: Settings, ticket: Ticket, target: str, due: datetime, at: datetime) -> float | None:
    """The highest alert share of the target already used at `at` (None before the first): what
    `mark(share) <= at` says share by share, in one measure of the time left instead of a
    bisection per share (the console asks it for every row of a page)."""
    span = desk.policy_for(ticket.channel, ticket.priority).target(target)  # type: ignore[arg-type]
    if at >= due:
        left = timedelta(0)
    else:
        left = desk.calendar_for(ticket.queue).between(at, due) if span.business else due - at
    reached = [
        share
        for share in desk.policy_for(ticket.channel, ticket.priority).alert_at
        if left <= span.length * (1 - share)
    ]
    return max(reached, default=None)


def before(calendar: BusinessCalendar, end: datetime, duration: timedelta) -> datetime:
    """The latest instant from which `duration` of business time runs until `end`
    (bisection on `between`, to the second: the calendar only adds forwards). The open spans
    of [low, end) are walked once and each step of the bisection sums them: a `between` per
    step walked the days afresh, ~20 times per warning, on every intake and job."""
    if duration <= timedelta(0):
        return end
    wanted = duration // timedelta(microseconds=1)
    low = end - duration
    spans = calendar.open_spans(low, end)
    while open_since(spans, to_us(low)) < wanted and end - low < timedelta(days=800):
        wider = end - 2 * (end - low)
        spans = calendar.open_spans(wider, low) + spans  # only the days the window gained
        low = wider
    high = end
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if open_since(spans, to_us(middle)) >= wanted:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0)


def cycle_of(ticket: Ticket, target: str) -> str:
    """Each wait for a next response is its own cycle; the other targets have one."""
    if target == "next_response" and ticket.awaiting_since is not None:
        return clock.iso(ticket.awaiting_since)
    return "0"


def shard_of(ticket_id: str) -> str:
    return f"a{zlib.crc32(ticket_id.encode()) % SHARDS}"
