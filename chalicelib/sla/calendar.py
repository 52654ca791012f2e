"""The business-hours clock: when a desk is open, and how much open time lies between two instants.

Semantics
---------
An instant is *business time* iff its LOCAL wall-clock date (in the calendar's zone) is not in
`closed` and its local wall-clock time of day lies in one of that weekday's `[start, end)`
intervals (minutes since local midnight; `end` may be 1440, meaning up to the next midnight).

Business durations are REAL elapsed time, not wall-clock differences:

* a desk open 24/7 accrues exactly the elapsed time, across DST changes too (a spring-forward
  day has 23 business hours, a fall-back day 25);
* local times skipped by a DST gap never occur, so they contribute nothing;
* local times repeated by a fall-back occur twice, and count both times if they fall inside an
  interval.

`closed` holds local dates and is consulted on every call, never cached, so a
`holidays.HolidayBase` that fills in years on demand works. Instants are exact to the
microsecond. Aware datetimes go in (naive ones are rejected: their meaning is a guess); aware
UTC datetimes come out. `add` of zero is the start itself, open or not; `add` and `next_open`
raise ValueError when there is no open time at all for ~2 years ahead (a desk with no hours),
while `between` simply answers zero.

How it works
------------
For each local date d we compute the UTC spans that are open on d: a UTC window wide enough to
hold every instant whose local date is d is cut into pieces of constant UTC offset, and each
weekday interval is mapped through each piece's offset. Spans are cached per (zone, hours, date),
so the hot path (`add` of a few business hours) only walks a handful of cached tuples.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar", "Span", "always_open", "open_since", "parse_hours", "to_us"]

Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
Span = tuple[int, int]  # [start, end) in microseconds since the Unix epoch, UTC

_MINUTES_PER_DAY = 1440
_DAY_S = 86_400
_US = 1_000_000
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()

# Every offset in the IANA database, local mean time of the 1800s included, is within
# +-16h (Asia/Manila's LMT is -15:56), so [d 00:00 - 17h, d+1 00:00 + 17h) read as UTC holds
# every instant whose local date is d, with margin.
_REACH_S = 17 * 3600
# Offsets are sampled this often and bisected where they change. Real zones never change
# offset and change back within an hour, so no transition can hide between two samples.
_SAMPLE_S = 3600
# A desk with no open time for this long is misconfigured; walking further would never end.
_GIVE_UP_DAYS = 2 * 366


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk is open. See the module docstring for the exact rules."""

    tz: ZoneInfo
    weekly: tuple[DayHours, ...]  # Monday..Sunday
    # Excluded from the hash so an unhashable container (a `holidays.HolidayBase` is a dict)
    # still gives a hashable calendar; equal calendars still hash equal.
    closed: Container[date] = field(default=frozenset(), hash=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 entries (Monday..Sunday), got {len(self.weekly)}")
        # Normalise lists to tuples: the hours are cache keys and must be hashable.
        weekly = tuple(_checked_day(day, _WEEKDAYS[i]) for i, day in enumerate(self.weekly))
        object.__setattr__(self, "weekly", weekly)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant `due` such that business time in [start, due) equals `duration`."""
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        now = _to_us(start)
        remaining = duration // _ONE_US
        if remaining == 0:
            return _from_us(now)
        for lo, hi in self._spans(now):
            if hi - lo >= remaining:
                return _from_us(lo + remaining)
            remaining -= hi - lo
        raise AssertionError("unreachable: _spans never ends without an upper bound")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero if end <= start."""
        return timedelta(microseconds=sum(hi - lo for lo, hi in self.open_spans(start, end)))

    def open_spans(self, start: datetime, end: datetime) -> list[Span]:
        """The open spans within [start, end), clipped to it, in UTC order (empty if end <= start).
        For a caller that measures many sub-intervals of one interval (alerts.before bisects):
        one walk of the days and their closed dates instead of one per measure."""
        lo_us, hi_us = _to_us(start), _to_us(end)
        found: list[Span] = []
        if hi_us > lo_us:
            for lo, hi in self._spans(lo_us, until=hi_us):
                if lo >= hi_us:
                    break
                found.append((lo, min(hi, hi_us)))
        return found

    def is_open(self, at: datetime) -> bool:
        """Whether `at` is business time."""
        local = _require_aware(at).astimezone(self.tz)
        day = local.date()
        if day in self.closed:
            return False
        seconds = (local.hour * 60 + local.minute) * 60 + local.second
        moment = seconds * _US + local.microsecond
        return any(a * 60 * _US <= moment < b * 60 * _US for a, b in self.weekly[day.weekday()])

    def next_open(self, at: datetime) -> datetime:
        """`at` itself (in UTC) if open, else the start of the next open span."""
        now = _to_us(at)
        for lo, _ in self._spans(now):
            return _from_us(lo)
        raise AssertionError("unreachable: _spans never ends without an upper bound")

    def _spans(self, since: int, until: int | None = None) -> Iterator[Span]:
        """Open spans in UTC order, the first clipped to start no earlier than `since`.

        Yields spans starting before `until` (and possibly a few after); without `until` it goes
        on forever, or raises ValueError after ~2 years without any open time.
        """
        # Local dates are not in UTC order when a clock is set back across midnight (Sitka
        # repeated most of 1867-10-18 after 10-19 had begun), so spans go through a heap and
        # leave it only once no later date can still produce an earlier one. Starting two days
        # back catches an earlier date's span that is still to come.
        day = self._local_date(since) - 2 * _ONE_DAY
        last_active = day
        heap: list[Span] = []
        while True:
            for span in self._day_spans(day):
                heapq.heappush(heap, span)
                last_active = day
            horizon = _window_start_us(day + _ONE_DAY)  # no later date opens before this
            while heap and heap[0][0] < horizon:
                lo, hi = heapq.heappop(heap)
                if hi > since:
                    yield max(lo, since), hi
            if until is not None and horizon >= until:
                return
            if until is None and not heap and (day - last_active).days > _GIVE_UP_DAYS:
                raise ValueError(f"business calendar has no open time in the ~2 years after {last_active}")
            day += _ONE_DAY

    def _day_spans(self, day: date) -> tuple[Span, ...]:
        if day in self.closed:
            return ()
        return _open_spans(self.tz, self.weekly[day.weekday()], day)

    def _local_date(self, us: int) -> date:
        return _from_us(us).astimezone(self.tz).date()


def always_open(tz: ZoneInfo) -> BusinessCalendar:
    """A 24/7 desk with no closed dates: business time is elapsed time."""
    return BusinessCalendar(tz=tz, weekly=(((0, _MINUTES_PER_DAY),),) * 7)


_HOURS_RE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_hours(spec: list[str]) -> DayHours:
    """Parse ["09:00-13:00", "14:00-18:00"] into ((540, 780), (840, 1080)).

    Intervals are half-open; "24:00" is allowed as an end (open until midnight). Intervals may
    be given in any order and may touch, but not overlap.
    """
    parsed = sorted((_parse_interval(item), item) for item in spec)
    for (prev, prev_item), (cur, item) in pairwise(parsed):
        if cur[0] < prev[1]:
            raise ValueError(f"business hours {item!r} overlap {prev_item!r}")
    return tuple(interval for interval, _ in parsed)


def _parse_interval(item: object) -> Interval:
    match = _HOURS_RE.fullmatch(item.strip()) if isinstance(item, str) else None
    if match is None:
        raise ValueError(f"business hours {item!r} are not of the form 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 > 59 or m2 > 59 or h1 > 23 or (h2, m2) > (24, 0):
        raise ValueError(f"business hours {item!r} contain an impossible time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"business hours {item!r} end before they start")
    return start, end


def _checked_day(day: object, label: str) -> DayHours:
    """Validate one weekday's intervals, as the dataclass promises callers they are."""
    try:
        intervals = tuple((int(a), int(b)) for a, b in day)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: hours must be (start, end) minute pairs, got {day!r}") from exc
    prev_end = 0
    for a, b in intervals:
        if not 0 <= a < b <= _MINUTES_PER_DAY:
            raise ValueError(f"{label}: interval {(a, b)} is not within 0 <= start < end <= 1440")
        if a < prev_end:
            raise ValueError(f"{label}: interval {(a, b)} is out of order or overlaps the previous")
        prev_end = b
    return intervals


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass an aware one")
    return moment


def _to_us(moment: datetime) -> int:
    return (_require_aware(moment) - _EPOCH) // _ONE_US


to_us = _to_us  # an instant as the spans count it: microseconds since the epoch, UTC


def open_since(spans: list[Span], since: int) -> int:
    """Open microseconds of `spans` (as `open_spans` gives them) from `since` on."""
    return sum(hi - max(lo, since) for lo, hi in spans if hi > since)


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _midnight_s(day: date) -> int:
    """Local midnight of `day` as if it were UTC, in seconds since the epoch."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_S


def _window_start_us(day: date) -> int:
    return (_midnight_s(day) - _REACH_S) * _US


@lru_cache(maxsize=16_384)
def _open_spans(tz: tzinfo, hours: DayHours, day: date) -> tuple[Span, ...]:
    """UTC spans whose local wall time is on `day` and inside `hours`, sorted."""
    if not hours:
        return ()
    midnight = _midnight_s(day)
    spans = []
    for seg_lo, seg_hi, offset in _offset_segments(tz, day):
        # Within the segment, wall time = utc + offset, so wall time in [a, b) maps to
        # utc in [a - offset, b - offset).
        for a, b in hours:
            lo = max(seg_lo, midnight + a * 60 - offset)
            hi = min(seg_hi, midnight + b * 60 - offset)
            if lo < hi:
                spans.append((lo * _US, hi * _US))
    spans.sort()
    return tuple(spans)


@lru_cache(maxsize=4_096)
def _offset_segments(tz: tzinfo, day: date) -> tuple[tuple[int, int, int], ...]:
    """Cut the UTC window around `day` into (start_s, end_s, offset_s) pieces of constant offset."""
    lo = _midnight_s(day) - _REACH_S
    hi = _midnight_s(day) + _DAY_S + _REACH_S
    segments = []
    seg_start, offset = lo, _offset_s(tz, lo)
    known = lo  # the latest second known to still have `offset`
    for probe in [*range(lo + _SAMPLE_S, hi, _SAMPLE_S), hi - 1]:
        # A loop, not an if: two transitions may fall between the same pair of samples.
        while _offset_s(tz, probe) != offset:
            change = _first_change(tz, known, probe, offset)
            segments.append((seg_start, change, offset))
            seg_start, known, offset = change, change, _offset_s(tz, change)
        known = probe
    segments.append((seg_start, hi, offset))
    return tuple(segments)


def _first_change(tz: tzinfo, same: int, differs: int, offset: int) -> int:
    """The first second after `same` whose offset is no longer `offset` (tz data is in seconds)."""
    while differs - same > 1:
        mid = (same + differs) // 2
        if _offset_s(tz, mid) == offset:
            same = mid
        else:
            differs = mid
    return differs


def _offset_s(tz: tzinfo, utc_s: int) -> int:
    offset = datetime.fromtimestamp(utc_s, tz).utcoffset()
    assert offset is not None, "a zone must give every instant an offset"
    return offset // timedelta(seconds=1)
