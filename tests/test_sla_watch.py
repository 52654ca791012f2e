"""The SLA watch warns the right people before a promise breaks, escalates when nobody acts,
and sends each warning exactly once — following business hours, pauses and answers."""

from __future__ import annotations

import threading
from datetime import datetime

from chalicelib.agents import staff
from chalicelib.models import Fact, Message, Ticket
from chalicelib.sla import watch
from tests.harness import KYIV

FORM = {
    "submission_id": "s1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}


def run_watch(desk) -> None:
    desk.client.lambda_.invoke(
        "sla_watch",
        desk.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )
    desk.pump()


def alerts(desk) -> list[tuple[str, str]]:
    """(recipient address, subject) of every SLA email sent, oldest first."""
    return [(m["to"], m["subject"]) for m in reversed(desk.sent_mail()) if m["subject"].startswith("[SLA")]


def owned_ticket(desk, team) -> str:
    """Monday 10:00 form ticket (4 business hours: due 14:00) taken by Olena."""
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])
    desk.pump()
    return ticket_id


def test_a_ticket_walks_through_75_90_and_breach_and_each_level_reaches_the_right_people(desk, team):
    ticket_id = owned_ticket(desk, team)
    olena, lead = "olena@promptly.example", "lev@promptly.example"

    steps = {}
    for hhmm in ("12:59", "13:00", "13:36", "14:00"):
        hour, minute = map(int, hhmm.split(":"))
        desk.at(datetime(2026, 11, 23, hour, minute, tzinfo=KYIV))
        before = len(alerts(desk))
        run_watch(desk)
        steps[hhmm] = alerts(desk)[before:]

    assert steps["12:59"] == []
    assert [(to, subject.split(" ")[0:2]) for to, subject in steps["13:00"]] == [(olena, ["[SLA", "75%]"])]
    assert sorted(to for to, _ in steps["13:36"]) == [lead, olena]
    assert all("90%" in subject for _, subject in steps["13:36"])
    assert sorted(to for to, _ in steps["14:00"]) == ["care-team@promptly.example", lead, olena]
    assert all("BREACHED" in subject for _, subject in steps["14:00"])
    [breach] = [f for f in Fact.query("2026-11-23") if f.kind == "breached"]
    assert breach.ticket_id == ticket_id and breach.data["target"] == "first_response"


def test_the_alert_names_ticket_customer_target_time_left_and_who_was_told_and_links_its_page(desk, team):
    ticket_id = owned_ticket(desk, team)
    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    run_watch(desk)
    desk.at(datetime(2026, 11, 23, 13, 36, tzinfo=KYIV))
    run_watch(desk)

    [text] = [m["text"] for m in desk.sent_mail() if m["to"] == "lev@promptly.example"]
    assert "Olga on form" in text and "first response" in text and "24 minutes left" in text
    assert f"Already alerted: {team['olena']['id']}" in text
    assert f"Open it:   http://127.0.0.1:8000/console/t/{ticket_id}" in text and "POST" not in text


def test_an_answer_stops_the_later_warnings(desk, team):
    ticket_id = owned_ticket(desk, team)
    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    run_watch(desk)
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "On it."})

    for hhmm in ((13, 36), (14, 0), (15, 0)):
        desk.at(datetime(2026, 11, 23, *hhmm, tzinfo=KYIV))
        run_watch(desk)

    assert [subject.split(" ")[1] for _, subject in alerts(desk)] == ["75%]"]
    assert Ticket.get(ticket_id).next_alert["target"] == "resolution"


def test_pending_pauses_the_warnings(desk, team):
    ticket_id = owned_ticket(desk, team)
    desk.at(datetime(2026, 11, 23, 11, 0, tzinfo=KYIV))
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "pending"})

    desk.at(datetime(2026, 11, 23, 17, 0, tzinfo=KYIV))
    run_watch(desk)

    assert alerts(desk) == [] and Ticket.get(ticket_id).next_alert_at is None


def test_a_friday_evening_ticket_warns_on_monday_not_saturday(desk, team):
    desk.at(datetime(2026, 11, 20, 17, 0, tzinfo=KYIV))  # Friday; 4 business hours → due Monday 12:00
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])

    desk.at(datetime(2026, 11, 21, 10, 0, tzinfo=KYIV))  # Saturday
    run_watch(desk)
    saturday = alerts(desk)
    desk.at(datetime(2026, 11, 23, 11, 0, tzinfo=KYIV))  # Monday, 1 business hour left
    run_watch(desk)

    assert saturday == []
    assert [subject.split(" ")[1] for _, subject in alerts(desk)] == ["75%]"]
    assert Ticket.get(ticket_id).next_alert_at == datetime(2026, 11, 23, 11, 36, tzinfo=KYIV)  # 90%: 24 min left


def test_a_breach_outside_hours_goes_to_whoever_is_on_duty(desk, team, desk_config):
    desk_config("desk-wallclock.toml")  # 40 wall-clock minutes, business hours 09-18
    staff.set_roster("general", "2026-W48", [team["taras"]["id"]])
    desk.at(datetime(2026, 11, 23, 19, 30, tzinfo=KYIV))  # Monday evening, owner off duty
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])

    desk.at(datetime(2026, 11, 23, 20, 10, tzinfo=KYIV))
    run_watch(desk)

    breach = [to for to, subject in alerts(desk) if "BREACHED" in subject]
    assert "taras@promptly.example" in breach and "olena@promptly.example" not in breach
    assert "night-team@promptly.example" in breach


def test_two_overlapping_watch_runs_send_each_alert_once(desk, team, monkeypatch):
    owned_ticket(desk, team)
    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    both_queued = threading.Barrier(2)
    real_move_on = watch.move_on

    def slow_move_on(*args):
        both_queued.wait(timeout=10)  # both runs have read and queued before either moves on
        return real_move_on(*args)

    monkeypatch.setattr(watch, "move_on", slow_move_on)
    runs = [threading.Thread(target=watch.run, args=(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV),)) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    desk.pump()

    assert [to for to, _ in alerts(desk)] == ["olena@promptly.example"]


def test_a_failing_slack_webhook_is_retried_and_does_not_hold_back_other_alerts(desk, team, providers):
    staff.update_agent(team["olena"]["id"], {"slack_webhook": f"{providers.base}/slack/olena"})
    first = owned_ticket(desk, team)
    second = desk.post_form({**FORM, "submission_id": "s2", "email": "b@example.com"}).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{second}/take", team["taras"]["token"])
    providers.fail("/slack/olena", status=500, times=2)

    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    run_watch(desk)

    assert sorted(to for to, _ in alerts(desk)) == ["olena@promptly.example", "taras@promptly.example"]
    [slack] = providers.messages("slack")
    assert first in slack["payload"]["text"]


def test_urgent_tickets_escalate_sooner_and_a_breach_reassigns_to_duty(desk, team):
    staff.set_roster("general", "2026-W48", [team["taras"]["id"]])
    ticket_id = owned_ticket(desk, team)
    desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/priority",
        team["olena"]["token"],
        {"priority": "urgent", "reason": "telephony is down"},
    )  # 1 business hour: due 11:00

    desk.at(datetime(2026, 11, 23, 10, 30, tzinfo=KYIV))  # 50%: urgent's first warning
    run_watch(desk)
    desk.at(datetime(2026, 11, 23, 11, 0, tzinfo=KYIV))
    run_watch(desk)

    shares = [subject.split(" ")[1] for to, subject in alerts(desk) if to == "olena@promptly.example"]
    assert shares[0] == "50%]"
    ticket = Ticket.get(ticket_id)
    assert ticket.assignee == team["taras"]["id"]
    assert any("SLA breached" in m.body for m in Message.query(ticket_id) if m.direction == "event")


def test_the_minute_job_reads_only_due_tickets(desk, team):
    owned_ticket(desk, team)
    for number in range(5):  # far from due: answered, resolution days away
        other = desk.post_form({**FORM, "submission_id": f"x{number}", "email": f"x{number}@example.com"}).json_body
        desk.api("POST", f"/api/tickets/{other['ticket']}/reply", team["taras"]["token"], {"text": "Hi"})

    result = watch.run(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))

    assert result == {"due": 1, "queued": 1, "moved_on": 1}
    assert watch.run(datetime(2026, 11, 23, 13, 1, tzinfo=KYIV))["due"] == 0  # moved on to the 90% mark
