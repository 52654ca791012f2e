"""Facts for the digest (chalicelib/facts.py): each filed under the day it happened on the desk's
own calendar (the unit desk's is Europe/Kyiv), and a stopped clock's fact saying how long it ran
and whether it met its due time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import facts

MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2026, 11, 16, 21, 59, tzinfo=UTC), "2026-11-16"),  # 23:59 in Kyiv (UTC+2 in winter)
        (datetime(2026, 11, 16, 22, 0, tzinfo=UTC), "2026-11-17"),  # Kyiv's midnight: the next day's digest
        (datetime(2026, 7, 1, 20, 59, tzinfo=UTC), "2026-07-01"),  # 23:59 in summer (UTC+3)
        (datetime(2026, 7, 1, 21, 0, tzinfo=UTC), "2026-07-02"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01-01"),
    ],
)
def test_a_fact_is_filed_under_the_desks_own_day(unit_desk, new_ticket, at, day):
    ticket = new_ticket(MONDAY)
    record = facts.fact(unit_desk, ticket, "solved", at, {"agent": "olena"})
    assert record.day == day


def test_a_fact_carries_the_ticket_and_sorts_by_time_within_its_day(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY, channel="telegram", queue="night")
    early = facts.fact(unit_desk, ticket, "created", MONDAY, {"priority": "normal"})
    late = facts.fact(unit_desk, ticket, "answered", MONDAY + timedelta(seconds=1), {"agent": "olena"})
    assert early.fact_key == "2026-11-16T09:00:00.000Z#PR-UNIT1#created"
    assert early.fact_key < late.fact_key
    assert (early.kind, early.ticket_id, early.channel, early.queue, early.at, early.data) == (
        "created",
        "PR-UNIT1",
        "telegram",
        "night",
        MONDAY,
        {"priority": "normal"},
    )


@pytest.mark.parametrize(
    ("ran", "due_after", "seconds", "met"),
    [
        (timedelta(minutes=30), timedelta(hours=4), 1800, True),
        (timedelta(hours=4), timedelta(hours=4), 14400, True),  # on the due time itself: met
        (timedelta(hours=4, seconds=1), timedelta(hours=4), 14401, False),
        (timedelta(seconds=59, microseconds=999_999), None, 59, None),  # no due (a robot's ticket): no verdict
    ],
)
def test_a_stopped_clock_says_how_long_it_ran_and_whether_it_met_its_due(ran, due_after, seconds, met):
    due = MONDAY + due_after if due_after is not None else None
    kind, data = facts.timed("first_response", agent="olena", start=MONDAY, due=due, now=MONDAY + ran, priority="high")
    assert kind == "first_response"
    assert data == {
        "agent": "olena",
        "seconds": seconds,
        "due": None if due is None else due.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "met": met,
        "priority": "high",
    }
