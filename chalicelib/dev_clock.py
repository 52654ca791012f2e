"""The local desk's clock a person can move: `/dev/clock`, on the local stage only (404 elsewhere).

A newcomer wants to see a ticket warn at 75 %, breach, and the next morning's digest without
waiting hours for them. Moving the clock runs the desk's time ahead of this machine's
(chalicelib/clock.py), and whatever registered with `after_move` — the local runner
(tools/local.py), which runs the schedules — runs at once, before the answer: when
`python -m tools.clock +3h` returns, the warnings are queued and the outbox sends them within
seconds.

    GET  /dev/clock                              the desk's time, and how far it is ahead
    POST /dev/clock {"by": "3 business hours"}   ahead by a duration written as in desk.toml; business
                                                 time counts in the default queue's calendar
    POST /dev/clock {"to": "08:05"}              to the next moment the desk's clock shows 08:05
    POST /dev/clock {"reset": true}              back to this machine's time

Only forward, or back to the machine's time: what was written at a moved time stays written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import clock, stage
from chalicelib.config import Settings, Span, settings
from chalicelib.errors import BadRequest, NotFound
from chalicelib.http import body, error_response, json_response, pattern, respond, validated

MAX_BODY_BYTES = 1024
TIME_OF_DAY = pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "must be a time of day such as 08:05")

# Run after every move, in registration order; each returns the names of what it ran.
_after_move: list[Callable[[], list[str]]] = []


class ClockMove(BaseModel):
    """Exactly one of the three."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    by: str | None = Field(default=None, max_length=40)
    to: str | None = Field(default=None, max_length=5, pattern=TIME_OF_DAY)
    reset: bool = False


def after_move(run: Callable[[], list[str]]) -> None:
    """Have `run` called after each move (the local runner: the schedules, at once)."""
    _after_move.append(run)


def show() -> Response:
    if not stage.is_local():
        return error_response(NotFound("no such route"))
    return json_response(view(settings()))


def move(raw_body: bytes | str | None) -> Response:  # as Chalice types `Request.raw_body`
    if not stage.is_local():
        return error_response(NotFound("no such route"))
    return respond("dev_clock", _move, raw_body)


def _move(raw_body: bytes | str | None) -> Response:
    change = validated(ClockMove, body(raw_body, MAX_BODY_BYTES) or b"{}")
    desk = settings()
    target = destination(desk, change, clock.now())
    clock.set_offset(timedelta(0) if target is None else target - clock.machine_now())
    ran = [name for run in _after_move for name in run()]
    return json_response({**view(desk), "ran": ran})


def destination(desk: Settings, change: ClockMove, now: datetime) -> datetime | None:
    """Where the clock goes from `now`; None: back to this machine's time."""
    asked = [name for name in ("by", "to") if getattr(change, name) is not None] + (["reset"] if change.reset else [])
    if len(asked) != 1:
        raise BadRequest("say how to move the clock with one of by, to or reset")
    if change.reset:
        return None
    if change.to is not None:
        return next_time_of_day(desk, change.to, now)
    try:
        span = Span.parse(change.by or "")
    except ValueError as error:
        raise BadRequest(f"by: {error}", field="by") from None
    if span.business:
        return desk.calendar_for(desk.routing.default_queue).add(now, span.length)
    return now + span.length


def next_time_of_day(desk: Settings, wanted: str, now: datetime) -> datetime:
    """The first moment after `now` at which the desk's wall clock shows `wanted` ("HH:MM")."""
    zone = ZoneInfo(desk.desk.timezone)
    hour, minute = (int(part) for part in wanted.split(":"))
    today = now.astimezone(zone).date()
    for day in (today, today + timedelta(days=1)):
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if moment > now:
            return moment
    raise AssertionError("tomorrow's time of day is always later than now")


def view(desk: Settings) -> dict[str, Any]:
    now = clock.now()
    local = now.astimezone(ZoneInfo(desk.desk.timezone))
    return {
        "now": clock.iso(now),
        "desk_time": f"{local:%a %Y-%m-%d %H:%M} {desk.desk.timezone}",
        "ahead_seconds": int(clock.offset().total_seconds()),
    }
