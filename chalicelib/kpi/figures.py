"""The digest's figures, typed: what kpi/digest.py computes, the archive keeps and kpi/view.py shows.

Frozen dataclasses from computation to view, so a misspelt figure is a type error, not a
KeyError in a template. `Figures.to_json` is the form archived in S3 (`digests/<day>.json`, the
keys in this order); `Figures.from_json` reads an archived day back, checked by pydantic, so any
archived digest renders again exactly. A figure without data is None (shown "—"), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from chalicelib.kpi.stats import Comparison, Unit

VERSION = 1  # of the JSON form; bump when a field changes meaning


@dataclass(frozen=True, eq=False)
class Headline:
    """A figure compared from day to day: with the day before and the trailing week's average."""

    key: str
    unit: Unit
    value: float | None
    higher_is_better: bool | None  # None when neither direction is good news
    previous: Comparison
    trailing: Comparison


@dataclass(frozen=True, eq=False)
class Ranked:
    key: str
    name: str
    count: int
    share: float | None


@dataclass(frozen=True, eq=False)
class Volume:
    total: int
    automated: int  # robots and bounces: counted apart, not in the volume
    by_channel: tuple[Ranked, ...]
    by_queue: tuple[Ranked, ...]
    by_hour: tuple[int, ...]  # 24 desk-local hours
    peak_hour: int | None


@dataclass(frozen=True, eq=False)
class ChannelTimes:
    channel: str
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, eq=False)
class Spread:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, eq=False)
class Times:
    """Seconds from creation to first response, or to resolution."""

    by_channel: tuple[ChannelTimes, ...]
    all: Spread


@dataclass(frozen=True, eq=False)
class Attainment:
    met: int
    missed: int
    attainment: float | None


@dataclass(frozen=True, eq=False)
class Breach:
    ticket: str
    target: str
    channel: str
    queue: str
    due: str
    late_seconds: int
    settled: bool  # answered late, rather than still waiting at the end of the day


@dataclass(frozen=True, eq=False)
class Breaches:
    count: int
    worst: tuple[Breach, ...]


@dataclass(frozen=True, eq=False)
class Kept:
    """Promises (or "usually"s) said and kept."""

    kept: int
    total: int
    share: float | None


@dataclass(frozen=True, eq=False)
class QueueBacklog:
    key: str
    name: str
    open: int
    waiting: int


@dataclass(frozen=True, eq=False)
class Backlog:
    as_of: str  # UTC ISO: the backlog is as of sending time, not of the day
    open: int
    buckets: Mapping[str, int]  # age since creation → live tickets, in kpi.digest.AGE_BUCKETS order
    waiting_on_customer: int
    automated: int
    by_queue: tuple[QueueBacklog, ...]


@dataclass(frozen=True, eq=False)
class AgentDay:
    agent_id: str
    name: str
    answered: int
    solved: int
    first_response_median: float | None
    first_responses: int
    open_load: int | None  # None: not an agent the desk knows any more


@dataclass(frozen=True, eq=False)
class BadRating:
    ticket: str
    comment: str
    agent: str | None
    channel: str


@dataclass(frozen=True, eq=False)
class Csat:
    good: int
    bad: int
    count: int
    share: float | None
    bad_comments: tuple[BadRating, ...]
    bad_comments_total: int


@dataclass(frozen=True, eq=False)
class Detractor:
    ticket: str
    score: int
    comment: str


@dataclass(frozen=True, eq=False)
class Nps:
    count: int
    score: float | None
    promoters: int
    passives: int
    detractors: int
    detractor_comments: tuple[Detractor, ...]


@dataclass(frozen=True, eq=False)
class Keyword:
    word: str
    count: int
    trailing_average: float | None


@dataclass(frozen=True, eq=False)
class RisingQueue:
    queue: str
    name: str
    count: int
    trailing_average: float


@dataclass(frozen=True, eq=False)
class Topics:
    keywords: tuple[Keyword, ...]
    subjects: int
    rising_queues: tuple[RisingQueue, ...]


@dataclass(frozen=True, eq=False)
class Activity:
    solved: int
    reopened: int
    closed: int
    answers: int


@dataclass(frozen=True, eq=False)
class Cost:
    """What computing the digest read (the benchmark and the log report it)."""

    fact_queries: int
    facts: int
    facts_per_day: Mapping[str, int]
    tickets_for_subjects: int
    agents: int


@dataclass(frozen=True, eq=False)
class Figures:
    version: int
    day: str  # desk-local, "2026-11-23"
    timezone: str
    desk_name: str
    generated_at: str
    has_data: bool  # a day without facts has no figures, not zeros
    headlines: tuple[Headline, ...]
    volume: Volume
    first_response: Times
    resolution: Times
    sla: Mapping[str, Attainment]  # target → attainment, in kpi.tally.TARGETS order
    breaches: Breaches
    promises: Kept
    usual: Kept
    backlog: Backlog
    agents: tuple[AgentDay, ...]
    csat: Csat
    nps: Nps
    topics: Topics
    activity: Activity
    reads: Cost

    def to_json(self) -> dict[str, Any]:
        """The archived form: plain JSON values, tuples as lists."""
        return dict(_adapter().dump_python(self, mode="json"))

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Figures:
        """An archived day (`to_json`'s form), checked."""
        return _adapter().validate_python(data)


@cache
def _adapter() -> TypeAdapter[Figures]:
    return TypeAdapter(Figures)
