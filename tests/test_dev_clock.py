"""The local desk's clock a person can move (`/dev/clock`): the desk's "now" runs ahead, the
promise and the schedules follow it, signed posts keep working, and no other stage has it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from chalice.test import Client

from chalicelib import clock, dev_clock
from tests.conftest import ROOT
from tests.harness import KYIV


@pytest.fixture(autouse=True)
def machine_time():
    """Every test starts and ends on the machine's time (the offset lives in the process)."""
    clock.set_offset(timedelta(0))
    yield
    clock.set_offset(timedelta(0))


def move(desk, **change):
    return desk.client.http.post("/dev/clock", headers={"Content-Type": "application/json"}, body=json.dumps(change))


def desk_time(desk) -> datetime:
    return clock.parse_iso(desk.client.http.get("/dev/clock").json_body["now"]).astimezone(KYIV)


def test_business_hours_skip_the_night_and_the_weekend(desk):
    desk.at(datetime(2026, 11, 27, 17, 0, tzinfo=KYIV))  # Friday, an hour before closing

    answer = move(desk, by="3 business hours")

    assert answer.status_code == 200, answer.body
    assert desk_time(desk) == datetime(2026, 11, 30, 11, 0, tzinfo=KYIV)  # Monday: 1 h Friday + 2 h
    assert answer.json_body["desk_time"] == "Mon 2026-11-30 11:00 Europe/Kyiv"
    assert answer.json_body["ahead_seconds"] == int(timedelta(days=2, hours=18).total_seconds())


def test_to_a_time_of_day_is_the_next_time_the_desk_clock_shows_it(desk):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))

    move(desk, to="08:05")
    assert desk_time(desk) == datetime(2026, 11, 24, 8, 5, tzinfo=KYIV)
    move(desk, to="09:30")
    assert desk_time(desk) == datetime(2026, 11, 24, 9, 30, tzinfo=KYIV)  # the same morning, later
    move(desk, reset=True)
    assert desk_time(desk) == datetime(2026, 11, 23, 10, 0, tzinfo=KYIV)


def test_the_promise_follows_the_moved_clock_and_signed_posts_still_pass(desk):
    move(desk, by="2 days")  # Monday 10:00 → Wednesday 10:00 on the desk, Monday on the machine

    answer = desk.post_form({"submission_id": "moved-1", "email": "olena@example.com", "message": "Hello"})
    desk.pump()

    assert answer.status_code == 200, answer.body  # signed with the machine's time: not a replay
    [ack] = desk.sent_mail()
    assert "Wednesday" in ack["text"] and "14:00" in ack["text"]  # 4 business hours from Wednesday 10:00


@pytest.mark.parametrize(
    "change, message",
    [
        ({}, "say how to move the clock with one of by, to or reset"),
        ({"by": "1 hour", "reset": True}, "say how to move the clock with one of by, to or reset"),
        ({"by": "soon"}, "by: 'soon' is not a duration like '4 business hours' or '30 minutes'"),
        ({"to": "25:00"}, "to: "),
        ({"back": "1 hour"}, "back: "),
    ],
)
def test_what_the_clock_cannot_do_is_a_400_saying_why(desk, change, message):
    answer = move(desk, **change)

    assert answer.status_code == 400
    assert answer.json_body["Message"].startswith(message)
    assert clock.offset() == timedelta(0)


def test_moving_runs_whatever_asked_to_run_after_a_move(desk, monkeypatch):
    seen: list[datetime] = []
    monkeypatch.setattr(dev_clock, "_after_move", [lambda: seen.append(clock.now()) or ["sla_watch"]])

    answer = move(desk, by="1 hour")

    assert answer.json_body["ran"] == ["sla_watch"]
    assert seen == [datetime(2026, 11, 23, 11, 0, tzinfo=KYIV)]  # it ran at the new time


def test_no_other_stage_has_a_clock_to_move(desk):
    with Client(desk.app, stage_name="dev", project_dir=str(ROOT)) as dev:
        assert dev.http.get("/dev/clock").status_code == 404
        refused = dev.http.post("/dev/clock", headers={"Content-Type": "application/json"}, body='{"by": "1 hour"}')
        assert refused.status_code == 404 and refused.json_body["Code"] == "NotFound"
    assert clock.offset() == timedelta(0)
