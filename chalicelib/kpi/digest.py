"""The morning digest's figures: yesterday's KPIs, computed from the tallies of the day's facts.

    compute(day)      the digest of a desk-local day in its archived JSON form
    day_figures(day)  the same as typed figures (kpi/figures.py), for the view
    compute_day(...)  the figures with what they were made from: the people read (the
                      mailing's readers) and the tallies (the usual wait is refreshed from them)

The cost follows the day's activity, not history: one paginated Query per day read (the day
and the 7 before it), one Query per queue for the backlog, exact BatchGetItems for people and
subjects, never a Scan. What is read and how each figure is made ("never invent a figure"):
docs/kpi.md. Sending, archiving and mailing: kpi/mailing.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.agents import staff
from chalicelib.config import Settings, settings
from chalicelib.kpi import stats
from chalicelib.kpi.figures import (
    VERSION,
    Activity,
    AgentDay,
    Attainment,
    Backlog,
    BadRating,
    Breach,
    Breaches,
    ChannelTimes,
    Cost,
    Csat,
    Detractor,
    Figures,
    Headline,
    Kept,
    Keyword,
    Nps,
    QueueBacklog,
    Ranked,
    RisingQueue,
    Spread,
    Times,
    Topics,
    Volume,
)
from chalicelib.kpi.reading import Reads, day_rows
from chalicelib.kpi.tally import TARGETS, Instance, Tally
from chalicelib.models import Agent, Ticket

TRAILING_DAYS = 7
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


class Computed(NamedTuple):
    figures: Figures
    people: list[Agent]
    tallies: list[Tally]  # the days read, oldest first (the usual wait is made from them)


def compute(day: str, *, now: datetime | None = None, reads: Reads | None = None) -> dict[str, Any]:
    """The digest of desk-local `day` ("2026-11-23") as JSON, the form archived in S3."""
    return day_figures(day, now=now, reads=reads).to_json()


def day_figures(day: str, *, now: datetime | None = None, reads: Reads | None = None) -> Figures:
    """The digest of desk-local `day`; the backlog is as of `now` (sending time). `reads`, if
    given, collects what was read (the benchmark checks it)."""
    return compute_day(settings(), day, now or clock.now(), reads if reads is not None else Reads()).figures


def compute_day(desk: Settings, day: str, now: datetime, reads: Reads) -> Computed:
    """The figures of `day`, with the people and tallies they were made from (kpi/mailing.py
    mails the leaders among the people and refreshes the usual wait from the tallies)."""
    tallies = _tallies(desk, day, reads)
    today, prior = tallies[-1], tallies[:-1]
    tickets_read = _fill_subjects(today)
    holders: set[str] = set()
    live = backlog(desk, now, holders)
    people = _people(today, holders)
    cost = Cost(
        fact_queries=reads.queries,
        facts=reads.items,
        facts_per_day=dict(reads.per_day),
        tickets_for_subjects=tickets_read,
        agents=len(people),
    )
    return Computed(_figures(desk, now, today, prior, live, people, cost), people, tallies)


def _tallies(desk: Settings, day: str, reads: Reads) -> list[Tally]:
    """The day and the TRAILING_DAYS before it, oldest first: a breach on an earlier day is
    known when its late answer comes, so each broken promise counts once."""
    tz = ZoneInfo(desk.desk.timezone)
    target_day = date.fromisoformat(day)
    tallies = []
    breached_before: set[Instance] = set()
    for back in range(TRAILING_DAYS, -1, -1):
        tally = Tally((target_day - timedelta(days=back)).isoformat(), tz)
        for row in day_rows(tally.day, reads):
            tally.add(row)
        tally.settle(breached_before)
        breached_before |= tally.breached.keys()
        tallies.append(tally)
    return tallies


def _figures(
    desk: Settings, now: datetime, today: Tally, prior: list[Tally], live: Backlog, people: list[Agent], cost: Cost
) -> Figures:
    return Figures(
        version=VERSION,
        day=today.day,
        timezone=desk.desk.timezone,
        desk_name=desk.desk.name,
        generated_at=clock.iso(now),
        has_data=today.facts > 0,
        headlines=_headlines(today, prior),
        volume=_volume(desk, today),
        first_response=_times(today.first_response),
        resolution=_times(today.resolution),
        sla={target: _attainment(today, target) for target in TARGETS},
        breaches=Breaches(count=sum(len(v) for v in today.missed.values()), worst=_worst(today)),
        promises=_kept(today.promised),
        usual=_kept(today.usual),
        backlog=live,
        agents=_agents(today, people),
        csat=_csat(today),
        nps=_nps(today),
        topics=_topics(desk, today, prior),
        activity=Activity(
            solved=today.solved, reopened=today.reopened, closed=today.closed, answers=sum(today.answered.values())
        ),
        reads=cost,
    )


# --- headlines -------------------------------------------------------------------------------
def _headlines(today: Tally, prior: list[Tally]) -> tuple[Headline, ...]:
    values = _headline_values(today)
    before = _headline_values(prior[-1]) if prior else {}
    trailing = [_headline_values(tally) for tally in prior[-TRAILING_DAYS:]]
    out = []
    for key, unit, higher_is_better in HEADLINES:
        average = stats.mean(day[key] for day in trailing)
        out.append(
            Headline(
                key=key,
                unit=unit,
                value=values[key],
                higher_is_better=higher_is_better,
                previous=stats.compare(values[key], before.get(key), unit=unit, higher_is_better=higher_is_better),
                trailing=stats.compare(values[key], average, unit=unit, higher_is_better=higher_is_better),
            )
        )
    return tuple(out)


def _headline_values(tally: Tally) -> dict[str, float | None]:
    """The figures compared from day to day (None for all of them on a day without facts)."""
    if not tally.facts:
        return {key: None for key, _, _ in HEADLINES}
    first = [s for values in tally.first_response.values() for s in values]
    resolved = [s for values in tally.resolution.values() for s in values]
    first_median, first_p90 = stats.median_p90(first)
    good = sum(1 for row in tally.ratings.values() if row.data.get("rating") == "good")
    return {
        "tickets": float(tally.created),
        "first_response_median": first_median,
        "first_response_p90": first_p90,
        "resolution_median": stats.median(resolved),
        "sla_first_response": _attainment(tally, "first_response").attainment,
        "sla_next_response": _attainment(tally, "next_response").attainment,
        "sla_resolution": _attainment(tally, "resolution").attainment,
        "breaches": float(sum(len(v) for v in tally.missed.values())),
        "promises_kept": stats.share(*tally.promised),
        "solved": float(tally.solved),
        "csat": stats.share(good, len(tally.ratings)),
        "nps": stats.nps(int(row.data.get("score", 0)) for row in tally.scores.values()),
    }


# --- SLA -------------------------------------------------------------------------------------
def _attainment(tally: Tally, target: str) -> Attainment:
    met, missed = tally.met[target], len(tally.missed.get(target, []))
    return Attainment(met=met, missed=missed, attainment=stats.share(met, met + missed))


def _worst(tally: Tally, limit: int = WORST_BREACHES) -> tuple[Breach, ...]:
    """The missed instances by how late they were: answered late → answer time − due; still
    waiting → end of day − due (or the lateness the breach recorded, if more)."""
    end = tally.end_of_day()
    found = []
    for target in TARGETS:
        for instance in tally.missed.get(target, []):
            ticket, _, due_text = instance
            due = clock.parse_iso(due_text)
            settled, breach = tally.late.get(instance), tally.breached.get(instance)
            row = settled or breach
            assert row is not None
            if settled is not None:
                late = (settled.at - due).total_seconds()
            else:
                recorded = float((breach.data if breach else {}).get("late_seconds") or 0)
                late = max(recorded, (end - due).total_seconds())
            found.append(Breach(ticket, target, row.channel, row.queue, due_text, int(late), settled is not None))
    found.sort(key=lambda item: (-item.late_seconds, item.ticket))
    return tuple(found[:limit])


def _kept(counts: list[int]) -> Kept:
    kept, total = counts
    return Kept(kept=kept, total=total, share=stats.share(kept, total))


# --- volume and times ------------------------------------------------------------------------
def _ranked(counts: Counter[str], names: dict[str, str] | None = None) -> tuple[Ranked, ...]:
    total = sum(counts.values())
    return tuple(
        Ranked(key=key, name=(names or {}).get(key, key), count=count, share=stats.share(count, total))
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )


def _volume(desk: Settings, today: Tally) -> Volume:
    peak = max(range(24), key=lambda hour: today.by_hour[hour]) if today.created else None
    return Volume(
        total=today.created,
        automated=today.automated,
        by_channel=_ranked(today.by_channel),
        by_queue=_ranked(today.by_queue, {key: queue.name for key, queue in desk.queues.items()}),
        by_hour=tuple(today.by_hour),
        peak_hour=peak,
    )


def _times(by_channel: dict[str, list[float]]) -> Times:
    rows = []
    for channel in sorted(by_channel, key=lambda name: (-len(by_channel[name]), name)):
        median, p90 = stats.median_p90(by_channel[channel])
        rows.append(ChannelTimes(channel=channel, count=len(by_channel[channel]), median=median, p90=p90))
    everything = [seconds for values in by_channel.values() for seconds in values]
    median, p90 = stats.median_p90(everything)
    return Times(by_channel=tuple(rows), all=Spread(count=len(everything), median=median, p90=p90))


# --- people ----------------------------------------------------------------------------------
def _agents(today: Tally, people: list[Agent]) -> tuple[AgentDay, ...]:
    known = {agent.agent_id: agent for agent in people}
    active = (
        set(today.answered)
        | set(today.solved_by)
        | set(today.first_by_agent)
        | {agent.agent_id for agent in people if agent.active and int(agent.open_load or 0) > 0}
    )
    rows = [_agent_day(today, agent_id, known.get(agent_id)) for agent_id in active]
    rows.sort(key=lambda row: (-row.answered, -row.solved, row.name))
    return tuple(rows)


def _agent_day(today: Tally, agent_id: str, agent: Agent | None) -> AgentDay:
    firsts = today.first_by_agent.get(agent_id, [])
    return AgentDay(
        agent_id=agent_id,
        name=agent.full_name if agent else agent_id,
        answered=today.answered[agent_id],
        solved=today.solved_by[agent_id],
        first_response_median=stats.median(firsts),
        first_responses=len(firsts),
        open_load=int(agent.open_load or 0) if agent else None,
    )


def _people(today: Tally, holders: set[str]) -> list[Agent]:
    """The agents the digest names (the day's facts, live tickets' assignees) or goes to (the
    leaders): exact reads, so one BatchGetItem per 100 of them and never a Scan."""
    named = set(today.answered) | set(today.solved_by) | set(today.first_by_agent) | holders
    wanted = sorted(agent_id for agent_id in named | set(staff.leaders()) if agent_id)
    return list(Agent.batch_get(wanted)) if wanted else []


# --- what customers said ---------------------------------------------------------------------
def _csat(today: Tally) -> Csat:
    votes = list(today.ratings.values())
    good = sum(1 for row in votes if row.data.get("rating") == "good")
    bad = [row for row in votes if row.data.get("rating") == "bad"]
    comments = [
        BadRating(
            ticket=row.ticket,
            comment=str(row.data.get("comment") or ""),
            agent=row.data.get("agent"),
            channel=row.channel,
        )
        for row in bad
        if str(row.data.get("comment") or "").strip()
    ]
    return Csat(
        good=good,
        bad=len(bad),
        count=len(votes),
        share=stats.share(good, len(votes)),
        bad_comments=tuple(comments[:MAX_COMMENTS]),
        bad_comments_total=len(comments),
    )


def _nps(today: Tally) -> Nps:
    answers = list(today.scores.values())
    scores = [int(row.data.get("score", 0)) for row in answers]
    detractors = [
        row for row in answers if int(row.data.get("score", 0)) <= 6 and str(row.data.get("comment") or "").strip()
    ]
    return Nps(
        count=len(scores),
        score=stats.nps(scores),
        promoters=sum(1 for s in scores if s >= 9),
        passives=sum(1 for s in scores if 7 <= s <= 8),
        detractors=sum(1 for s in scores if s <= 6),
        detractor_comments=tuple(
            Detractor(ticket=row.ticket, score=int(row.data.get("score", 0)), comment=str(row.data.get("comment")))
            for row in detractors[:MAX_COMMENTS]
        ),
    )


# --- topics ----------------------------------------------------------------------------------
def _topics(desk: Settings, today: Tally, prior: list[Tally]) -> Topics:
    trailing = prior[-TRAILING_DAYS:]
    with_subjects = [tally for tally in trailing if tally.subjects_known]
    keywords = []
    for word, count in sorted(today.keywords.items(), key=lambda item: (-item[1], item[0]))[:TOP_KEYWORDS]:
        average = stats.mean(float(tally.keywords[word]) for tally in with_subjects) if with_subjects else None
        keywords.append(Keyword(word=word, count=count, trailing_average=average))
    return Topics(keywords=tuple(keywords), subjects=today.subjects_known, rising_queues=_rising(desk, today, trailing))


def _rising(desk: Settings, today: Tally, trailing: list[Tally]) -> tuple[RisingQueue, ...]:
    """Queues whose volume is at least RISING_RATIO × the trailing average of the days with
    data, and at least RISING_MIN_EXTRA tickets above it."""
    days_with_data = [tally for tally in trailing if tally.facts]
    rising = []
    for queue, count in today.by_queue.items():
        average = stats.mean(float(tally.by_queue[queue]) for tally in days_with_data) if days_with_data else None
        if average is not None and count >= RISING_RATIO * average and count - average >= RISING_MIN_EXTRA:
            name = desk.queues[queue].name if queue in desk.queues else queue
            rising.append(RisingQueue(queue=queue, name=name, count=count, trailing_average=average))
    rising.sort(key=lambda item: (-(item.count - item.trailing_average), item.queue))
    return tuple(rising)


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


# --- backlog ---------------------------------------------------------------------------------
def backlog(desk: Settings, now: datetime, holders: set[str] | None = None) -> Backlog:
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
            per_queue.append(QueueBacklog(key=queue_key, name=queue.name, open=open_here, waiting=waiting_here))
    return Backlog(
        as_of=clock.iso(now),
        open=sum(buckets.values()),
        buckets=buckets,
        waiting_on_customer=waiting,
        automated=automated,
        by_queue=tuple(per_queue),
    )


def _bucket(age_seconds: float) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age_seconds < limit:
            return name
    raise AssertionError("the last bucket has no limit")
