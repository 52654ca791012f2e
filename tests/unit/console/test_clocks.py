"""A ticket's SLA clocks as the console shows them (chalicelib/console/clocks.py): which run,
how far each has gone at the policy's alert shares, paused ones as they stood, and the countdown
an agent reads in their language and zone.

The unit desk (tests/unit/conftest.py): email gets 4 business hours to a first answer, 8 to a
next one and 40 to resolution, warned at 75 %, 90 % and the breach; chat runs on the wall clock
(2 hours to a first answer). Mon–Fri 09:00–18:00 UTC; the desk's own zone is Europe/Kyiv (UTC+2
in November). November 2026: the 16th and 23rd are Mondays, the 20th a Friday.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import lifecycle
from chalicelib.console import clocks

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY = utc(2026, 11, 16, 9)  # the desk opens: a first answer is due 13:00, resolution Friday 13:00
FRIDAY_5PM = utc(2026, 11, 20, 17)  # an hour before closing: a first answer is due Monday 23rd 12:00


def shown(found: list[clocks.Clock]) -> list[tuple[str, datetime, timedelta, bool, str, float | None]]:
    return [(c.kind, c.due, c.remaining, c.paused, c.level, c.share) for c in found]


# --- Which clocks run, and how far each has gone ---------------------------------------------


def test_a_new_ticket_counts_down_to_its_first_answer_first(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    found = clocks.running(unit_desk, ticket, MONDAY + H)
    assert shown(found) == [
        ("first_response", MONDAY + 4 * H, 3 * H, False, "ok", None),
        ("resolution", utc(2026, 11, 20, 13), utc(2026, 11, 20, 13) - (MONDAY + H), False, "ok", None),
    ]
    assert clocks.nearest(found) is found[0]


@pytest.mark.parametrize(
    ("now", "level", "share"),
    [
        (utc(2026, 11, 21, 12), "ok", None),  # Saturday: on the wall clock 19 of 67 hours are gone, no business one
        (utc(2026, 11, 23, 10, 59), "ok", None),  # Monday: 2 of the 3 business hours are used
        (utc(2026, 11, 23, 11), "warn", 0.75),  # 3 of 4: the first warning (sla/alerts.py's example)
        (utc(2026, 11, 23, 11, 36), "warn", 0.9),  # the later warning share, for a darker tint
        (utc(2026, 11, 23, 12), "breach", 1.0),
    ],
)
def test_the_level_follows_the_alert_shares_on_the_business_calendar_across_a_weekend(
    unit_desk, new_ticket, now, level, share
):
    ticket = new_ticket(FRIDAY_5PM)
    first = clocks.running(unit_desk, ticket, now)[0]
    assert (first.kind, first.due) == ("first_response", utc(2026, 11, 23, 12))
    assert (first.level, first.share) == (level, share)


def test_an_urgent_ticket_warns_at_its_policys_first_share_half_time(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY, priority="urgent")  # 1 business hour, warned at 50 %, 75 %, breach
    assert clocks.running(unit_desk, ticket, MONDAY + 29 * MINUTE)[0].level == "ok"
    first = clocks.running(unit_desk, ticket, MONDAY + 30 * MINUTE)[0]
    assert (first.level, first.share) == ("warn", 0.5)


def test_a_breached_clock_has_negative_time_left(unit_desk, new_ticket):
    ticket = new_ticket(FRIDAY_5PM)
    first = clocks.running(unit_desk, ticket, utc(2026, 11, 23, 12, 12))[0]
    assert (first.kind, first.remaining, first.level) == ("first_response", -12 * MINUTE, "breach")


def test_a_pending_ticket_shows_each_clock_paused_with_the_time_it_had_left(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.change_status(unit_desk, ticket, "pending", MONDAY + 3 * H)  # 12:00: one hour to go
    found = clocks.running(unit_desk, ticket, utc(2026, 12, 1, 9))  # long after both dues
    assert shown(found) == [
        ("first_response", MONDAY + 4 * H, H, True, "warn", 0.75),  # as it stood at the pause
        ("resolution", utc(2026, 11, 20, 13), 37 * H, True, "ok", None),  # business hours, not the wall's 4 days
    ]
    assert clocks.nearest(found) is found[0]


def test_a_paused_business_clock_keeps_the_business_time_a_resume_gives_back(unit_desk, new_ticket):
    ticket = new_ticket(FRIDAY_5PM)
    lifecycle.change_status(unit_desk, ticket, "pending", FRIDAY_5PM + H / 2)
    first = clocks.running(unit_desk, ticket, utc(2026, 11, 22, 9))[0]
    assert (first.paused, first.remaining) == (True, 3.5 * H)  # not the 66.5 hours to Monday noon
    lifecycle.change_status(unit_desk, ticket, "open", utc(2026, 11, 24, 9))
    assert ticket.first_response_due == utc(2026, 11, 24, 9) + first.remaining


def test_the_next_response_clock_runs_once_the_customer_writes_again(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H)
    assert [c.kind for c in clocks.running(unit_desk, ticket, MONDAY + H)] == ["resolution"]
    lifecycle.customer_wrote(unit_desk, ticket, MONDAY + 2 * H)  # 11:00: 8 business hours, Tuesday 10:00
    found = clocks.running(unit_desk, ticket, MONDAY + 3 * H)
    assert [(c.kind, c.due, c.paused) for c in found] == [
        ("next_response", utc(2026, 11, 17, 10), False),
        ("resolution", utc(2026, 11, 20, 13), False),
    ]
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + 4 * H)
    lifecycle.customer_wrote(unit_desk, ticket, utc(2026, 11, 19, 17))  # Thursday: due Friday 16:00
    found = clocks.running(unit_desk, ticket, utc(2026, 11, 19, 17))
    assert [(c.kind, c.due) for c in found] == [  # soonest due first, whichever target it is
        ("resolution", utc(2026, 11, 20, 13)),
        ("next_response", utc(2026, 11, 20, 16)),
    ]


def test_a_solved_ticket_has_nothing_running_only_paused_clocks(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.change_status(unit_desk, ticket, "solved", MONDAY + H)
    found = clocks.running(unit_desk, ticket, MONDAY + 2 * H)
    assert [(c.kind, c.paused, c.remaining) for c in found] == [
        ("first_response", True, 3 * H),
        ("resolution", True, 39 * H),
    ]
    lifecycle.change_status(unit_desk, ticket, "closed", MONDAY + 2 * H)
    assert clocks.running(unit_desk, ticket, MONDAY + 3 * H) == []
    assert clocks.nearest([]) is None


def test_a_queue_row_shows_the_soonest_running_clock_before_any_paused_one(unit_desk):
    paused = clocks.Clock("first_response", MONDAY, H, paused=True, level="ok", share=None)
    later = clocks.Clock("resolution", MONDAY + 9 * H, 2 * H, paused=False, level="ok", share=None)
    soon = clocks.Clock("next_response", MONDAY + 4 * H, H, paused=False, level="warn", share=0.75)
    assert clocks.nearest([paused, later, soon]) is soon
    assert clocks.nearest([later, paused]) is later


# --- What an agent reads ------------------------------------------------------------------


def countdown(unit_desk, ticket, now, tz, language):
    return clocks.countdown(clocks.running(unit_desk, ticket, now)[0], now, tz, language)


@pytest.mark.parametrize(
    ("language", "coming", "late", "paused"),
    [
        ("en", "in 42 min · 15:00", "12 min late · 15:00", "paused · 1 hr 5 min left"),
        ("uk", "через 42 хв · 15:00", "прострочено на 12 хв · 15:00", "пауза · лишилось 1 год 5 хв"),
        ("ru", "через 42 мин · 15:00", "просрочено на 12 мин · 15:00", "пауза · осталось 1 ч 5 мин"),
    ],
)
def test_the_countdown_in_each_language_of_the_desk(unit_desk, new_ticket, language, coming, late, paused):
    ticket = new_ticket(MONDAY)  # first answer due 13:00 UTC, 15:00 in Kyiv
    assert countdown(unit_desk, ticket, MONDAY + 3 * H + 18 * MINUTE, "Europe/Kyiv", language) == coming
    assert countdown(unit_desk, ticket, MONDAY + 4 * H + 12 * MINUTE, "Europe/Kyiv", language) == late
    lifecycle.change_status(unit_desk, ticket, "pending", MONDAY + 2 * H + 55 * MINUTE)
    assert countdown(unit_desk, ticket, MONDAY + 6 * H, "Europe/Kyiv", language) == paused


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "in 2 days 18 hr · Mon 14:00"),
        ("uk", "через 2 дн. 18 год · пн 14:00"),
        ("ru", "через 2 дн. 18 ч · пн 14:00"),
    ],
)
def test_a_due_time_on_another_day_names_the_day(unit_desk, new_ticket, language, expected):
    ticket = new_ticket(FRIDAY_5PM)  # due Monday 12:00 UTC
    assert countdown(unit_desk, ticket, FRIDAY_5PM + 10 * MINUTE, "Europe/Kyiv", language) == expected


def test_a_due_time_a_week_or_more_away_names_the_date_and_long_waits_are_not_rounded_to_weeks(unit_desk, new_ticket):
    ticket = new_ticket(FRIDAY_5PM)
    now = utc(2026, 12, 3, 15)
    assert countdown(unit_desk, ticket, now, "Europe/Kyiv", "en") == "10 days 3 hr late · Mon 23 Nov 14:00"


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("America/New_York", "in 1 hr 50 min · 18:30"),  # 16:40 there: due the same evening
        ("Europe/Kyiv", "in 1 hr 50 min · Tue 01:30"),  # the desk's zone: 23:40, due after midnight
    ],
)
def test_the_time_and_the_day_are_the_agents_zone_not_the_desks(unit_desk, new_ticket, tz, expected):
    ticket = new_ticket(utc(2026, 11, 16, 21, 30), channel="chat")  # 2 hours on the wall clock: 23:30 UTC
    assert countdown(unit_desk, ticket, utc(2026, 11, 16, 21, 40), tz, "en") == expected


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("en", ["First response", "Next response", "Resolution"]),
        ("uk", ["Перша відповідь", "Наступна відповідь", "Вирішення"]),
        ("ru", ["Первый ответ", "Следующий ответ", "Решение"]),
        ("de", ["First response", "Next response", "Resolution"]),  # not a desk language: English
    ],
)
def test_each_clock_is_named_in_the_agents_language(language, names):
    assert [clocks.label(kind, language) for kind in ("first_response", "next_response", "resolution")] == names


# --- What the customer was told -----------------------------------------------------------


def test_the_promise_is_what_a_sent_acknowledgement_named(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    ticket.promised_at, ticket.usual_by = MONDAY + 4 * H, MONDAY + 2 * H
    assert clocks.promise(ticket) is None  # ack_state "none": nothing was sent
    ticket.ack_state = "sent"
    assert clocks.promise(ticket) == clocks.Promise(promised_at=MONDAY + 4 * H, usual_by=MONDAY + 2 * H)
    ticket.promised_at = None
    assert clocks.promise(ticket) is None


def test_a_part_minute_counts_as_a_whole_one_so_the_last_minute_never_reads_zero():
    due = utc(2026, 11, 16, 13)
    coming = clocks.Clock("first_response", due, timedelta(seconds=30), paused=False, level="warn", share=0.9)
    late = clocks.Clock("first_response", due, -timedelta(seconds=10), paused=False, level="breach", share=1.0)
    assert clocks.countdown(coming, due - timedelta(seconds=30), "UTC", "en") == "in 1 min · 13:00"
    assert clocks.countdown(late, due + timedelta(seconds=10), "UTC", "en") == "1 min late · 13:00"


def test_the_share_reached_agrees_with_the_watchs_warning_marks_minute_by_minute(unit_desk, new_ticket):
    """The console measures the time left once instead of bisecting per share; the colour it shows
    must still switch exactly when the SLA watch's warning is due (sla.alerts.mark)."""
    from chalicelib.sla import alerts

    ticket = new_ticket(FRIDAY_5PM)
    due = utc(2026, 11, 23, 12)
    shares = unit_desk.policy_for(ticket.channel, ticket.priority).alert_at
    marks = {share: alerts.mark(unit_desk, ticket, "first_response", due, share) for share in shares}
    moment = FRIDAY_5PM
    while moment <= due + 10 * MINUTE:
        expected = max((share for share, at in marks.items() if at <= moment), default=None)
        assert alerts.share_reached(unit_desk, ticket, "first_response", due, moment) == expected, moment
        moment += 7 * MINUTE if moment.weekday() < 5 else 3 * H
