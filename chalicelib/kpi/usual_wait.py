"""The usual first-response wait: "we usually answer within 7 minutes" in the acknowledgement.

Written once a day by the digest (`refresh`, from kpi/mailing.py), from the tallies of the facts
it has read anyway: for each channel × priority (a lane), the median wait of the first responses
of the last 7 desk-local days, in business time (`business_seconds`: a ticket written at night
did not wait the night for us) (the digest's day and the 6 before it; nearest rank, stats.py)
and how many there were — one Key item, `usual#summary`. History is never queried on behalf of a customer.

Read by the acknowledgement job (`wait_for`): one GetItem (an item of a new ticket's batch read,
new_ticket.py, when `due`), kept in this process for CACHE_FOR, so a busy hour costs a dozen
reads, not one per ticket. Never on the webhook path:
intake's three AWS calls per new ticket are a product figure.

Said only when it is true and worth saying (`[usual]` in desk.toml):
- the lane has at least `min_samples` first responses in the 7 days;
- the queue's calendar is open when the ticket arrived and stays open for the whole usual
  wait — at night, or at 17:30 with "2 hours", the words would be false, and the SLA promise
  already covers it;
- the usual time, `usual_by` = created + median in business time, is at most `sooner_than`
  of the way to the promise (wall clock, so a Friday 17:55 ticket whose 7 minutes end on
  Monday is not told "7 minutes"), and never after the promise, which stays the outer bound;
- the acknowledgement goes out before `usual_by` (not after a long retry).
The acknowledgement records `usual_by` on the ticket, its first_response fact carries it, and
the digest reports how often the "usually" held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from chalicelib import clock, keys, writes
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.config import Settings, settings
from chalicelib.kpi import stats
from chalicelib.kpi.tally import Tally, lane
from chalicelib.models import Key, Ticket

WINDOW_DAYS = 7
CACHE_FOR = timedelta(minutes=5)  # a day-old figure may be five minutes staler; one read per warm Lambda per 5 min

_cache: tuple[datetime, dict[str, dict[str, Any]]] | None = None  # (read at, lanes)


class Wait(NamedTuple):
    median: timedelta  # what the acknowledgement says
    by: datetime  # when that is for this ticket (UTC): the digest checks whether it held


# --- written by the digest ---------------------------------------------------------------------
def summarize(tallies: Sequence[Tally], computed_at: datetime) -> dict[str, Any]:
    """The summary of the last WINDOW_DAYS tallies (oldest first)."""
    window = list(tallies)[-WINDOW_DAYS:]
    seconds: dict[str, list[float]] = {}
    for tally in window:
        for key, values in tally.first_by_lane.items():
            seconds.setdefault(key, []).extend(values)
    lanes = {key: {"median": stats.median(values), "count": len(values)} for key, values in sorted(seconds.items())}
    return {"days": [window[0].day, window[-1].day], "lanes": lanes, "computed_at": clock.iso(computed_at)}


def refresh(tallies: Sequence[Tally], now: datetime) -> None:
    """Write the summary, unless one of a later window is there: re-sending an old day's
    digest must not bring back an old "usually" (a conditional put, no read)."""
    summary = summarize(tallies, now)
    covers = tallies[-1].end_of_day()
    writes.put_if(Key(keys.USUAL_SUMMARY, data=summary, until=covers), Key.key.does_not_exist() | (Key.until <= covers))


# --- read by the acknowledgement -----------------------------------------------------------------
def lanes(now: datetime, read: AlreadyRead = NOTHING) -> dict[str, dict[str, Any]]:
    """The summary's lanes, read at most once per CACHE_FOR (a missing summary is cached too);
    one the job has `read` already is taken as the fresh copy."""
    global _cache
    if read.knows(keys.USUAL_SUMMARY):
        _cache = (now, _lanes_of(read.item(keys.USUAL_SUMMARY)))
    elif _cache is None or due(now):
        _cache = (now, _read())
    return _cache[1]


def due(now: datetime) -> bool:
    """Whether `lanes` would read the summary now (a job reading keys up front asks for it then)."""
    return _cache is None or not _cache[0] <= now < _cache[0] + CACHE_FOR


def forget() -> None:
    """Drop the cached summary (tests: a fresh embedded AWS has none)."""
    global _cache
    _cache = None


def _read() -> dict[str, dict[str, Any]]:
    try:
        return _lanes_of(Key.get(keys.USUAL_SUMMARY, attributes_to_get=["key", "data"]))
    except Key.DoesNotExist:
        return {}


def _lanes_of(summary: Key | None) -> dict[str, dict[str, Any]]:
    data = (summary.data if summary is not None else None) or {}
    return dict(data.get("lanes") or {})


def shown(median: timedelta) -> timedelta | None:
    """The median rounded *up* to a whole number of the unit the sentence says it in (minutes
    under an hour, hours under a day, days under a week; rendered with `duration(language, 1)`),
    so the customer is never told a shorter wait than the figure and `usual_by` matches the
    words. None from a week on: Babel would say "1 week" for 10 days, and nobody waits a week
    "usually"."""
    seconds = median.total_seconds()
    for unit, below in ((60, 3600), (3600, 86400), (86400, 7 * 86400)):
        if seconds < below:
            return timedelta(seconds=unit * max(math.ceil(seconds / unit), 1))
    return None


def wait_for(ticket: Ticket, now: datetime, desk: Settings | None = None, read: AlreadyRead = NOTHING) -> Wait | None:
    """The usual wait to tell this ticket's customer, or None when it would not be true or
    not worth saying (see the module docstring)."""
    desk = desk or settings()
    rules, promised, start = desk.usual, ticket.promised_at, ticket.created_at
    calendar = desk.calendar_for(ticket.queue)
    # closed: "within 7 minutes" would be false tonight, and the promise already says when
    if not rules.enabled or promised is None or not calendar.is_open(start):
        return None  # (checked before the read: a night ticket costs no GetItem)
    found = lanes(now, read).get(lane(ticket.channel, ticket.priority))
    if not found or found.get("median") is None or int(found.get("count", 0)) < rules.min_samples:
        return None
    median = shown(timedelta(seconds=float(found["median"])))
    if median is None:
        return None
    by = calendar.add(start, median)
    if by != start + median:  # the desk closes before then: "within 2 hours" would be false tonight
        return None
    if by > promised or by - start > rules.sooner_than * (promised - start):
        return None
    if by <= now:  # an acknowledgement delayed past it (retries) would announce a time already gone
        return None
    return Wait(median, by)
