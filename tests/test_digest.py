"""The morning digest: every figure equals what a person computes by hand from a seeded day,
a missing figure is "—" (never 0 %), the email is safe for mail clients, it goes out once a
day at the desk's hour (DST included), to each admin and lead once, and is archived in S3.

The seeded desk (Kyiv, UTC+2 in November), digest for Monday 2026-11-23, sent Tuesday 08:00:

  ticket ch.      queue    created  subject                        first response (s, agent, met, promise)
  T1     email    general  09:10    Cannot log in to my account    1800 olena  met   kept
  T2     email    billing  09:40    Refund for invoice 1042        5400 olena  met   kept
  T3     form     billing  10:05    Refund not received             600 taras  met   kept
  T4     telegram tech     10:20    App crash on login              300 tina   met   kept
  T5     telegram general  10:50    Where is the download link?    1200 taras  late  broken
  T6     chat     general  14:00    Where is the link to download    45 olena  met   (none)
  T7     chat     tech     14:30    Login error 500                 240 tina   late  (none; breach fact too)
  T8     viber    billing  14:45    Payment failed                  420 taras  met   kept
  T9     email    general  18:00    Download link missing           (subject only on the ticket)
  T10    form     general  23:30    Refund please                   (subject only on the ticket)
  AUTO   email    general  03:00    an out-of-office reply: automated, not in the volume
  P2     email    general  (Sunday) answered Monday, 90000 s olena, late, promise broken; its
                                    breach was recorded on Sunday, so Monday does not count it again
  P1     email    general  (Sunday) first response breached Monday 12:00, still unanswered
  P3     email    general  (earlier) solved Monday 15:00, 200000 s, late; breached Monday 09:00
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import aws, clock, stage
from chalicelib.kpi import digest, mailing, stats
from chalicelib.kpi.figures import Figures
from chalicelib.kpi.reading import Reads
from chalicelib.kpi.view import present, render_digest
from chalicelib.models import Agent, Fact, Key, Ticket
from tests import conftest
from tests.harness import KYIV

DAY = "2026-11-23"
SENT_AT = datetime(2026, 11, 24, 8, 0, tzinfo=KYIV)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "digest"


def kyiv(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=KYIV)


class Seed:
    """Facts written the way the desk writes them (chalicelib/facts.py): day = Kyiv date."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(self, at: datetime, ticket: str, kind: str, channel: str, queue: str, **data: object) -> None:
        self.facts.append(
            Fact(
                at.astimezone(KYIV).date().isoformat(),
                f"{clock.iso(at)}#{ticket}#{kind}",
                kind=kind,
                ticket_id=ticket,
                channel=channel,
                queue=queue,
                at=at,
                data=data,
            )
        )

    def created(
        self,
        at: datetime,
        ticket: str,
        channel: str,
        queue: str,
        subject: str | None,
        *,
        promised: datetime | None = None,
        automated: str | None = None,
    ) -> None:
        data: dict[str, object] = {
            "priority": "normal",
            "promised_at": clock.iso(promised) if promised else None,
            "automated": automated,
        }
        if subject is not None:
            data["subject"] = subject
        self.add(at, ticket, "created", channel, queue, **data)

    def first(
        self,
        created: datetime,
        seconds: int,
        ticket: str,
        channel: str,
        queue: str,
        agent: str,
        *,
        due: datetime,
        promised: datetime | None,
    ) -> None:
        at = created + timedelta(seconds=seconds)
        self.add(at, ticket, "answered", channel, queue, agent=agent)
        self.add(
            at,
            ticket,
            "first_response",
            channel,
            queue,
            agent=agent,
            seconds=seconds,
            due=clock.iso(due),
            met=at <= due,
            promised_at=clock.iso(promised) if promised else None,
        )

    def write(self) -> int:
        with Fact.batch_write() as batch:
            for item in self.facts:
                batch.save(item)
        return len(self.facts)


def seed_week(seed: Seed) -> None:
    """16–22 November: five tickets a day (4 general "Cannot log in", 1 tech "App crash"), one
    first response of 7 minutes that kept its promise; the 19th has no facts at all."""
    for day in (16, 17, 18, 20, 21, 22):
        for n in range(4):
            seed.created(kyiv(day, 9 + n), f"G{day}{n}", "email", "general", "Cannot log in")
        seed.created(kyiv(day, 15), f"K{day}", "telegram", "tech", "App crash")
        start = kyiv(day, 9)
        seed.first(
            start,
            420,
            f"G{day}0",
            "email",
            "general",
            "A-old",
            due=start + timedelta(hours=1),
            promised=start + timedelta(hours=1),
        )
    # Sunday: P2's first response breaks (the breach fact is Sunday's); P1 is opened.
    seed.add(
        kyiv(22, 13, 1),
        "P2",
        "breached",
        "email",
        "general",
        target="first_response",
        due=clock.iso(kyiv(22, 13)),
        late_seconds=60,
    )


def seed_monday(seed: Seed, agents: dict[str, str]) -> None:
    olena, taras, tina = agents["olena"], agents["taras"], agents["tina"]
    rows = [  # ticket, channel, queue, created, subject, first-response seconds, agent, target minutes, promise
        ("T1", "email", "general", kyiv(23, 9, 10), "Cannot log in to my account", 1800, olena, 120, True),
        ("T2", "email", "billing", kyiv(23, 9, 40), "Refund for invoice 1042", 5400, olena, 120, True),
        ("T3", "form", "billing", kyiv(23, 10, 5), "Refund not received", 600, taras, 60, True),
        ("T4", "telegram", "tech", kyiv(23, 10, 20), "App crash on login", 300, tina, 10, True),
        ("T5", "telegram", "general", kyiv(23, 10, 50), "Where is the download link?", 1200, taras, 10, True),
        ("T6", "chat", "general", kyiv(23, 14, 0), "Where is the link to download", 45, olena, 1, False),
        ("T7", "chat", "tech", kyiv(23, 14, 30), "Login error 500", 240, tina, 1, False),
        ("T8", "viber", "billing", kyiv(23, 14, 45), "Payment failed", 420, taras, 10, True),
    ]
    for ticket, channel, queue, created, subject, seconds, agent, minutes, promise in rows:
        due = created + timedelta(minutes=minutes)
        seed.created(created, ticket, channel, queue, subject, promised=due if promise else None)
        seed.first(created, seconds, ticket, channel, queue, agent, due=due, promised=due if promise else None)
    seed.created(kyiv(23, 18), "T9", "email", "general", None, promised=kyiv(24, 18))
    seed.created(kyiv(23, 23, 30), "T10", "form", "general", None, promised=kyiv(24, 13))
    seed.created(kyiv(23, 3), "AUTO", "email", "general", "Out of office", automated="auto-reply")

    # T7 breached its first response at 14:32 (due 14:31) and was answered at 14:34: counted once.
    seed.add(
        kyiv(23, 14, 32),
        "T7",
        "breached",
        "chat",
        "tech",
        target="first_response",
        due=clock.iso(kyiv(23, 14, 31)),
        late_seconds=60,
    )
    # P2: opened Sunday 01:00, due Sunday 13:00 (breached Sunday), answered Monday 02:00.
    p2_created = kyiv(22, 1)
    seed.first(p2_created, 90000, "P2", "email", "general", olena, due=kyiv(22, 13), promised=kyiv(22, 13))
    # P1: first response due Monday 12:00, breached 12:01, never answered that day.
    seed.add(
        kyiv(23, 12, 1),
        "P1",
        "breached",
        "email",
        "general",
        target="first_response",
        due=clock.iso(kyiv(23, 12)),
        late_seconds=60,
    )

    # next responses: T1 met, T3 met, T4 late at 12:30 (due 12:00, breach fact at 12:01: once)
    seed.add(kyiv(23, 11, 0), "T1", "answered", "email", "general", agent=olena)
    seed.add(
        kyiv(23, 11, 0),
        "T1",
        "next_response",
        "email",
        "general",
        agent=olena,
        seconds=900,
        due=clock.iso(kyiv(23, 13)),
        met=True,
    )
    seed.add(kyiv(23, 11, 30), "T3", "answered", "form", "billing", agent=taras)
    seed.add(
        kyiv(23, 11, 30),
        "T3",
        "next_response",
        "form",
        "billing",
        agent=taras,
        seconds=600,
        due=clock.iso(kyiv(23, 15)),
        met=True,
    )
    seed.add(
        kyiv(23, 12, 1),
        "T4",
        "breached",
        "telegram",
        "tech",
        target="next_response",
        due=clock.iso(kyiv(23, 12)),
        late_seconds=60,
    )
    seed.add(kyiv(23, 12, 30), "T4", "answered", "telegram", "tech", agent=tina)
    seed.add(
        kyiv(23, 12, 30),
        "T4",
        "next_response",
        "telegram",
        "tech",
        agent=tina,
        seconds=2400,
        due=clock.iso(kyiv(23, 12)),
        met=False,
    )

    # solved: T3 (2 h), T4 (4 h), T6 (10 min) in time; P3 late (due 09:00, breached 09:01, solved 15:00)
    for ticket, channel, queue, at, seconds, agent in (
        ("T3", "form", "billing", kyiv(23, 12, 5), 7200, taras),
        ("T4", "telegram", "tech", kyiv(23, 14, 20), 14400, tina),
        ("T6", "chat", "general", kyiv(23, 14, 10), 600, olena),
    ):
        seed.add(
            at,
            ticket,
            "solved",
            channel,
            queue,
            agent=agent,
            seconds=seconds,
            due=clock.iso(at + timedelta(hours=1)),
            met=True,
        )
    seed.add(
        kyiv(23, 9, 1),
        "P3",
        "breached",
        "email",
        "general",
        target="resolution",
        due=clock.iso(kyiv(23, 9)),
        late_seconds=60,
    )
    seed.add(
        kyiv(23, 15),
        "P3",
        "solved",
        "email",
        "general",
        agent=olena,
        seconds=200000,
        due=clock.iso(kyiv(23, 9)),
        met=False,
    )
    seed.add(kyiv(23, 16), "P3", "closed", "email", "general")
    seed.add(kyiv(23, 17), "T6", "reopened", "chat", "general")

    # ratings: T4's second vote replaces its first; the latest per ticket counts
    for at, ticket, channel, rating, comment in (
        (kyiv(23, 15, 0), "T3", "form", "good", ""),
        (kyiv(23, 15, 5), "T4", "telegram", "bad", "Took too long"),
        (kyiv(23, 15, 30), "T4", "telegram", "good", ""),
        (kyiv(23, 16, 0), "T6", "chat", "bad", "Agent was <rude>"),
        (kyiv(23, 16, 30), "P3", "email", "bad", "Still broken"),
        (kyiv(23, 17, 0), "T1", "email", "good", ""),
    ):
        seed.add(at, ticket, "rated", channel, "general", rating=rating, comment=comment, agent=olena)
    for minute, score in enumerate((10, 9, 9, 7, 3)):
        seed.add(
            kyiv(23, 19, minute),
            f"N{minute}",
            "nps",
            "email",
            "general",
            score=score,
            comment="Too slow" if score <= 6 else "",
        )


def seed_tickets() -> None:
    """Live tickets on Tuesday 08:00 (the sending time), and the two whose subject is only here."""
    now = SENT_AT

    def ticket(
        ticket_id: str,
        age: timedelta,
        status: str,
        queue: str,
        *,
        automated: str | None = None,
        live: bool = True,
        subject: str = "",
    ) -> None:
        created = now - age
        Ticket(
            ticket_id,
            customer_id="C-1",
            channel="email",
            address="c@example.com",
            subject=subject,
            status=status,
            queue=queue,
            language="en",
            timezone="Europe/Kyiv",
            created_at=created,
            updated_at=created,
            last_message_at=created,
            automated=automated,
            open_queue=queue if live else None,
            due_key="~" if live else None,
        ).save()

    ticket("B1", timedelta(minutes=30), "open", "general")
    ticket("B2", timedelta(hours=2), "new", "general")
    ticket("B9", timedelta(hours=1), "open", "general")  # exactly one hour: 1–4 h
    ticket("B3", timedelta(hours=5), "open", "billing")
    ticket("B4", timedelta(hours=23, minutes=59), "open", "tech")
    ticket("B5", timedelta(hours=25), "open", "general")
    ticket("B6", timedelta(days=4), "open", "general")
    ticket("B7", timedelta(days=2), "pending", "billing")
    ticket("B8", timedelta(minutes=5), "new", "general", automated="auto-reply")
    ticket("C1", timedelta(days=9), "closed", "general", live=False)
    ticket("T9", timedelta(hours=14), "closed", "general", live=False, subject="Download link missing")
    ticket("T10", timedelta(hours=9), "closed", "general", live=False, subject="Refund please")


@pytest.fixture
def seeded(desk, team):
    """The seeded desk; returns (agent ids by name, number of facts written)."""
    agents = {"olena": team["olena"]["id"], "taras": team["taras"]["id"], "tina": team["tech"]["id"]}
    for name, load in (("olena", 3), ("taras", 2)):
        agent = Agent.get(agents[name])
        agent.update(actions=[Agent.open_load.set(load)])
    lev = Agent.get(team["lead"]["id"])
    lev.update(actions=[Agent.language.set("uk")])
    seed = Seed()
    seed_week(seed)
    seed_monday(seed, agents)
    written = seed.write()
    seed_tickets()
    desk.at(SENT_AT)
    return agents, written


def headline(figures: dict, key: str) -> dict:
    [found] = [h for h in figures["headlines"] if h["key"] == key]
    return found


# --- every KPI equals the hand computation ---------------------------------------------------
def test_volume_by_channel_queue_and_hour_leaves_automated_messages_out(seeded):
    figures = digest.compute(DAY, now=SENT_AT)
    volume = figures["volume"]

    assert volume["total"] == 10 and volume["automated"] == 1
    assert [(c["key"], c["count"]) for c in volume["by_channel"]] == [
        ("email", 3),
        ("chat", 2),
        ("form", 2),
        ("telegram", 2),
        ("viber", 1),
    ]
    assert volume["by_channel"][0]["share"] == pytest.approx(0.3)
    assert [(q["key"], q["name"], q["count"]) for q in volume["by_queue"]] == [
        ("general", "Customer care", 5),
        ("billing", "Billing", 3),
        ("tech", "Technical support", 2),
    ]
    expected_hours = [0] * 24
    for hour, count in ((9, 2), (10, 3), (14, 3), (18, 1), (23, 1)):
        expected_hours[hour] = count
    assert volume["by_hour"] == expected_hours  # desk-local hours (T10 at 23:30 Kyiv is 21:30 UTC)
    assert volume["peak_hour"] == 10  # 3 tickets at 10 and at 14: the first peak


def test_first_response_and_resolution_medians_and_p90_by_nearest_rank(seeded):
    figures = digest.compute(DAY, now=SENT_AT)
    first, resolution = figures["first_response"], figures["resolution"]

    # all: 45 240 300 420 600 1200 1800 5400 90000 → median rank ⌈4.5⌉=5 → 600; p90 rank ⌈8.1⌉=9 → 90000
    assert first["all"] == {"count": 9, "median": 600, "p90": 90000}
    by_channel = {row["channel"]: (row["count"], row["median"], row["p90"]) for row in first["by_channel"]}
    assert by_channel == {
        "email": (3, 5400, 90000),  # 1800 5400 90000: ranks 2 and 3
        "telegram": (2, 300, 1200),
        "chat": (2, 45, 240),
        "form": (1, 600, 600),
        "viber": (1, 420, 420),
    }
    # resolution: 600 7200 14400 200000 → median rank 2 → 7200; p90 rank ⌈3.6⌉=4 → 200000
    assert resolution["all"] == {"count": 4, "median": 7200, "p90": 200000}
    assert {row["channel"]: row["median"] for row in resolution["by_channel"]} == {
        "form": 7200,
        "telegram": 14400,
        "chat": 600,
        "email": 200000,
    }


def test_sla_attainment_counts_each_broken_promise_once_and_lists_the_worst(seeded):
    figures = digest.compute(DAY, now=SENT_AT)
    sla = figures["sla"]

    # first response: met T1 T2 T3 T4 T6 T8 = 6; missed T5 (late), T7 (late + breach: once), P1 (breach,
    # unanswered) = 3; P2's late answer was breached on Sunday and is not counted again → 6/9
    assert sla["first_response"] == {"met": 6, "missed": 3, "attainment": pytest.approx(6 / 9)}
    assert sla["next_response"] == {"met": 2, "missed": 1, "attainment": pytest.approx(2 / 3)}
    assert sla["resolution"] == {"met": 3, "missed": 1, "attainment": pytest.approx(3 / 4)}
    assert figures["breaches"]["count"] == 5
    # late by: P1 unanswered → end of day (24th 00:00) − 12:00 = 12 h; P3 15:00 − 09:00 = 6 h;
    # T4 12:30 − 12:00; T5 11:10 − 11:00; T7 14:34 − 14:31
    assert [(b["ticket"], b["target"], b["late_seconds"], b["settled"]) for b in figures["breaches"]["worst"]] == [
        ("P1", "first_response", 43200, False),
        ("P3", "resolution", 21600, True),
        ("T4", "next_response", 1800, True),
        ("T5", "first_response", 600, True),
        ("T7", "first_response", 180, True),
    ]


def test_promises_kept_is_the_share_of_first_responses_by_their_promised_time(seeded):
    figures = digest.compute(DAY, now=SENT_AT)

    # promised: T1 T2 T3 T4 T5 T8 P2 = 7; kept all but T5 and P2 = 5
    assert figures["promises"] == {"kept": 5, "total": 7, "share": pytest.approx(5 / 7)}
    assert figures["usual"] == {"kept": 0, "total": 0, "share": None}  # not recorded yet: "—"


def test_csat_takes_the_latest_vote_per_ticket_and_nps_is_promoters_minus_detractors(seeded):
    figures = digest.compute(DAY, now=SENT_AT)
    csat, nps = figures["csat"], figures["nps"]

    # latest votes: T3 good, T4 good (replaced bad), T6 bad, P3 bad, T1 good → 3/5
    assert (csat["good"], csat["bad"], csat["count"]) == (3, 2, 5)
    assert csat["share"] == pytest.approx(0.6)
    assert [(c["ticket"], c["comment"]) for c in csat["bad_comments"]] == [
        ("T6", "Agent was <rude>"),
        ("P3", "Still broken"),
    ]
    # 10 9 9 7 3: promoters 3, detractors 1 of 5 → 40
    assert (nps["count"], nps["promoters"], nps["passives"], nps["detractors"]) == (5, 3, 1, 1)
    assert nps["score"] == pytest.approx(40.0)


def test_backlog_now_by_age_with_waiting_and_automated_apart(seeded):
    backlog = digest.compute(DAY, now=SENT_AT)["backlog"]

    assert backlog["buckets"] == {"lt_1h": 1, "h1_4": 2, "h4_24": 2, "d1_3": 1, "gt_3d": 1}
    assert (backlog["open"], backlog["waiting_on_customer"], backlog["automated"]) == (7, 1, 1)
    assert backlog["as_of"] == clock.iso(SENT_AT)
    assert {q["key"]: (q["open"], q["waiting"]) for q in backlog["by_queue"]} == {
        "general": (5, 0),
        "billing": (1, 1),
        "tech": (1, 0),
    }


def test_per_agent_answers_solved_median_first_response_and_open_load(seeded):
    agents, _ = seeded
    rows = {row["agent_id"]: row for row in digest.compute(DAY, now=SENT_AT)["agents"]}

    olena, taras, tina = rows[agents["olena"]], rows[agents["taras"]], rows[agents["tina"]]
    # olena: answers T1 T2 T6 P2 + T1 again; first responses 45 1800 5400 90000 → rank 2 → 1800
    assert (olena["answered"], olena["solved"], olena["first_response_median"], olena["open_load"]) == (5, 2, 1800, 3)
    assert (taras["answered"], taras["solved"], taras["first_response_median"], taras["open_load"]) == (4, 1, 600, 2)
    assert (tina["answered"], tina["solved"], tina["first_response_median"], tina["open_load"]) == (3, 1, 240, 0)
    assert olena["name"] == "Olena Koval"
    assert "A-old" not in rows  # only the day's activity and today's open load


def test_topics_keywords_with_their_week_and_the_queue_that_rises(seeded):
    topics = digest.compute(DAY, now=SENT_AT)["topics"]

    # T9 and T10 carry no subject in their fact: read from the tickets
    assert topics["subjects"] == 10
    assert [(k["word"], k["count"]) for k in topics["keywords"]] == [
        ("download", 3),
        ("link", 3),
        ("refund", 3),
        ("login", 2),
        ("account", 1),
        ("app", 1),
        ("crash", 1),
        ("error", 1),
        ("failed", 1),
        ("invoice", 1),
    ]
    averages = {k["word"]: k["trailing_average"] for k in topics["keywords"]}
    assert averages["download"] == 0 and averages["app"] == pytest.approx(1.0)
    # billing: 3 today against 0 a day over the week (the 19th has no facts and is left out)
    assert [(q["queue"], q["count"], q["trailing_average"]) for q in topics["rising_queues"]] == [("billing", 3, 0.0)]


def test_each_headline_is_compared_with_the_day_before_and_the_trailing_week(seeded):
    figures = digest.compute(DAY, now=SENT_AT)

    tickets = headline(figures, "tickets")
    assert tickets["value"] == 10
    assert tickets["previous"] == {"reference": 5, "arrow": "↑", "better": None}
    assert tickets["trailing"] == {"reference": 5, "arrow": "↑", "better": None}  # 6 days with data: 30/6
    first = headline(figures, "first_response_median")
    assert first["value"] == 600 and first["previous"] == {"reference": 420, "arrow": "↑", "better": False}
    sla = headline(figures, "sla_first_response")
    # Sunday: 1 met, P2 breached → 50 %; the week: five days of 100 % and Sunday → 5.5/6
    assert sla["previous"] == {"reference": 0.5, "arrow": "↑", "better": True}
    assert sla["trailing"]["reference"] == pytest.approx(5.5 / 6)
    assert (sla["trailing"]["arrow"], sla["trailing"]["better"]) == ("↓", False)
    assert headline(figures, "promises_kept")["previous"]["arrow"] == "↓"
    resolution = headline(figures, "resolution_median")
    assert resolution["value"] == 7200 and resolution["previous"] == {"reference": None, "arrow": None, "better": None}
    assert headline(figures, "csat")["trailing"]["arrow"] is None  # no ratings before: nothing to compare


def test_arrows_are_level_within_tolerance():
    assert stats.compare(100, 96, unit="count", higher_is_better=None).arrow == "→"
    assert stats.compare(100, 94, unit="count", higher_is_better=None).arrow == "↑"
    assert stats.compare(0.905, 0.9, unit="share", higher_is_better=True).arrow == "→"
    assert stats.compare(0.88, 0.9, unit="share", higher_is_better=True).as_dict() == {
        "reference": 0.9,
        "arrow": "↓",
        "better": False,
    }
    assert stats.compare(300, 600, unit="seconds", higher_is_better=False).better is True
    assert stats.compare(None, 5, unit="count", higher_is_better=None).arrow is None
    assert stats.compare(0, 0, unit="count", higher_is_better=None).arrow == "→"


def test_percentiles_are_nearest_rank_observed_values():
    assert stats.percentile([60, 120, 180, 240], 50) == 120
    assert stats.percentile(list(range(1, 11)), 90) == 9
    assert stats.percentile(list(range(1, 31)), 90) == 27  # 0.9 × 30 is 27, not 28 through a float
    assert stats.percentile([5], 90) == 5
    assert stats.percentile([], 50) is None


def test_the_reads_are_one_query_per_day_and_every_fact_of_those_days(seeded):
    _, written = seeded
    reads = Reads()
    figures = digest.compute(DAY, now=SENT_AT, reads=reads)

    assert reads.queries == 8 and sorted(reads.per_day) == [f"2026-11-{d}" for d in range(16, 24)]
    assert reads.items == written == figures["reads"]["facts"]
    assert figures["reads"]["tickets_for_subjects"] == 2


# --- "never invent a figure" -----------------------------------------------------------------
def test_a_day_without_facts_shows_dashes_not_zeros(seeded):
    figures = digest.compute("2026-11-19", now=SENT_AT)

    assert figures["has_data"] is False
    assert all(h["value"] is None for h in figures["headlines"])
    assert figures["sla"]["first_response"]["attainment"] is None and figures["csat"]["share"] is None
    rendered = render_digest(Figures.from_json(figures), "en")  # as an archived day renders
    for label in ("Tickets", "First response, median", "SLA first response", "Promises kept", "CSAT (good)", "NPS"):
        assert re.search(rf"^{re.escape(label)} +— ", rendered.text, re.MULTILINE), label  # the day's column
    assert re.search(r"^SLA first response +— +→ 100% +→ 100%$", rendered.text, re.MULTILINE) is None  # no arrow
    assert "== Volume" not in rendered.text and "Volume:" not in (rendered.html or "")  # no day to describe
    assert rendered.subject.startswith("Promptly Support digest · Thu 19 Nov: — tickets")
    assert "No facts were recorded for this day" in rendered.text


def test_a_kpi_without_data_is_a_dash_beside_figures_that_exist(seeded):
    figures = digest.day_figures("2026-11-22", now=SENT_AT)  # Sunday: tickets and answers, no ratings, no solves
    view = present(figures, "en")

    assert view["headline"]["tickets"]["value"] == "5"
    assert view["headline"]["csat"]["value"] == "—" and view["headline"]["resolution_median"]["value"] == "—"
    assert view["headline"]["sla_next_response"]["value"] == "—"
    assert view["csat"]["value"] == "—" and view["nps"]["value"] == "—"


# --- the email --------------------------------------------------------------------------------
def test_the_html_is_for_mail_clients_and_the_text_part_has_the_same_figures(seeded):
    rendered = render_digest(digest.day_figures(DAY, now=SENT_AT), "en")
    html = rendered.html or ""

    assert "<script" not in html.lower() and "<svg" not in html.lower() and "<img" not in html.lower()
    assert "<style" not in html.lower()  # every rule was inlined
    assert re.search(r'<td style="[^"]*background: #143d8c', html)  # the header's rule is on the element
    assert " class=" not in html and "max-width: 600px" in html
    assert len(html.encode()) < 102_000  # Gmail clips bigger messages
    assert "Agent was &lt;rude&gt;" in html and "<rude>" not in html  # customer text escaped
    for figure in ("66.7%", "71.4%", "60%", "+40", "10 min", "1 d 1 h", "2 h", "P1"):
        assert figure in rendered.text, figure
        assert figure in html, figure
    assert rendered.subject == (
        "Promptly Support digest · Mon 23 Nov: 10 tickets · First response, median 10 min · SLA first response 66.7%"
    )


def test_the_digest_reads_in_ukrainian_and_russian(seeded):
    figures = digest.day_figures(DAY, now=SENT_AT)
    uk, ru, pl = render_digest(figures, "uk"), render_digest(figures, "ru"), render_digest(figures, "pl")

    assert "Щоденний звіт" in uk.text and "66,7%" in uk.text and "10 хв" in uk.text and "понеділок" in uk.text
    assert "Ежедневный отчёт" in ru.text and "10 мин" in ru.text
    assert "Daily digest" in pl.text  # a language without digest templates reads English


# --- the schedule -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # autumn: Kyiv leaves summer time (UTC+3 → UTC+2) at 04:00 on Sunday 25 October 2026
        (datetime(2026, 10, 24, 4, 59), None),
        (datetime(2026, 10, 24, 5, 0), "2026-10-23"),  # 08:00 EEST
        (datetime(2026, 10, 25, 5, 0), None),  # 07:00 EET: not yet, though it was 08:00 a day earlier
        (datetime(2026, 10, 25, 6, 0), "2026-10-24"),
        (datetime(2026, 10, 26, 6, 0), "2026-10-25"),  # the 25-hour day is yesterday's digest
        # spring: UTC+2 → UTC+3 at 03:00 on Sunday 29 March 2026
        (datetime(2026, 3, 28, 6, 0), "2026-03-27"),
        (datetime(2026, 3, 29, 5, 0), "2026-03-28"),
        (datetime(2026, 3, 28, 22, 30), None),  # 00:30 on the 29th in Kyiv: a new day, but before 08:00
        (datetime(2026, 11, 24, 21, 59), "2026-11-23"),  # 23:59 Kyiv: still the previous day's digest
    ],
)
def test_the_schedule_sends_the_previous_local_day_from_the_digest_hour_across_dst(utc, expected):
    assert mailing.day_to_send(utc.replace(tzinfo=UTC)) == expected


def test_sending_twice_mails_each_admin_and_lead_once_and_archives_html_and_json(seeded, desk, team):
    assert mailing.run(SENT_AT - timedelta(minutes=1)) is None  # 07:59: not yet
    first = mailing.run(SENT_AT)
    second = mailing.run(SENT_AT + timedelta(hours=1))  # the next hourly run, or a retried one
    desk.pump()

    assert first == {"day": DAY, "queued": 2, "already_sent": False}
    assert second == {"day": DAY, "queued": 0, "already_sent": True}
    mails = [m for m in desk.sent_mail() if "digest" in m["subject"] or "звіт" in m["subject"]]
    assert sorted(m["to"] for m in mails) == ["Ada Admin <ada@promptly.example>", "Lev Lead <lev@promptly.example>"]
    lev = next(m for m in mails if "lev@" in m["to"])
    assert lev["language"] == "uk" and "Щоденний звіт" in lev["text"] and "<style" not in lev["html"]

    s3 = aws.client("s3")
    archived = json.loads(s3.get_object(Bucket=stage.archive_bucket(), Key=f"digests/{DAY}.json")["Body"].read())
    html = s3.get_object(Bucket=stage.archive_bucket(), Key=f"digests/{DAY}.html")["Body"].read().decode()
    assert s3.list_objects_v2(Bucket=stage.inbound_bucket(), Prefix="digests/")["KeyCount"] == 0  # not beside mail
    assert archived["day"] == DAY and archived["volume"]["total"] == 10
    assert "Daily digest" in html and "<script" not in html


def test_a_digest_nobody_could_read_goes_to_the_first_admin_there_is(desk, monkeypatch):
    """A desk's first morning, or a local desk started before `tools.create_admin --local`: the
    run that finds no reader must not mark the day as sent, or the admin never gets it — and says
    so once, not at every run (the local desk runs it every minute)."""
    from chalicelib.agents import staff

    monkeypatch.setattr(mailing, "_NO_READERS_TOLD", set())
    logged = len(conftest.LOGS.lines)
    assert mailing.run(SENT_AT) == {"day": DAY, "queued": 0, "already_sent": False}
    assert mailing.run(SENT_AT + timedelta(minutes=1)) == {"day": DAY, "queued": 0, "already_sent": False}
    assert sum("digest has no readers" in line for line in conftest.LOGS.lines[logged:]) == 1
    staff.create_agent(
        first_name="Ada", last_name="Admin", email="ada@promptly.example", role="admin", queues=["general"]
    )

    assert mailing.run(SENT_AT + timedelta(hours=1)) == {"day": DAY, "queued": 1, "already_sent": False}
    desk.pump()
    [mail] = [m for m in desk.sent_mail() if "Daily digest" in m["text"]]
    assert mail["to"] == "Ada Admin <ada@promptly.example>" and "Mon 23 Nov" in mail["subject"]


def test_two_runs_at_once_still_mail_each_person_once(seeded, desk):
    mailing.send(DAY, now=SENT_AT)
    Key.get(f"digest#{DAY}").delete()  # as if a second run had started before the first wrote its key
    assert mailing.send(DAY, now=SENT_AT)["queued"] == 2
    desk.pump()

    assert len([m for m in desk.sent_mail() if "Daily digest" in m["text"] or "Щоденний звіт" in m["text"]]) == 2


# --- who it names and who gets it, read exactly ----------------------------------------------
def test_it_goes_to_the_admins_and_leads_of_the_moment_as_the_agents_api_left_them(seeded, desk, team):
    from chalicelib.agents import staff

    def call(method: str, path: str, payload: dict) -> dict:
        response = desk.api(method, path, team["admin"]["token"], payload)
        assert response.status_code in (200, 201), response.body
        return response.json_body

    call("PATCH", f"/api/agents/{team['lead']['id']}", {"role": "agent"})  # Lev steps down
    lia = call(
        "POST",
        "/api/agents",
        {"first_name": "Lia", "last_name": "Lead", "email": "lia@promptly.example", "role": "lead", "queues": ["tech"]},
    )["agent"]
    call("PATCH", f"/api/agents/{lia}", {"active": False})  # on leave
    nora = call(
        "POST",
        "/api/agents",
        {"first_name": "Nora", "last_name": "New", "email": "nora@promptly.example", "role": "admin"},
    )["agent"]
    call("PATCH", f"/api/agents/{team['olena']['id']}", {"role": "lead"})

    assert staff.leaders() == sorted([team["admin"]["id"], nora, team["olena"]["id"]])  # what the digest reads
    assert mailing.send(DAY, now=SENT_AT)["queued"] == 3
    desk.pump()
    mails = [m for m in desk.sent_mail() if "Daily digest" in m["text"] or "Щоденний звіт" in m["text"]]
    assert sorted(m["to"] for m in mails) == [
        "Ada Admin <ada@promptly.example>",
        "Nora New <nora@promptly.example>",
        "Olena Koval <olena@promptly.example>",
    ]


def dynamodb_calls(monkeypatch) -> list[tuple[str, str]]:
    """(operation, table) of every DynamoDB call from now on, PynamoDB's included."""
    import botocore.client

    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            for table in [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {})):
                calls.append((operation, table.removeprefix("promptly-local-")))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def test_people_are_read_exactly_never_scanned_with_the_open_load_of_whoever_holds_a_ticket(seeded, monkeypatch):
    from chalicelib.agents import staff

    agents, _ = seeded
    nina = staff.create_agent(
        first_name="Nina", last_name="Night", email="nina@promptly.example", role="agent", queues=["tech"]
    ).agent_id  # no facts that day, one live ticket
    Agent(nina).update(actions=[Agent.open_load.set(1)])
    Ticket(
        "B10",
        customer_id="C-1",
        channel="email",
        address="c@example.com",
        status="open",
        queue="tech",
        language="en",
        timezone="Europe/Kyiv",
        created_at=SENT_AT,
        updated_at=SENT_AT,
        last_message_at=SENT_AT,
        assignee=nina,
        open_queue="tech",
        due_key="~",
    ).save()
    calls = dynamodb_calls(monkeypatch)

    figures = digest.compute(DAY, now=SENT_AT)

    assert [call for call in calls if call[0] == "Scan"] == []
    assert [call for call in calls if call[1] in ("agents", "keys")] == [
        ("GetItem", "keys"),
        ("BatchGetItem", "agents"),
    ]
    rows = {row["agent_id"]: row for row in figures["agents"]}
    assert (rows[nina]["answered"], rows[nina]["open_load"], rows[nina]["name"]) == (0, 1, "Nina Night")
    assert rows[agents["olena"]]["open_load"] == 3
    assert figures["reads"]["agents"] == 6  # olena, taras, tina (facts), nina (a ticket), ada, lev (leaders)


# --- the packaging sample ---------------------------------------------------------------------
def test_the_packaging_sample_is_a_current_rendering_context(seeded):
    """tests/fixtures/digest/view.json is the context tests/test_package.py renders the packaged
    digest templates with; it must stay what `present` makes of the seeded day. After changing
    the view on purpose: PROMPTLY_UPDATE_FIXTURES=1 pytest tests/test_digest.py -k packaging"""
    figures = digest.compute(DAY, now=SENT_AT)
    figures["breaches"]["worst"][0]["ticket"] = "PR-7K3QX9M2"  # the reference the packaging test looks for
    expected = json.loads(json.dumps(present(Figures.from_json(figures), "en")))
    path = FIXTURES / "view.json"
    if os.environ.get("PROMPTLY_UPDATE_FIXTURES"):  # pragma: no cover - on purpose only
        path.write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == expected
