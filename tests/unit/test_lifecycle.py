"""The ticket lifecycle (chalicelib/lifecycle.py): which status changes an agent may make, what
each does to the lists a ticket shows in, and how pauses move the SLA clocks.

The unit desk (tests/unit/conftest.py): email tickets get 4 business hours to a first answer,
8 to a next one and 40 to resolution, on Mon–Fri 09:00–18:00 UTC; chat runs on the wall clock
(2 hours, 1 hour, 2 days); urgent tickets get 1, 2 and 8 business hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from chalicelib import clock, lifecycle
from chalicelib.errors import Conflict
from chalicelib.sla import alerts

STATUSES = ("new", "open", "pending", "solved", "closed")
# The module docstring's diagram, written out: new → open/pending/solved/closed; open ⇄ pending;
# any live status → solved → closed; solved → open (a reopen); closed is final.
MAY_BECOME = {
    "new": {"open", "pending", "solved", "closed"},
    "open": {"pending", "solved", "closed"},
    "pending": {"open", "solved", "closed"},
    "solved": {"open", "closed"},
    "closed": set(),
}
# What the refusal tells the agent each status can become instead.
ALTERNATIVES = {
    "new": "closed, open, pending, solved",
    "open": "closed, pending, solved",
    "pending": "closed, open, solved",
    "solved": "closed, open",
    "closed": "nothing: it is final",
}
H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY = utc(2026, 11, 16, 9)  # the desk opens


def in_status(desk, new_ticket, status: str):
    """A ticket created Monday 09:00 and, unless new, moved to `status` at 09:30."""
    ticket = new_ticket(MONDAY)
    if status != "new":
        lifecycle.change_status(desk, ticket, status, MONDAY + H / 2)
    return ticket


# --- The transition table: every pair ------------------------------------------------------


PAIRS = list(product(STATUSES, STATUSES))


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{source}->{target}" for source, target in PAIRS])
def test_every_status_change_is_allowed_or_refused_with_the_alternatives(unit_desk, new_ticket, source, target):
    ticket = in_status(unit_desk, new_ticket, source)
    now = MONDAY + 2 * H
    if target in MAY_BECOME[source]:
        lifecycle.change_status(unit_desk, ticket, target, now)
        assert (ticket.status, ticket.updated_at) == (target, now)
        return
    before = ticket.to_simple_dict()
    with pytest.raises(Conflict) as refused:
        lifecycle.change_status(unit_desk, ticket, target, now)
    assert refused.value.status == 409
    assert refused.value.message.endswith(
        f" {source} ticket cannot become {target}; it can become {ALTERNATIVES[source]}"
    )
    assert ticket.to_simple_dict() == before  # a refusal changes nothing


@pytest.mark.parametrize("target", ["archived", "Open", ""])
def test_an_unknown_status_is_refused_naming_the_real_ones(unit_desk, new_ticket, target):
    ticket = new_ticket(MONDAY)
    with pytest.raises(Conflict, match=r"unknown status .*; one of new, open, pending, solved, closed$"):
        lifecycle.change_status(unit_desk, ticket, target, MONDAY + H)
    assert ticket.status == "new"


# --- What a status puts the ticket in: the live list, the finished list, the quiet close ---


@pytest.mark.parametrize(
    ("status", "live_list", "done_list", "awaiting_quiet_close", "band_key", "owner_key"),
    [
        # first answer due at 13:00: due later (its 75% is 12:00), soonest due first
        ("new", "general", None, None, "d#2026-11-16T13:00:00.000Z#PR-UNIT1", "2026-11-16T13:00:00.000Z#PR-UNIT1"),
        ("open", "general", None, None, "d#2026-11-16T13:00:00.000Z#PR-UNIT1", "2026-11-16T13:00:00.000Z#PR-UNIT1"),
        # paused: nothing is due; waiting on the customer since 09:30
        ("pending", "general", None, None, "p#2026-11-16T09:30:00.000Z#PR-UNIT1", "~2026-11-16T09:30:00.000Z#PR-UNIT1"),
        ("solved", None, "general", "solved", None, None),
        ("closed", None, "general", None, None, None),
    ],
)
def test_a_status_decides_which_lists_show_the_ticket(
    unit_desk, new_ticket, status, live_list, done_list, awaiting_quiet_close, band_key, owner_key
):
    ticket = in_status(unit_desk, new_ticket, status)
    assert ticket.open_queue == live_list
    assert ticket.done_queue == done_list
    assert ticket.solved_shard == awaiting_quiet_close
    assert ticket.due_key == band_key
    assert ticket.owner_key == owner_key
    assert ticket.owner_lane == (None if live_list is None else "free#general")
    assert ticket.done_at == (None if status in ("new", "open", "pending") else MONDAY + H / 2)


def test_a_ticket_is_breaching_soon_from_its_first_alert_share_and_stays_so_once_late(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)  # first answer due 13:00; the first alert share (75%) is 12:00
    lifecycle.refresh_index(ticket, utc(2026, 11, 16, 11, 59))
    assert ticket.due_key == "d#2026-11-16T13:00:00.000Z#PR-UNIT1"
    for moment in (utc(2026, 11, 16, 12), utc(2026, 11, 16, 14)):
        lifecycle.refresh_index(ticket, moment)
        assert ticket.due_key == "b#2026-11-16T13:00:00.000Z#PR-UNIT1"
    assert lifecycle.soonest_first(ticket.due_key) == "d#2026-11-16T13:00:00.000Z#PR-UNIT1"


def test_the_owner_decides_the_owners_list_and_robot_mail_keeps_its_own(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    ticket.assignee = "A-olena"
    lifecycle.refresh_index(ticket, MONDAY)
    assert ticket.owner_lane == "agent#A-olena"
    ticket.automated = "auto-reply"
    lifecycle.refresh_index(ticket, MONDAY)
    assert (ticket.owner_lane, ticket.owner_key) == ("robot#general", "2026-11-16T09:00:00.000Z#PR-UNIT1")
    assert ticket.due_key == "r#2026-11-16T09:00:00.000Z#PR-UNIT1"
    assert lifecycle.soonest_first(ticket.due_key) > lifecycle.soonest_first("p#2026-11-16T09:30:00.000Z#PR-UNIT2")


def test_solving_again_asks_for_a_new_rating(unit_desk, new_ticket):
    ticket = in_status(unit_desk, new_ticket, "solved")
    ticket.rating, ticket.rating_comment, ticket.rated_at = "bad", "still broken", MONDAY + H
    lifecycle.change_status(unit_desk, ticket, "open", MONDAY + 2 * H)
    assert ticket.last_solved_at == MONDAY + H / 2  # reopening keeps which solve a rating was about
    assert ticket.rating == "bad"
    lifecycle.change_status(unit_desk, ticket, "solved", MONDAY + 3 * H)
    assert (ticket.solved_at, ticket.last_solved_at) == (MONDAY + 3 * H, MONDAY + 3 * H)
    assert (ticket.rating, ticket.rating_comment, ticket.rated_at) == (None, None, None)


@pytest.mark.parametrize("target", ["open", "closed"])
def test_leaving_solved_stops_the_quiet_close_but_keeps_the_solve_a_rating_link_names(unit_desk, new_ticket, target):
    ticket = in_status(unit_desk, new_ticket, "solved")
    lifecycle.change_status(unit_desk, ticket, target, MONDAY + H)
    assert ticket.solved_at is None and ticket.solved_shard is None
    assert ticket.last_solved_at == MONDAY + H / 2


# --- Pauses: pending and solved stop every clock; leaving moves each due on ------------------

# (created, paused, resumed, business time paused, first answer due after, resolution due after)
PAUSES = [
    pytest.param(
        utc(2026, 11, 16, 9), utc(2026, 11, 16, 10), utc(2026, 11, 16, 11, 30), 1.5 * H,
        utc(2026, 11, 16, 14, 30), utc(2026, 11, 20, 14, 30), id="an hour and a half within the day",
    ),
    pytest.param(
        utc(2026, 11, 16, 9), utc(2026, 11, 16, 10), utc(2026, 11, 17, 10), 9 * H,
        utc(2026, 11, 17, 13), utc(2026, 11, 23, 13), id="overnight: only open hours count",
    ),
    pytest.param(
        utc(2026, 11, 20, 9), utc(2026, 11, 20, 10), utc(2026, 11, 23, 10), 9 * H,
        utc(2026, 11, 23, 13), utc(2026, 11, 27, 13), id="over the weekend",
    ),
    pytest.param(
        utc(2026, 11, 20, 17), utc(2026, 11, 21, 10), utc(2026, 11, 22, 10), 0 * H,
        utc(2026, 11, 23, 12), utc(2026, 11, 27, 12), id="all of it while closed: nothing moves",
    ),
    pytest.param(
        utc(2026, 12, 24, 9), utc(2026, 12, 24, 10), utc(2026, 12, 28, 10), 9 * H,
        utc(2026, 12, 28, 13), utc(2027, 1, 1, 13), id="over a closed day (Christmas) and a weekend",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("created", "paused", "resumed", "business", "first_due", "resolution_due"), PAUSES)
def test_a_pause_moves_each_due_on_by_the_business_time_it_lasted(
    unit_desk, new_ticket, created, paused, resumed, business, first_due, resolution_due
):
    ticket = new_ticket(created)
    lifecycle.change_status(unit_desk, ticket, "pending", paused)
    lifecycle.change_status(unit_desk, ticket, "open", resumed)
    assert ticket.first_response_due == first_due
    assert ticket.resolution_due == resolution_due
    assert ticket.paused_total == business.total_seconds()
    assert ticket.paused_at is None


def test_the_time_left_at_the_pause_is_the_time_left_after_it(unit_desk, new_ticket):
    ticket = new_ticket(utc(2026, 11, 16, 9))  # 4 business hours: due 13:00
    lifecycle.change_status(unit_desk, ticket, "pending", utc(2026, 11, 16, 12))  # 1 hour left
    lifecycle.change_status(unit_desk, ticket, "open", utc(2026, 11, 19, 15, 20))
    assert ticket.first_response_due == utc(2026, 11, 19, 16, 20)


def test_a_wall_clock_target_moves_on_by_the_whole_pause(unit_desk, new_ticket):
    ticket = new_ticket(utc(2026, 11, 20, 17), channel="chat")  # 2 hours: due 19:00; 2 days: Sunday 17:00
    lifecycle.change_status(unit_desk, ticket, "pending", utc(2026, 11, 20, 17, 30))
    lifecycle.change_status(unit_desk, ticket, "open", utc(2026, 11, 23, 10))  # 64.5 hours later
    assert ticket.first_response_due == utc(2026, 11, 23, 11, 30)
    assert ticket.resolution_due == utc(2026, 11, 25, 9, 30)


def test_pending_then_solved_then_reopened_is_one_pause(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.change_status(unit_desk, ticket, "pending", MONDAY + H)
    lifecycle.change_status(unit_desk, ticket, "solved", MONDAY + 2 * H)
    assert ticket.paused_at == MONDAY + H  # still the pause that began at pending
    lifecycle.change_status(unit_desk, ticket, "open", MONDAY + 3 * H)
    assert ticket.paused_total == 2 * 3600
    assert ticket.first_response_due == MONDAY + 6 * H


def test_two_pauses_add_up(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    for start in (MONDAY + H, MONDAY + 3 * H):
        lifecycle.change_status(unit_desk, ticket, "pending", start)
        lifecycle.change_status(unit_desk, ticket, "open", start + H / 2)
    assert ticket.paused_total == 3600
    assert ticket.first_response_due == MONDAY + 5 * H


@pytest.mark.parametrize("paused", ["pending", "solved"])
def test_no_clock_runs_and_no_warning_is_planned_while_paused(unit_desk, new_ticket, paused):
    ticket = new_ticket(MONDAY)
    assert set(lifecycle.running_dues(ticket)) == {"first_response", "resolution"}
    assert ticket.next_alert_at is not None
    lifecycle.change_status(unit_desk, ticket, paused, MONDAY + H)
    assert lifecycle.running_dues(ticket) == {}
    assert (ticket.next_alert_at, ticket.next_alert, ticket.alert_shard) == (None, None, None)
    lifecycle.change_status(unit_desk, ticket, "open", MONDAY + 2 * H)
    assert ticket.next_alert_at == MONDAY + 4 * H  # 75 % of the first answer's 4 hours, an hour on


def test_a_first_answer_already_given_keeps_its_due(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H / 2)
    lifecycle.change_status(unit_desk, ticket, "pending", MONDAY + H)
    lifecycle.change_status(unit_desk, ticket, "open", MONDAY + 3 * H)
    assert ticket.first_response_due == MONDAY + 4 * H  # what the answer was measured against
    assert ticket.resolution_due == utc(2026, 11, 20, 15)  # 40 business hours, plus the 2 paused


# --- The customer writes, an agent answers -------------------------------------------------


def test_an_answer_stops_the_first_response_clock_once(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + 2 * H)
    assert ticket.first_responded_at == MONDAY + H
    assert ticket.status == "open"
    assert set(lifecycle.running_dues(ticket)) == {"resolution"}


def test_an_answer_on_a_pending_ticket_leaves_it_pending(unit_desk, new_ticket):
    ticket = in_status(unit_desk, new_ticket, "pending")
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H)
    assert ticket.status == "pending"


def test_the_customer_writing_after_an_answer_starts_the_next_response_clock(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H)
    assert ticket.next_response_due is None
    lifecycle.customer_wrote(unit_desk, ticket, utc(2026, 11, 16, 15))
    assert ticket.next_response_due == utc(2026, 11, 17, 14)  # 8 business hours: 3 today, 5 tomorrow
    lifecycle.customer_wrote(unit_desk, ticket, utc(2026, 11, 16, 16))  # writing again does not restart it
    assert ticket.next_response_due == utc(2026, 11, 17, 14)
    assert ticket.last_message_at == utc(2026, 11, 16, 16)
    lifecycle.agent_answered(unit_desk, ticket, utc(2026, 11, 16, 17))
    assert ticket.next_response_due is None and ticket.awaiting_since is None


def test_the_customer_writing_before_any_answer_starts_no_next_response_clock(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.customer_wrote(unit_desk, ticket, MONDAY + H)
    assert ticket.next_response_due is None
    assert ticket.awaiting_since == MONDAY  # still waiting since the ticket came in
    assert ticket.status == "new"


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_the_customer_writing_on_a_paused_ticket_opens_it_and_resumes_the_clocks(unit_desk, new_ticket, status):
    ticket = in_status(unit_desk, new_ticket, status)
    lifecycle.customer_wrote(unit_desk, ticket, MONDAY + 2 * H)
    assert ticket.status == "open"
    assert ticket.paused_total == 1.5 * 3600
    assert ticket.first_response_due == MONDAY + 5.5 * H


def test_the_customer_writing_on_a_closed_ticket_is_refused(unit_desk, new_ticket):
    ticket = in_status(unit_desk, new_ticket, "closed")
    with pytest.raises(Conflict, match="closed ticket cannot become open"):
        lifecycle.customer_wrote(unit_desk, ticket, MONDAY + H)


# --- Clocks at intake and on a new priority --------------------------------------------------


def test_a_new_ticket_starts_its_clocks_and_plans_its_first_warning(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    assert (ticket.first_response_due, ticket.resolution_due) == (MONDAY + 4 * H, utc(2026, 11, 20, 13))
    assert ticket.awaiting_since == MONDAY
    assert ticket.next_alert_at == MONDAY + 3 * H  # 75 % of 4 hours
    assert ticket.next_alert == {
        "target": "first_response",
        "share": 0.75,
        "cycle": "0",
        "due": clock.iso(MONDAY + 4 * H),
    }


def test_a_robot_gets_no_clocks(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY, automated="auto-reply")
    assert (ticket.first_response_due, ticket.resolution_due, ticket.next_alert_at) == (None, None, None)
    lifecycle.reprioritize(unit_desk, ticket, "urgent", MONDAY + H)
    assert ticket.priority == "urgent"
    assert (ticket.first_response_due, ticket.resolution_due) == (None, None)


def test_a_new_priority_reapplies_its_policy_from_the_start_plus_the_time_paused(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.change_status(unit_desk, ticket, "pending", MONDAY + H / 2)
    lifecycle.change_status(unit_desk, ticket, "open", MONDAY + 1.5 * H)  # an hour paused
    lifecycle.reprioritize(unit_desk, ticket, "urgent", MONDAY + 1.75 * H)
    assert ticket.first_response_due == MONDAY + 2 * H  # 1 business hour + the hour paused
    assert ticket.resolution_due == MONDAY + 9 * H  # 8 business hours + 1: Monday 18:00
    assert ticket.next_alert_at == MONDAY + 1.5 * H  # urgent tickets warn at 50 % already
    assert ticket.next_alert is not None and ticket.next_alert["share"] == 0.5


def test_a_new_priority_after_the_first_answer_leaves_that_due_alone(unit_desk, new_ticket):
    ticket = new_ticket(MONDAY)
    lifecycle.agent_answered(unit_desk, ticket, MONDAY + H)
    lifecycle.customer_wrote(unit_desk, ticket, MONDAY + 2 * H)
    lifecycle.reprioritize(unit_desk, ticket, "urgent", MONDAY + 3 * H)
    assert ticket.first_response_due == MONDAY + 4 * H
    assert ticket.next_response_due == MONDAY + 4 * H  # 2 business hours from when the customer wrote


@pytest.mark.parametrize(
    "channel",
    [
        "email",
        "chat",
    ],
)
def test_re_prioritizing_after_a_weekend_pause_keeps_the_dues_the_pause_gave(unit_desk, new_ticket, channel):
    ticket = new_ticket(utc(2026, 11, 20, 17), channel=channel)
    lifecycle.change_status(unit_desk, ticket, "pending", utc(2026, 11, 20, 17, 30))
    lifecycle.change_status(unit_desk, ticket, "open", utc(2026, 11, 23, 10))
    dues = (ticket.first_response_due, ticket.resolution_due)
    lifecycle.reprioritize(unit_desk, ticket, "normal", utc(2026, 11, 23, 10, 5))  # the same policy again
    assert (ticket.first_response_due, ticket.resolution_due) == dues


def test_a_write_measures_each_clocks_first_warning_once_for_the_band_and_the_plan(unit_desk, new_ticket, monkeypatch):
    # Every write of a ticket re-plans its warnings: the band ("breaching soon") and the next
    # warning both need the first share's moment of each running clock, measured once.
    ticket = new_ticket(MONDAY)
    measured: list[tuple[str, float]] = []
    mark = alerts.mark

    def counted(desk, ticket, target, due, share):
        measured.append((target, share))
        return mark(desk, ticket, target, due, share)

    monkeypatch.setattr(alerts, "mark", counted)
    lifecycle.refresh_index(ticket, MONDAY + H)
    assert sorted(measured) == [("first_response", 0.75), ("resolution", 0.75)]
    assert ticket.due_key.startswith("d#") and ticket.next_alert == {
        "target": "first_response",
        "share": 0.75,
        "cycle": "0",
        "due": clock.iso(MONDAY + 4 * H),
    }
    lifecycle.refresh_index(ticket, MONDAY + 3 * H + H / 2)  # past 75 % of the first answer's time
    assert ticket.due_key.startswith("b#")
