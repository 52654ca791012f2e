"""A solved ticket asks the customer: a signed link to confirm it is solved (closes it) or to
say it is not (reopens it); silence closes it after the quiet period."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib import clock, links
from chalicelib.models import Agent, Message, Ticket

FORM = {
    "submission_id": "s1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}


def solved_ticket(desk, team) -> tuple[str, str]:
    """A ticket Olena answered and solved; returns (ticket id, the confirm link path)."""
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Reset your password."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    [notice] = [m for m in desk.sent_mail() if "Is your request solved?" in m["subject"]]
    url = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", notice["text"]).group(1)
    return ticket_id, url


def answer(desk, path: str, choice: str):
    return desk.client.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=f"answer={choice}"
    )


def test_solving_sends_the_customer_a_link_and_opening_it_changes_nothing(desk, team):
    ticket_id, path = solved_ticket(desk, team)

    page = desk.client.http.get(path)

    assert page.status_code == 200 and b"Is your request solved?" in page.body
    assert b'name="answer" value="yes"' in page.body
    assert Ticket.get(ticket_id).status == "solved"  # a mail scanner's GET must not confirm


def test_yes_closes_the_ticket_and_a_replayed_answer_changes_nothing(desk, team):
    ticket_id, path = solved_ticket(desk, team)
    desk.advance(timedelta(minutes=30))

    first = answer(desk, path, "yes")
    version = Ticket.get(ticket_id).version
    replay = answer(desk, path, "no")

    assert first.status_code == 200 and b"Your request is closed" in first.body
    assert Ticket.get(ticket_id).status == "closed" and Ticket.get(ticket_id).version == version
    assert replay.status_code == 200 and b"already closed" in replay.body
    events = [m for m in Message.query(ticket_id) if m.direction == "event"]
    assert events[-1].author == "customer" and "confirmed" in events[-1].body
    assert Agent.get(team["olena"]["id"]).open_load == 0


def test_no_reopens_the_ticket_and_starts_the_next_response_clock(desk, team):
    ticket_id, path = solved_ticket(desk, team)
    desk.advance(timedelta(hours=1))

    response = answer(desk, path, "no")

    ticket = Ticket.get(ticket_id)
    assert response.status_code == 200 and b"open again" in response.body
    assert ticket.status == "open" and ticket.next_response_due is not None
    assert Agent.get(team["olena"]["id"]).open_load == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda path: path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"),
        lambda path: "/confirm/not-a-token",
        lambda path: "/confirm/" + links.sign("rate", "PR-00000000", clock.now() + timedelta(days=1)),
    ],
)
def test_forged_links_are_refused_with_a_clear_page(desk, team, tamper):
    ticket_id, path = solved_ticket(desk, team)

    response = answer(desk, tamper(path), "yes")

    assert response.status_code == 403 and b"This link cannot be used" in response.body
    assert Ticket.get(ticket_id).status == "solved"


def test_an_expired_link_is_refused(desk, team):
    ticket_id, path = solved_ticket(desk, team)
    desk.advance(timedelta(days=15))

    response = answer(desk, path, "yes")

    assert response.status_code == 410 and b"expired" in response.body
    assert Ticket.get(ticket_id).status in ("solved", "closed")  # the quiet close may have run; the link did nothing


def test_silence_closes_a_solved_ticket_after_the_quiet_period(desk, team):
    old_id, _ = solved_ticket(desk, team)
    desk.advance(timedelta(days=2))
    fresh_id = desk.post_form({**FORM, "submission_id": "s2", "email": "x@example.com"}).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{fresh_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.advance(timedelta(days=1, hours=1))  # old: solved 3 days 1 hour ago; fresh: 1 day 1 hour

    desk.client.lambda_.invoke(
        "quiet_close",
        desk.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )

    assert Ticket.get(old_id).status == "closed"
    assert Ticket.get(fresh_id).status == "solved"
    assert [m.author for m in Message.query(old_id) if m.direction == "event"][-1] == "desk"


@pytest.mark.parametrize(
    "locale, closed_now", [("uk", "Це звернення вже закрите"), ("ru", "Это обращение уже закрыто")], ids=["uk", "ru"]
)
def test_the_page_says_what_became_of_the_request_in_the_customers_language(desk, team, locale, closed_now):
    ticket_id = desk.post_form({**FORM, "locale": locale}).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    [notice] = [m for m in desk.sent_mail() if re.search(r"/confirm/\S+", m["text"])]
    path = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", notice["text"]).group(1)
    answer(desk, path, "yes")

    for page in (answer(desk, path, "no"), desk.client.http.get(path)):  # a second answer; the link opened again
        text = page.body.decode()
        assert closed_now in text
        assert "closed" not in text  # no raw English status word
