"""What one desk-local day's facts say, gathered in one pass: the digest's raw material.

A `Tally` counts and collects; it computes no figure. The digest (kpi/digest.py) makes its
figures from the tallies of the day and the week before it, and the usual wait
(kpi/usual_wait.py) makes its medians from the same tallies, so the facts are read once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.kpi import topics
from chalicelib.kpi.reading import Row

TARGETS = ("first_response", "next_response", "resolution")
SETTLES = {"first_response": "first_response", "next_response": "next_response", "solved": "resolution"}

Instance = tuple[str, str, str]  # (ticket, target, due as UTC ISO): one promise


def lane(channel: str, priority: str) -> str:
    """The usual wait's unit: first responses of one channel and priority."""
    return f"{channel}#{priority}"


def _instance(ticket: str, target: str, due: str | None) -> Instance | None:
    if not due:
        return None
    return ticket, target, clock.iso(clock.parse_iso(due))


class Tally:
    """What one day's facts say, gathered in one pass over them (in time order)."""

    def __init__(self, day: str, tz: ZoneInfo) -> None:
        self.day, self.tz = day, tz
        self.facts = 0
        self.created = 0
        self.automated = 0
        self.by_channel: Counter[str] = Counter()
        self.by_queue: Counter[str] = Counter()
        self.by_hour = [0] * 24
        self.first_response: dict[str, list[float]] = defaultdict(list)  # channel → seconds
        self.resolution: dict[str, list[float]] = defaultdict(list)
        self.met: Counter[str] = Counter()  # target → instances met
        self.late: dict[Instance, Row] = {}  # settled after their due time
        self.breached: dict[Instance, Row] = {}
        self.promised = [0, 0]  # kept, total
        self.usual = [0, 0]
        self.answered: Counter[str] = Counter()  # agent → answers
        self.solved_by: Counter[str] = Counter()
        self.first_by_agent: dict[str, list[float]] = defaultdict(list)
        self.first_by_lane: dict[str, list[float]] = defaultdict(list)  # "channel#priority" → seconds
        self.solved = 0
        self.reopened = 0
        self.closed = 0
        self.ratings: dict[str, Row] = {}  # ticket → latest vote
        self.scores: dict[str, Row] = {}  # ticket → latest survey answer
        self.keywords: Counter[str] = Counter()
        self.subjects_known = 0
        self.without_subject: list[Row] = []
        self.missed: dict[str, list[Instance]] = {}

    # one pass ----------------------------------------------------------------------------
    def add(self, row: Row) -> None:
        self.facts += 1
        kind, data = row.kind, row.data
        if kind == "created":
            self._created(row)
        elif kind in SETTLES:
            self._settled(row, SETTLES[kind])
        elif kind == "answered":
            self.answered[str(data.get("agent"))] += 1
        elif kind == "breached":
            instance = _instance(row.ticket, str(data.get("target")), data.get("due"))
            if instance is not None:
                self.breached[instance] = row
        elif kind == "rated":
            self.ratings[row.ticket] = row  # rows come in time order: a later vote replaces an earlier
        elif kind == "nps":
            self.scores[row.ticket] = row  # a changed answer replaces the earlier one
        elif kind == "reopened":
            self.reopened += 1
        elif kind == "closed":
            self.closed += 1

    def _created(self, row: Row) -> None:
        if row.data.get("automated"):
            self.automated += 1
            return
        self.created += 1
        self.by_channel[row.channel] += 1
        self.by_queue[row.queue] += 1
        self.by_hour[row.at.astimezone(self.tz).hour] += 1
        subject = row.data.get("subject")
        if subject is None:
            self.without_subject.append(row)
        else:
            self.add_subject(str(subject))

    def add_subject(self, subject: str) -> None:
        self.subjects_known += 1
        self.keywords.update(topics.keywords(subject))

    def _settled(self, row: Row, target: str) -> None:
        if row.kind == "first_response":
            self._first_response(row)
        elif row.kind == "solved":
            self._solved(row)
        met = row.data.get("met")
        if met is True:
            self.met[target] += 1
        elif met is False:
            instance = _instance(row.ticket, target, row.data.get("due"))
            if instance is not None:
                self.late[instance] = row

    def _first_response(self, row: Row) -> None:
        data, seconds = row.data, row.data.get("seconds")
        if seconds is not None:
            self.first_response[row.channel].append(float(seconds))
            self.first_by_agent[str(data.get("agent"))].append(float(seconds))
            if data.get("priority"):  # older facts carry none: they belong to no lane
                sample = data.get("business_seconds", seconds)  # business time, as usual_by adds it
                self.first_by_lane[lane(row.channel, str(data["priority"]))].append(float(sample))
        for name, counts in (("promised_at", self.promised), ("usual_by", self.usual)):
            if data.get(name):
                counts[1] += 1
                counts[0] += row.at <= clock.parse_iso(str(data[name]))

    def _solved(self, row: Row) -> None:
        self.solved += 1
        self.solved_by[str(row.data.get("agent"))] += 1
        seconds = row.data.get("seconds")
        if seconds is not None:
            self.resolution[row.channel].append(float(seconds))

    # after the pass ------------------------------------------------------------------------
    def settle(self, breached_before: set[Instance]) -> None:
        """Missed instances per target: today's breaches, plus late answers whose breach was not
        recorded today or on a day read before (so each broken promise counts once)."""
        missed: dict[str, list[Instance]] = {target: [] for target in TARGETS}
        for instance in self.breached:
            if instance[1] in missed:
                missed[instance[1]].append(instance)
        for instance in self.late:
            if instance not in self.breached and instance not in breached_before and instance[1] in missed:
                missed[instance[1]].append(instance)
        self.missed = missed

    def end_of_day(self) -> datetime:
        following = date.fromisoformat(self.day) + timedelta(days=1)
        return datetime.combine(following, time(0), tzinfo=self.tz).astimezone(UTC)
