"""A ticket's SLA clocks as the agents' console shows them: the queue's rows (`nearest`) and
the ticket page (`running`), with what the customer was promised (`promise`).

A clock is a target that applies now. Its `level` follows the policy's alert shares, measured
back from the due time as the SLA watch measures them (sla/alerts.py `mark`): "ok" before the
first share, "warn" from the first share below 1.0, "breach" at the due time. `share` is the
last share reached, so a page may tint a later warning darker (`share` above the policy's first)
without a fourth level: "late" is what the countdown calls a breach.

While the ticket is pending or solved every clock that would run is shown paused, as it stood at
the pause: its level then, and the time it had left — business time for a business-hours target,
the time a resume gives back (lifecycle moves the due on by the business time paused).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib import lifecycle
from chalicelib.config import Settings
from chalicelib.models import Ticket
from chalicelib.sla import alerts
from chalicelib.sla.policy import Target

Level = Literal["ok", "warn", "breach"]
KINDS: tuple[Target, ...] = ("first_response", "next_response", "resolution")
LABELS: dict[str, tuple[str, str, str]] = {  # in the order of KINDS
    "en": ("First response", "Next response", "Resolution"),
    "uk": ("Перша відповідь", "Наступна відповідь", "Вирішення"),
    "ru": ("Первый ответ", "Следующий ответ", "Решение"),
}
# coming, late, paused with time left, paused when already late: the length goes in {}
PHRASES: dict[str, tuple[str, str, str, str]] = {
    "en": ("in {}", "{} late", "paused · {} left", "paused · {} late"),
    "uk": ("через {}", "прострочено на {}", "пауза · лишилось {}", "пауза · прострочено на {}"),
    "ru": ("через {}", "просрочено на {}", "пауза · осталось {}", "пауза · просрочено на {}"),
}
UNITS = (("duration-day", 24 * 60), ("duration-hour", 60), ("duration-minute", 1))  # in minutes


@dataclass(frozen=True, eq=False)
class Clock:
    kind: Target
    due: datetime  # UTC
    remaining: timedelta  # negative once breached; when paused, what was left at the pause
    paused: bool
    level: Level
    share: float | None  # the last alert share reached (1.0: breached); None before the first


@dataclass(frozen=True)
class Promise:
    """What the acknowledgement told the customer."""

    promised_at: datetime  # a person will answer by then
    usual_by: datetime | None  # "usually by": the desk's typical wait, when it was said


def running(desk: Settings, ticket: Ticket, now: datetime) -> list[Clock]:
    """One clock per target that applies now, soonest due first (paused ones as they stood)."""
    paused_at = ticket.paused_at if ticket.status in lifecycle.PAUSED else None
    dues = lifecycle.started_dues(ticket) if paused_at is not None else lifecycle.running_dues(ticket)
    clocks = [_clock(desk, ticket, kind, dues[kind], now, paused_at) for kind in KINDS if kind in dues]
    return sorted(clocks, key=lambda clock: clock.due)


def nearest(clocks: list[Clock]) -> Clock | None:
    """The clock a queue row shows: the soonest running one, else the soonest paused one."""
    return min(clocks, key=lambda clock: (clock.paused, clock.due), default=None)


def promise(ticket: Ticket) -> Promise | None:
    """What the customer was told, or None when no acknowledgement promised anything."""
    if ticket.ack_state != "sent" or ticket.promised_at is None:
        return None
    return Promise(promised_at=ticket.promised_at, usual_by=ticket.usual_by)


def label(kind: str, language: str) -> str:
    """'First response', 'Перша відповідь', 'Первый ответ' (English for another language)."""
    return LABELS.get(language, LABELS["en"])[KINDS.index(kind)]


def countdown(clock: Clock, now: datetime, tz: str, language: str) -> str:
    """'in 42 min · 16:40', '12 min late · 16:40', 'in 2 days 3 hr · Thu 16:40' (the day shown
    when the due time is not today in `tz`, the agent's zone), 'paused · 1 hr 5 min left'."""
    from babel.dates import format_datetime  # lazy: the webhook Lambda never loads Babel

    coming, late, paused, paused_late = PHRASES.get(language, PHRASES["en"])
    locale = language if language in PHRASES else "en"
    length = _length(abs(clock.remaining), locale)
    if clock.paused:
        return (paused if clock.remaining > timedelta(0) else paused_late).format(length)
    zone = ZoneInfo(tz)
    days_apart = abs((clock.due.astimezone(zone).date() - now.astimezone(zone).date()).days)
    pattern = "HH:mm" if days_apart == 0 else "EEE HH:mm" if days_apart < 7 else "EEE d MMM HH:mm"
    moment = format_datetime(clock.due, pattern, tzinfo=zone, locale=locale)
    return f"{(coming if clock.remaining > timedelta(0) else late).format(length)} · {moment}"


def _clock(
    desk: Settings, ticket: Ticket, kind: Target, due: datetime, now: datetime, paused_at: datetime | None
) -> Clock:
    at = paused_at or now  # a paused clock stands where the pause found it
    policy = desk.policy_for(ticket.channel, ticket.priority)
    reached = alerts.share_reached(desk, ticket, kind, due, at)
    level: Level = "breach" if at >= due else "warn" if reached is not None else "ok"
    remaining = due - at
    if paused_at is not None and remaining > timedelta(0) and policy.target(kind).business:
        remaining = desk.calendar_for(ticket.queue).between(paused_at, due)
    return Clock(kind, due, remaining, paused=paused_at is not None, level=level, share=reached)


def _length(span: timedelta, locale: str) -> str:
    """'1 hr 5 min', '2 дн. 3 год': the largest unit and the next one unless it is 0, in whole
    minutes rounded up (at least one)."""
    from babel.units import format_unit  # exact counts; format_timedelta would round 10 days to a week

    left = max(1, math.ceil(span.total_seconds() / 60))
    counts = []
    for unit, minutes in UNITS:
        count, left = divmod(left, minutes)
        counts.append((count, unit))
    first = next(index for index, (count, _) in enumerate(counts) if count)
    shown = [counts[first]] + ([counts[first + 1]] if first + 1 < len(counts) and counts[first + 1][0] else [])
    return " ".join(format_unit(count, unit, length="short", locale=locale) for count, unit in shown)
