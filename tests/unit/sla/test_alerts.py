"""When a ticket's next SLA warning is due (chalicelib/sla/alerts.py): the share of a target's
time measured back from its due time, in business time where the target is, one warning at a
time, and only the most urgent of several that are already late.

The unit desk (tests/unit/conftest.py): email gets 4 business hours to a first answer and 40 to
resolution, warned at 75 %, 90 % and the breach; urgent tickets are warned at 50 %, 75 % and the
breach; chat runs on the wall clock (2 hours to a first answer). Mon–Fri 09:00–18:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.sla import alerts
from chalicelib.sla.calendar import BusinessCalendar

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


FRIDAY_5PM = utc(2026, 11, 20, 17)  # an hour before closing: a first answer is due Monday 12:00
MONDAY = utc(2026, 11, 16, 9)


# --- When each share of a target is used up ---------------------------------------------------


@pytest.mark.parametrize(
    ("created", "channel", "target", "due", "share", "warned_at"),
    [
        # the module docstring's example: 4 business hours from Friday 17:00, warned on Monday
        (FRIDAY_5PM, "email", "first_response", utc(2026, 11, 23, 12), 0.75, utc(2026, 11, 23, 11)),
        (FRIDAY_5PM, "email", "first_response", utc(2026, 11, 23, 12), 0.9, utc(2026, 11, 23, 11, 36)),
        (FRIDAY_5PM, "email", "first_response", utc(2026, 11, 23, 12), 1.0, utc(2026, 11, 23, 12)),
        # 10 of the 40 business hours left: back through Friday morning into Thursday
        (MONDAY, "email", "resolution", utc(2026, 11, 20, 13), 0.75, utc(2026, 11, 19, 12)),
        # wall-clock targets are warned on the wall clock, closed hours or not
        (FRIDAY_5PM, "chat", "first_response", utc(2026, 11, 20, 19), 0.75, utc(2026, 11, 20, 18, 30)),
        (FRIDAY_5PM, "chat", "resolution", utc(2026, 11, 22, 17), 0.75, utc(2026, 11, 22, 5)),
    ],
)
def test_a_warning_falls_when_its_share_of_the_target_is_used(
    new_ticket, unit_desk, created, channel, target, due, share, warned_at
):
    ticket = new_ticket(created, channel=channel)
    assert alerts.mark(unit_desk, ticket, target, due, share) == warned_at


# --- `before`: business time counted backwards ----------------------------------------------


@pytest.mark.parametrize(
    ("end", "duration", "start"),
    [
        (utc(2026, 11, 16, 12), 2 * H, utc(2026, 11, 16, 10)),
        (utc(2026, 11, 17, 10), 2 * H, utc(2026, 11, 16, 17)),  # overnight
        (utc(2026, 11, 23, 10), 2 * H, utc(2026, 11, 20, 17)),  # over the weekend
        (utc(2026, 11, 23, 9), 1 * H, utc(2026, 11, 20, 17)),  # ending at the opening
        (utc(2026, 11, 21, 12), 1 * H, utc(2026, 11, 20, 17)),  # ending on a Saturday
        (utc(2026, 12, 28, 10), 2 * H, utc(2026, 12, 24, 17)),  # over Christmas Day (closed) and a weekend
        (utc(2026, 11, 16, 12), 3 * H + 7 * SECOND, utc(2026, 11, 13, 17, 59, 53)),  # to the second
        (utc(2026, 11, 27, 18), 45 * H, utc(2026, 11, 23, 9)),  # five full days, not back into the weekend
        (utc(2026, 11, 16, 12), timedelta(0), utc(2026, 11, 16, 12)),
        (utc(2026, 11, 21, 12), timedelta(0), utc(2026, 11, 21, 12)),  # nothing to go back: the end itself
        (utc(2026, 11, 16, 12), -H, utc(2026, 11, 16, 12)),
    ],
)
def test_before_is_the_latest_start_with_that_much_business_time_left(unit_desk, end, duration, start):
    calendar = unit_desk.calendar_for("general")
    found = alerts.before(calendar, end, duration)
    # Bisection to the second, then cut to a whole second: never late, at most a second early
    # (an exact answer on a whole second may come out one second before it).
    assert start - SECOND <= found <= start
    assert found.microsecond == 0
    if duration > timedelta(0):
        assert calendar.between(found, end) >= duration


def test_before_on_a_desk_that_never_closes_is_plain_subtraction(unit_desk):
    calendar = unit_desk.calendar_for("night")
    for hours in (1, 7.5, 49, 24 * 9):
        end = utc(2026, 11, 23, 10, 17)
        assert alerts.before(calendar, end, hours * H) == end - hours * H


def test_before_is_never_late_and_never_more_than_two_seconds_early(unit_desk):
    calendar = unit_desk.calendar_for("general")
    end = utc(2026, 11, 24, 15, 0, 0)
    for duration in (MINUTE * 0.5, 11 * H + 59 * MINUTE + 59.5 * SECOND, 17 * H, 23 * H + 1 * MINUTE, 200 * H):
        found = alerts.before(calendar, end, duration)
        assert found.microsecond == 0
        assert calendar.between(found, end) >= duration  # the warning is not late
        assert calendar.between(found + 2 * SECOND, end) < duration  # nor early by more than the rounding


# --- `plan`: the one next warning of a ticket -----------------------------------------------


def test_the_earliest_warning_of_the_running_targets_is_planned(new_ticket, unit_desk):
    ticket = new_ticket(MONDAY)
    running = {"resolution": utc(2026, 11, 20, 13), "first_response": MONDAY + 4 * H}
    alerts.plan(unit_desk, ticket, running)
    assert ticket.next_alert_at == MONDAY + 3 * H
    assert ticket.next_alert == {
        "target": "first_response",
        "share": 0.75,
        "cycle": "0",
        "due": clock.iso(MONDAY + 4 * H),
    }
    assert ticket.alert_shard in {f"a{shard}" for shard in range(alerts.SHARDS)}  # a shard the watch reads


@pytest.mark.parametrize(
    ("sent", "planned"),
    [
        ({}, ("first_response", 0.75, MONDAY + 3 * H)),
        ({"first_response#0": 0.75}, ("first_response", 0.9, MONDAY + 3 * H + 36 * MINUTE)),
        ({"first_response#0": 0.9}, ("first_response", 1.0, MONDAY + 4 * H)),
        ({"first_response#0": 1.0}, ("resolution", 0.75, utc(2026, 11, 19, 12))),  # breached: the next target
        ({"first_response#0": 1.0, "resolution#0": 0.9}, ("resolution", 1.0, utc(2026, 11, 20, 13))),
        ({"first_response#0": 1.0, "resolution#0": 1.0}, None),  # every warning sent
    ],
)
def test_a_sent_warning_is_not_planned_again(new_ticket, unit_desk, sent, planned):
    ticket = new_ticket(MONDAY)
    ticket.alerts_sent = sent
    alerts.plan(unit_desk, ticket, {"first_response": MONDAY + 4 * H, "resolution": utc(2026, 11, 20, 13)})
    if planned is None:
        assert (ticket.next_alert_at, ticket.next_alert, ticket.alert_shard) == (None, None, None)
    else:
        target, share, at = planned
        assert ticket.next_alert is not None
        assert (ticket.next_alert["target"], ticket.next_alert["share"], ticket.next_alert_at) == (target, share, at)


def test_no_running_clock_plans_no_warning(new_ticket, unit_desk):
    ticket = new_ticket(MONDAY)
    alerts.plan(unit_desk, ticket, {})
    assert (ticket.next_alert_at, ticket.next_alert, ticket.alert_shard) == (None, None, None)


def test_urgent_tickets_are_warned_at_half_time(new_ticket, unit_desk):
    ticket = new_ticket(MONDAY, priority="urgent")  # 1 business hour to a first answer
    assert ticket.next_alert is not None and ticket.next_alert["share"] == 0.5
    assert ticket.next_alert_at == MONDAY + 30 * MINUTE


def test_each_wait_for_a_next_response_is_warned_anew(new_ticket, unit_desk):
    ticket = new_ticket(MONDAY)
    ticket.first_responded_at = MONDAY + H
    first_wait, second_wait = utc(2026, 11, 16, 11), utc(2026, 11, 17, 11)
    ticket.awaiting_since = first_wait
    ticket.alerts_sent = {"first_response#0": 0.75, f"next_response#{clock.iso(first_wait)}": 1.0}
    alerts.plan(unit_desk, ticket, {"next_response": utc(2026, 11, 17, 10)})
    assert ticket.next_alert is None  # that wait was warned of to the breach
    ticket.awaiting_since = second_wait  # answered, then the customer wrote again
    alerts.plan(unit_desk, ticket, {"next_response": utc(2026, 11, 18, 10)})
    assert ticket.next_alert == {
        "target": "next_response",
        "share": 0.75,
        "cycle": clock.iso(second_wait),
        "due": clock.iso(utc(2026, 11, 18, 10)),
    }
    assert ticket.next_alert_at == utc(2026, 11, 17, 17)  # 2 of the 8 business hours left


def test_the_other_targets_have_one_cycle(new_ticket):
    ticket = new_ticket(MONDAY)
    ticket.awaiting_since = MONDAY + H
    assert alerts.cycle_of(ticket, "first_response") == alerts.cycle_of(ticket, "resolution") == "0"
    assert alerts.cycle_of(ticket, "next_response") == clock.iso(MONDAY + H)


def test_the_shard_of_a_ticket_is_stable_and_one_the_watch_reads():
    ids = [f"PR-{n:08X}" for n in range(400)]
    shards = [alerts.shard_of(ticket_id) for ticket_id in ids]
    assert set(shards) == {f"a{shard}" for shard in range(alerts.SHARDS)}  # every shard used, no other
    assert shards == [alerts.shard_of(ticket_id) for ticket_id in ids]


# --- `catch_up`: only the most urgent of several late warnings -------------------------------


@pytest.mark.parametrize(
    ("now", "share"),
    [
        (utc(2026, 11, 23, 10, 59), 0.75),  # the watch is early: as planned
        (utc(2026, 11, 23, 11, 10), 0.75),  # only 75 % has passed
        (utc(2026, 11, 23, 11, 36), 0.9),  # 90 % falls now: say 90 % once, not 75 % and then 90 %
        (utc(2026, 11, 23, 12, 30), 1.0),  # already breached: only the breach
        (utc(2026, 11, 30, 9), 1.0),
    ],
)
def test_a_late_watch_sends_only_the_most_urgent_warning(new_ticket, unit_desk, now, share):
    ticket = new_ticket(FRIDAY_5PM)  # 75 % planned for Monday 11:00
    planned = dict(ticket.next_alert or {})
    alerts.catch_up(unit_desk, ticket, now)
    assert ticket.next_alert == {**planned, "share": share}


def test_catch_up_never_goes_back_to_a_lower_share(new_ticket, unit_desk):
    ticket = new_ticket(FRIDAY_5PM)
    ticket.alerts_sent = {"first_response#0": 0.9}
    alerts.plan(unit_desk, ticket, {"first_response": utc(2026, 11, 23, 12)})
    alerts.catch_up(unit_desk, ticket, utc(2026, 11, 23, 11, 40))  # 90 % passed, but it was sent
    assert ticket.next_alert is not None and ticket.next_alert["share"] == 1.0


def test_catch_up_of_a_ticket_with_nothing_planned_does_nothing(new_ticket, unit_desk):
    ticket = new_ticket(MONDAY, automated="bounce")
    alerts.catch_up(unit_desk, ticket, MONDAY + 9 * H)
    assert ticket.next_alert is None


class CountingClosed:
    """A desk's closed dates that count how often they are consulted."""

    def __init__(self, dates: set[date]) -> None:
        self.dates = dates
        self.asked = 0

    def __contains__(self, day: object) -> bool:
        self.asked += 1
        return day in self.dates


def reference_before(calendar: BusinessCalendar, end: datetime, duration: timedelta) -> datetime:
    """The bisection `before` documents, one `between` per step."""
    low = end - duration
    while calendar.between(low, end) < duration and end - low < timedelta(days=800):
        low = end - 2 * (end - low)
    high = end
    while high - low > SECOND:
        middle = low + (high - low) / 2
        if calendar.between(middle, end) >= duration:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0)


def test_before_walks_its_window_not_once_per_step_and_answers_as_the_bisection_does(unit_desk):
    # A warning is placed on every intake and every job that refreshes a ticket: the closed dates
    # (a holidays calendar) are read once per day of the window, not once per bisection step.
    desk = unit_desk.calendar_for("general")
    closed = CountingClosed({date(2026, 12, 25)})
    calendar = BusinessCalendar(tz=desk.tz, weekly=desk.weekly, closed=closed)
    end = utc(2026, 12, 28, 10, 17, 3)
    for duration in (MINUTE * 0.5, 2 * H, 3 * H + 7 * SECOND, 17 * H, 45 * H):
        expected = reference_before(calendar, end, duration)
        closed.asked = 0
        assert alerts.before(calendar, end, duration) == expected
        window_days = (end - expected).days + 1
        # widening the window walks it a few times over (the bisection itself never): a `between`
        # per bisection step read each date 20-odd times (188 reads for 2 hours here, 337 for 45)
        assert closed.asked <= 5 * (window_days + 4)
