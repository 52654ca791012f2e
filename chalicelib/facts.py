"""Facts: what happened to tickets and when, written in the same transaction as the change
that causes them, keyed by the desk-local day so the digest reads one day with one Query.

Kinds and their `data`: created {priority, promised_at, automated}; first_response {agent,
seconds, promised_at, due, met, priority, usual_by, business_seconds}; next_response {agent, seconds, due, met}; answered {agent};
solved {agent, seconds, due, met}; reopened {}; closed {}; breached {target, due, late_seconds};
rated {rating, comment, agent}; nps {score, comment}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.config import Settings
from chalicelib.models import Fact, Ticket


def fact(desk: Settings, ticket: Ticket, kind: str, at: datetime, data: dict[str, Any]) -> Fact:
    day = at.astimezone(ZoneInfo(desk.desk.timezone)).date().isoformat()
    return Fact(
        day,
        f"{clock.iso(at)}#{ticket.ticket_id}#{kind}",
        kind=kind,
        ticket_id=ticket.ticket_id,
        channel=ticket.channel,
        queue=ticket.queue,
        at=at,
        data=data,
    )


def timed(
    kind: str, *, agent: str, start: datetime, due: datetime | None, now: datetime, **extra: Any
) -> tuple[str, dict[str, Any]]:
    """(kind, data) of a clock that stops now: how long it ran and whether it met its due."""
    return kind, {
        "agent": agent,
        "seconds": int((now - start).total_seconds()),
        "due": clock.iso(due) if due else None,
        "met": None if due is None else now <= due,
        **extra,
    }
