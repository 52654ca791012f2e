"""The morning digest: yesterday's KPIs in one email to every admin and lead, archived in S3.

    compute(day)  the digest of a desk-local day as JSON-able figures (what is archived)
    send(day)     compute, archive `digests/<day>.json` and `.html`, queue one email per admin and
                  lead; once per day (the `digest#<day>` key), so a retried schedule mails nobody twice
    deliver(job)  the outbox job that mails one person, in their language, from the archived JSON
    run(now)      the hourly schedule: from the desk's digest hour on, send the previous local day

What is read, and why the cost follows activity, not history:
- the day's facts and those of the 7 days before it (the day before and the trailing week the
  headline figures are compared with): one paginated Query per day on the facts table;
- the live tickets, for the backlog as of sending time: one Query per queue on the sparse
  `Ticket.by_queue` index (closed tickets are not in it);
- the people: one GetItem of `staff#leaders` (the active admins and leads, who get the digest;
  agents/staff.py keeps it), then one BatchGetItem (100 a call) of them and of the agents the
  day's facts name or who hold a live ticket (its assignee, read with the backlog): names and
  open load. No Scan: the cost follows the day's activity, not the size of the staff;
- subjects, only for created facts that do not carry one (`data.subject`): BatchGetItem of
  those tickets, 100 per call.

How each figure is made — "never invent a figure": a KPI without data is None (shown "—"),
never 0 %; a day with no facts at all has no figures, not zeros.
- Volume: `created` facts, by channel, queue and desk-local hour. Tickets the desk flagged as
  automated (robots, bounces) are counted apart, not in the volume.
- First response / resolution: `seconds` of the day's `first_response` / `solved` facts
  (wall-clock since the ticket was created), median and p90 by nearest rank (stats.py).
- SLA attainment per target = met / (met + missed). A target instance is identified by
  (ticket, target, due). Met: a `first_response` / `next_response` / `solved` fact with
  `met: true`. Missed: a `breached` fact (counted the day the promise broke, whether or not
  the ticket was answered since), or a fact with `met: false` whose breach was not recorded
  that day or in the week read before it — so an instance is counted once. Facts with `met: null`
  (no due time: automated tickets) are left out. The worst missed instances are listed by how
  late they were: answered late → answer time − due; still waiting → end of day − due.
- Promises kept: of the day's first responses whose acknowledgement named a time
  (`promised_at`), the share answered by that time. "Usually" held: the same for a
  `usual_by` time, when the acknowledgement said "we usually answer within …" (kpi/usual.py).
- The usual wait: `send` also writes, from the tallies it read, the median first response per
  channel × priority of the day and the 6 before it (`usual#summary`, kpi/usual.py), so the
  acknowledgement's "usually" is refreshed daily without reading a fact more.
- Backlog: live tickets as of sending time by age since creation (<1 h, 1–4 h, 4–24 h,
  1–3 d, >3 d); pending tickets are "waiting on the customer", apart; automated apart.
- Per agent: `answered` and `solved` facts, median of their first responses, and open load
  from the Agent item (now).
- CSAT: the latest `rated` fact per ticket that day, share "good". NPS: % promoters (9–10)
  − % detractors (0–6) of the day's `nps` facts, the latest answer per ticket.
- Topics: subject keywords (topics.py), each ticket counting a word once; queues rising: the
  day's volume at least 1.5× the trailing 7-day average and at least 3 tickets above it.
- Comparisons: each headline figure against the day before and the average of the trailing
  7 days (the days that have data), with ↑ / ↓ / → (stats.compare).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib import aws, clock, keys, log, mail, stage, writes
from chalicelib.agents import staff
from chalicelib.config import Settings, settings
from chalicelib.kpi import stats, topics, usual
from chalicelib.kpi.facts import Reads, Row, day_rows
from chalicelib.models import Agent, Key, Ticket

VERSION = 1  # of the JSON below; bump when a field changes meaning
TRAILING_DAYS = 7
TARGETS = ("first_response", "next_response", "resolution")
SETTLES = {"first_response": "first_response", "next_response": "next_response", "solved": "resolution"}
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("lt_1h", 3600),
    ("h1_4", 4 * 3600),
    ("h4_24", 24 * 3600),
    ("d1_3", 3 * 24 * 3600),
    ("gt_3d", None),
)
TOP_KEYWORDS = 10
WORST_BREACHES = 10
MAX_COMMENTS = 20
RISING_RATIO = 1.5
RISING_MIN_EXTRA = 3
ARCHIVE_PREFIX = "digests/"
MARKER_DAYS = 400  # the once-per-day key outlives any retry by far, then DynamoDB deletes it

# Headline figures: (key, unit, higher is better — None when neither direction is good news)
HEADLINES: tuple[tuple[str, stats.Unit, bool | None], ...] = (
    ("tickets", "count", None),
    ("first_response_median", "seconds", False),
    ("first_response_p90", "seconds", False),
    ("resolution_median", "seconds", False),
    ("sla_first_response", "share", True),
    ("sla_next_response", "share", True),
    ("sla_resolution", "share", True),
    ("breaches", "count", False),
    ("promises_kept", "share", True),
    ("solved", "count", None),
    ("csat", "share", True),
    ("nps", "score", True),
)

Instance = tuple[str, str, str]  # (ticket, target, due as UTC ISO): one promise


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
        data = row.data
        seconds = data.get("seconds")
        if row.kind == "first_response":
            if seconds is not None:
                self.first_response[row.channel].append(float(seconds))
                self.first_by_agent[str(data.get("agent"))].append(float(seconds))
                if data.get("priority"):  # older facts carry none: they belong to no lane
                    sample = data.get("business_seconds", seconds)  # business time, as usual_by adds it
                    self.first_by_lane[usual.lane(row.channel, str(data["priority"]))].append(float(sample))
            for name, counts in (("promised_at", self.promised), ("usual_by", self.usual)):
                if data.get(name):
                    counts[1] += 1
                    counts[0] += row.at <= clock.parse_iso(str(data[name]))
        elif row.kind == "solved":
            self.solved += 1
            self.solved_by[str(data.get("agent"))] += 1
            if seconds is not None:
                self.resolution[row.channel].append(float(seconds))
        met = data.get("met")
        if met is True:
            self.met[target] += 1
        elif met is False:
            instance = _instance(row.ticket, target, data.get("due"))
            if instance is not None:
                self.late[instance] = row

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

    def attainment(self, target: str) -> dict[str, Any]:
        met, missed = self.met[target], len(self.missed.get(target, []))
        return {"met": met, "missed": missed, "attainment": stats.share(met, met + missed)}

    def worst(self, limit: int = WORST_BREACHES) -> list[dict[str, Any]]:
        end = self.end_of_day()
        found = []
        for target in TARGETS:
            for instance in self.missed.get(target, []):
                ticket, _, due_text = instance
                due = clock.parse_iso(due_text)
                settled = self.late.get(instance)
                breach = self.breached.get(instance)
                row = settled or breach
                assert row is not None
                if settled is not None:
                    late = (settled.at - due).total_seconds()
                else:
                    recorded = float((breach.data if breach else {}).get("late_seconds") or 0)
                    late = max(recorded, (end - due).total_seconds())
                found.append(
                    {
                        "ticket": ticket,
                        "target": target,
                        "channel": row.channel,
                        "queue": row.queue,
                        "due": due_text,
                        "late_seconds": int(late),
                        "settled": settled is not None,
                    }
                )
        found.sort(key=lambda item: (-item["late_seconds"], item["ticket"]))
        return found[:limit]

    def headline(self) -> dict[str, float | None]:
        """The figures compared from day to day (None for all of them on a day without facts)."""
        if not self.facts:
            return {key: None for key, _, _ in HEADLINES}
        first = [s for values in self.first_response.values() for s in values]
        resolved = [s for values in self.resolution.values() for s in values]
        first_median, first_p90 = stats.median_p90(first)
        good = sum(1 for row in self.ratings.values() if row.data.get("rating") == "good")
        return {
            "tickets": float(self.created),
            "first_response_median": first_median,
            "first_response_p90": first_p90,
            "resolution_median": stats.median(resolved),
            "sla_first_response": self.attainment("first_response")["attainment"],
            "sla_next_response": self.attainment("next_response")["attainment"],
            "sla_resolution": self.attainment("resolution")["attainment"],
            "breaches": float(sum(len(v) for v in self.missed.values())),
            "promises_kept": stats.share(*self.promised),
            "solved": float(self.solved),
            "csat": stats.share(good, len(self.ratings)),
            "nps": stats.nps(int(row.data.get("score", 0)) for row in self.scores.values()),
        }


# --- compute ---------------------------------------------------------------------------------
def compute(day: str, *, now: datetime | None = None, reads: Reads | None = None) -> dict[str, Any]:
    """The digest of desk-local `day` ("2026-11-23") as JSON-able figures; the backlog is as of
    `now` (sending time). `reads`, if given, collects what was read (the benchmark checks it)."""
    return _compute(settings(), day, now or clock.now(), reads if reads is not None else Reads()).figures


class Computed(NamedTuple):
    figures: dict[str, Any]
    people: list[Agent]
    tallies: list[Tally]  # the days read, oldest first (the usual wait is made from them)


def _compute(desk: Settings, day: str, now: datetime, reads: Reads) -> Computed:
    tz = ZoneInfo(desk.desk.timezone)
    target_day = date.fromisoformat(day)
    days = [(target_day - timedelta(days=back)).isoformat() for back in range(TRAILING_DAYS, -1, -1)]
    tallies: dict[str, Tally] = {}
    breached_before: set[Instance] = set()
    for each in days:  # oldest first: a breach on an earlier day is known when its late answer comes
        tally = Tally(each, tz)
        for row in day_rows(each, reads):
            tally.add(row)
        tally.settle(breached_before)
        breached_before |= tally.breached.keys()
        tallies[each] = tally
    today = tallies[day]
    prior = [tallies[each] for each in days[:-1]]
    tickets_read = _fill_subjects(today)
    holders: set[str] = set()
    live = backlog(desk, now, holders)
    people = _people(today, holders)
    figures = {
        "version": VERSION,
        "day": day,
        "timezone": desk.desk.timezone,
        "desk_name": desk.desk.name,
        "generated_at": clock.iso(now),
        "has_data": today.facts > 0,
        "headlines": _headlines(today, prior),
        "volume": _volume(desk, today),
        "first_response": _times(today.first_response),
        "resolution": _times(today.resolution),
        "sla": {target: today.attainment(target) for target in TARGETS},
        "breaches": {"count": sum(len(v) for v in today.missed.values()), "worst": today.worst()},
        "promises": _kept(today.promised),
        "usual": _kept(today.usual),
        "backlog": live,
        "agents": _agents(today, people),
        "csat": _csat(today),
        "nps": _nps(today),
        "topics": _topics(desk, today, prior),
        "activity": {
            "solved": today.solved,
            "reopened": today.reopened,
            "closed": today.closed,
            "answers": sum(today.answered.values()),
        },
        "reads": {
            "fact_queries": reads.queries,
            "facts": reads.items,
            "facts_per_day": dict(reads.per_day),
            "tickets_for_subjects": tickets_read,
            "agents": len(people),
        },
    }
    return Computed(figures, people, [tallies[each] for each in days])


def _headlines(today: Tally, prior: list[Tally]) -> list[dict[str, Any]]:
    values = today.headline()
    before = prior[-1].headline() if prior else {}
    trailing = [tally.headline() for tally in prior[-TRAILING_DAYS:]]
    out = []
    for key, unit, higher_is_better in HEADLINES:
        average = stats.mean(day[key] for day in trailing)
        out.append(
            {
                "key": key,
                "unit": unit,
                "value": values[key],
                "higher_is_better": higher_is_better,
                "previous": stats.compare(
                    values[key], before.get(key), unit=unit, higher_is_better=higher_is_better
                ).as_dict(),
                "trailing": stats.compare(values[key], average, unit=unit, higher_is_better=higher_is_better).as_dict(),
            }
        )
    return out


def _ranked(counts: Counter[str], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    total = sum(counts.values())
    return [
        {"key": key, "name": (names or {}).get(key, key), "count": count, "share": stats.share(count, total)}
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _volume(desk: Settings, today: Tally) -> dict[str, Any]:
    peak = max(range(24), key=lambda hour: today.by_hour[hour]) if today.created else None
    return {
        "total": today.created,
        "automated": today.automated,
        "by_channel": _ranked(today.by_channel),
        "by_queue": _ranked(today.by_queue, {key: queue.name for key, queue in desk.queues.items()}),
        "by_hour": today.by_hour,
        "peak_hour": peak,
    }


def _times(by_channel: dict[str, list[float]]) -> dict[str, Any]:
    rows = []
    for channel in sorted(by_channel, key=lambda name: (-len(by_channel[name]), name)):
        median, p90 = stats.median_p90(by_channel[channel])
        rows.append({"channel": channel, "count": len(by_channel[channel]), "median": median, "p90": p90})
    everything = [seconds for values in by_channel.values() for seconds in values]
    median, p90 = stats.median_p90(everything)
    return {"by_channel": rows, "all": {"count": len(everything), "median": median, "p90": p90}}


def _kept(counts: list[int]) -> dict[str, Any]:
    kept, total = counts
    return {"kept": kept, "total": total, "share": stats.share(kept, total)}


def _agents(today: Tally, people: list[Agent]) -> list[dict[str, Any]]:
    known = {agent.agent_id: agent for agent in people}
    active = (
        set(today.answered)
        | set(today.solved_by)
        | set(today.first_by_agent)
        | {agent.agent_id for agent in people if agent.active and int(agent.open_load or 0) > 0}
    )
    rows = []
    for agent_id in active:
        agent = known.get(agent_id)
        rows.append(
            {
                "agent_id": agent_id,
                "name": agent.full_name if agent else agent_id,
                "answered": today.answered[agent_id],
                "solved": today.solved_by[agent_id],
                "first_response_median": stats.median(today.first_by_agent.get(agent_id, [])),
                "first_responses": len(today.first_by_agent.get(agent_id, [])),
                "open_load": int(agent.open_load or 0) if agent else None,
            }
        )
    rows.sort(key=lambda row: (-row["answered"], -row["solved"], row["name"]))
    return rows


def _csat(today: Tally) -> dict[str, Any]:
    votes = list(today.ratings.values())
    good = sum(1 for row in votes if row.data.get("rating") == "good")
    bad = [row for row in votes if row.data.get("rating") == "bad"]
    comments = [
        {
            "ticket": row.ticket,
            "comment": str(row.data.get("comment") or ""),
            "agent": row.data.get("agent"),
            "channel": row.channel,
        }
        for row in bad
        if str(row.data.get("comment") or "").strip()
    ]
    return {
        "good": good,
        "bad": len(bad),
        "count": len(votes),
        "share": stats.share(good, len(votes)),
        "bad_comments": comments[:MAX_COMMENTS],
        "bad_comments_total": len(comments),
    }


def _nps(today: Tally) -> dict[str, Any]:
    answers = list(today.scores.values())
    scores = [int(row.data.get("score", 0)) for row in answers]
    detractors = [
        row for row in answers if int(row.data.get("score", 0)) <= 6 and str(row.data.get("comment") or "").strip()
    ]
    return {
        "count": len(scores),
        "score": stats.nps(scores),
        "promoters": sum(1 for s in scores if s >= 9),
        "passives": sum(1 for s in scores if 7 <= s <= 8),
        "detractors": sum(1 for s in scores if s <= 6),
        "detractor_comments": [
            {"ticket": row.ticket, "score": int(row.data.get("score", 0)), "comment": str(row.data.get("comment"))}
            for row in detractors
        ][:MAX_COMMENTS],
    }


def _topics(desk: Settings, today: Tally, prior: list[Tally]) -> dict[str, Any]:
    trailing = prior[-TRAILING_DAYS:]
    with_subjects = [tally for tally in trailing if tally.subjects_known]
    keywords = []
    for word, count in sorted(today.keywords.items(), key=lambda item: (-item[1], item[0]))[:TOP_KEYWORDS]:
        average = stats.mean(float(tally.keywords[word]) for tally in with_subjects) if with_subjects else None
        keywords.append({"word": word, "count": count, "trailing_average": average})
    rising = []
    days_with_data = [tally for tally in trailing if tally.facts]
    for queue, count in today.by_queue.items():
        average = stats.mean(float(tally.by_queue[queue]) for tally in days_with_data) if days_with_data else None
        if average is not None and count >= RISING_RATIO * average and count - average >= RISING_MIN_EXTRA:
            rising.append(
                {
                    "queue": queue,
                    "name": desk.queues[queue].name if queue in desk.queues else queue,
                    "count": count,
                    "trailing_average": average,
                }
            )
    rising.sort(key=lambda item: (-(item["count"] - item["trailing_average"]), item["queue"]))
    return {"keywords": keywords, "subjects": today.subjects_known, "rising_queues": rising}


def _fill_subjects(today: Tally) -> int:
    """Keywords of tickets whose `created` fact carries no subject, read from the tickets
    themselves (BatchGetItem, 100 a call). Returns how many tickets were read."""
    wanted = list(dict.fromkeys(row.ticket for row in today.without_subject))
    if not wanted:
        return 0
    found = 0
    for ticket in Ticket.batch_get(wanted, attributes_to_get=["ticket_id", "subject"]):
        found += 1
        today.add_subject(ticket.subject or "")
    return found


def _people(today: Tally, holders: set[str]) -> list[Agent]:
    """The agents the digest names (the day's facts, live tickets' assignees) or goes to (the
    leaders): exact reads, so one BatchGetItem per 100 of them and never a Scan."""
    named = set(today.answered) | set(today.solved_by) | set(today.first_by_agent) | holders
    wanted = sorted(agent_id for agent_id in named | set(staff.leaders()) if agent_id)
    return list(Agent.batch_get(wanted)) if wanted else []


def backlog(desk: Settings, now: datetime, holders: set[str] | None = None) -> dict[str, Any]:
    """Live tickets now, by age since they were created: one Query per queue on the sparse
    by_queue index (only new/open/pending tickets are in it). `holders`, if given, collects
    their assignees: the agents with an open load, whether or not they worked that day."""
    buckets = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
    per_queue = []
    waiting = automated = 0
    for queue_key, queue in desk.queues.items():
        open_here = waiting_here = 0
        for ticket in Ticket.by_queue.query(
            queue_key, attributes_to_get=["ticket_id", "status", "created_at", "automated", "assignee"]
        ):
            if holders is not None and ticket.assignee:
                holders.add(ticket.assignee)
            if ticket.automated:
                automated += 1
            elif ticket.status == "pending":
                waiting += 1
                waiting_here += 1
            else:
                open_here += 1
                buckets[_bucket((now - ticket.created_at).total_seconds())] += 1
        if open_here or waiting_here:
            per_queue.append({"key": queue_key, "name": queue.name, "open": open_here, "waiting": waiting_here})
    return {
        "as_of": clock.iso(now),
        "open": sum(buckets.values()),
        "buckets": buckets,
        "waiting_on_customer": waiting,
        "automated": automated,
        "by_queue": per_queue,
    }


def _bucket(age_seconds: float) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age_seconds < limit:
            return name
    raise AssertionError("the last bucket has no limit")


# --- send ------------------------------------------------------------------------------------
def day_to_send(now: datetime, desk: Settings | None = None) -> str | None:
    """The previous desk-local day once the desk's clock has reached the digest hour, else None.
    Date arithmetic on the local calendar date, so a 23- or 25-hour day (DST) changes nothing:
    at 08:00 Kyiv on 26 October — 06:00 UTC, a day after 08:00 was 05:00 UTC — it is the 25th."""
    desk = desk or settings()
    local = now.astimezone(ZoneInfo(desk.desk.timezone))
    if local.hour < digest_hour(desk):
        return None
    return (local.date() - timedelta(days=1)).isoformat()


def digest_hour(desk: Settings) -> int:
    return desk.desk.digest_hour


def run(now: datetime) -> dict[str, Any] | None:
    """The schedule (hourly, so the local hour is right in summer and winter): from the digest
    hour on, the previous local day is sent once; every later run that day costs one GetItem."""
    day = day_to_send(now)
    if day is None:
        return None
    return send(day, now=now)


def send(day: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Compute `day`, archive it and queue one email per admin and lead, once per day.

    Once: the `digest#<day>` key is written (conditionally) after the jobs are queued, and a run
    that finds it does nothing; a run that crashed before writing it is redone whole (the
    archive is overwritten with the same figures), and so is a run that found nobody to mail.
    Two runs at the same moment may both queue: each job first claims
    `claim#digest-<day>-<agent>`, so one email per person still goes out."""
    now = now or clock.now()
    marker = keys.digest_queued(day)
    try:
        Key.get(marker)
        return {"day": day, "queued": 0, "already_sent": True}  # that run wrote the usual wait too
    except Key.DoesNotExist:
        pass
    desk = settings()
    figures, people, tallies = _compute(desk, day, now, Reads())
    archive(day, figures)
    usual.refresh(tallies, now)  # before the marker: a run that fails here is redone whole
    readers = recipients(people)
    if not readers:  # e.g. a stage whose admins predate the key: tools.create_admin --reindex-leaders
        log.warning("digest has no readers: no active admin or lead in staff#leaders", day=day)
        # Not marked as sent: the first hourly run after someone can read it sends it (a new
        # desk's first admin; a local desk started before `tools.create_admin --local`).
        return {"day": day, "queued": 0, "already_sent": False}
    nonce = uuid.uuid4().hex
    jobs = [
        {
            "kind": "digest",
            "job_id": f"digest-{day}-{agent.agent_id}",
            "nonce": nonce,
            "day": day,
            "agent_id": agent.agent_id,
        }
        for agent in readers
    ]
    from chalicelib import outbox  # the outbox delivers digests too (its "digest" job calls deliver)

    for start in range(0, len(jobs), 10):
        outbox.enqueue_many(jobs[start : start + 10])
    done = {"recipients": [agent.agent_id for agent in readers], "queued_at": clock.iso(now)}
    # if this fails, a concurrent run queued too: the jobs' claims keep it to one email each
    writes.put_if(
        Key(marker, owner=nonce, data=done, expires=now + timedelta(days=MARKER_DAYS)), Key.key.does_not_exist()
    )
    log.info("digest queued", day=day, recipients=len(readers), facts=figures["reads"]["facts"])
    return {"day": day, "queued": len(jobs), "already_sent": False}


def recipients(people: Iterable[Agent]) -> list[Agent]:
    """Active admins and leads with somewhere to send it."""
    return sorted(
        (agent for agent in people if staff.is_leader(agent) and (agent.alert_email or agent.email)),
        key=lambda agent: agent.agent_id,
    )


def archive_keys(day: str) -> tuple[str, str]:
    return f"{ARCHIVE_PREFIX}{day}.json", f"{ARCHIVE_PREFIX}{day}.html"


def archive(day: str, figures: dict[str, Any]) -> None:
    """`digests/<day>.json` (the figures) and `.html` (in the desk's language) in the archive
    bucket, where nothing expires (infra/stack.py `digest_archive`)."""
    from chalicelib.kpi.view import render_digest

    json_key, html_key = archive_keys(day)
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=stage.archive_bucket(),
        Key=json_key,
        ContentType="application/json",
        Body=json.dumps(figures, ensure_ascii=False, indent=1).encode(),
    )
    rendered = render_digest(figures, settings().desk.default_language)
    s3.put_object(
        Bucket=stage.archive_bucket(),
        Key=html_key,
        ContentType="text/html; charset=utf-8",
        Body=(rendered.html or "").encode(),
    )


def archived(day: str) -> dict[str, Any]:
    body = aws.client("s3").get_object(Bucket=stage.archive_bucket(), Key=archive_keys(day)[0])["Body"].read()
    return dict(json.loads(body))


def deliver(job: dict[str, Any]) -> None:
    """The outbox job: mail one admin or lead the archived digest in their language, once."""
    from chalicelib import outbox
    from chalicelib.kpi.view import render_digest
    from chalicelib.providers import ProviderError

    step = job["job_id"]
    if not outbox.claim(step, job["nonce"]) or outbox.already_sent(step):
        return
    try:
        agent = Agent.get(job["agent_id"])
    except Agent.DoesNotExist:
        return  # removed since the digest was queued
    desk = settings().desk
    rendered = render_digest(archived(job["day"]), agent.language or desk.default_language)
    envelope = mail.Envelope(
        sender=desk.sender,
        sender_name=f"{desk.name} digest",
        to=agent.alert_email or agent.email,
        to_name=agent.full_name,
        language=agent.language or desk.default_language,
    )
    try:
        mail.send(envelope, rendered, mail.message_id(desk.sender, step))
    except ProviderError as error:
        if error.retryable:
            raise
        log.warning("digest refused for good", agent_id=agent.agent_id, reason=str(error))
        return
    outbox.mark_sent(step)
