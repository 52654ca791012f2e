"""The one clock: every "now" in Promptly comes from here, so tests can move time.

`now()` is the desk's time. On the local desk a person may move it forward (`/dev/clock`,
`python -m tools.clock +3h`) to watch the SLA watch warn and the morning digest go out without
waiting for them; the offset lives in this process only and is always zero on a deployed stage,
where nothing sets it. `machine_now()` is this machine's own time, never moved: the one thing to
compare with another system's clock (the age of a signed request), which moving the desk's time
must not turn into a refusal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def now() -> datetime:
    """The desk's time: timezone-aware UTC, plus the local desk's offset (zero unless moved)."""
    return datetime.now(UTC) + _offset


def machine_now() -> datetime:
    """This machine's time in UTC, whatever the desk's clock says."""
    return datetime.now(UTC)


def offset() -> timedelta:
    """How far the desk's clock is ahead of this machine's."""
    return _offset


def set_offset(ahead: timedelta) -> None:
    """Run the desk's clock `ahead` of this machine's (the local desk's /dev/clock; tools that
    follow a running local desk). Never called on a deployed stage."""
    global _offset
    _offset = ahead


def iso(moment: datetime) -> str:
    """Sortable UTC ISO-8601 text with milliseconds, the form stored in DynamoDB."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> datetime:
    """Inverse of `iso` (fromisoformat reads the trailing "Z" as UTC since Python 3.11)."""
    return datetime.fromisoformat(text)


def iso_week(moment: datetime, zone: str) -> str:
    """The ISO week of `moment` in `zone`, e.g. "2026-W48" (a roster's week: agents/staff.py)."""
    year, week, _ = moment.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"
