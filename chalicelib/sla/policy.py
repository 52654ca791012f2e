"""SLA targets → due times: which policy applies, and when its clock runs out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from chalicelib.config import Settings

Target = Literal["first_response", "next_response", "resolution"]


def due_at(settings: Settings, *, queue: str, channel: str, priority: str, target: Target, start: datetime) -> datetime:
    """When `target` is due for a ticket whose clock started at `start` (UTC).

    Business-time targets run only while the queue's calendar is open; calendar-time
    targets run around the clock.
    """
    span = settings.policy_for(channel, priority).target(target)
    if span.business:
        return settings.calendar_for(queue).add(start, span.length)
    return start + span.length
