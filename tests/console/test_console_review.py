"""Holes a review of the console found, each closed: a kept "load older" link after the agent
left the queue, a form sent twice with other words, a long Cyrillic answer, and bad input that
reached a 500 (a cursor, a version, a week, a place in the roster, a ticket id)."""

from __future__ import annotations

from datetime import timedelta

from tests.console.pages import HTMX, ORIGIN, act, get, page, post, sign_in, tables
from tests.console.test_ticket_actions import answers, composer, send
from tests.console.test_ticket_page import LEV, OLENA, api, ticket_page
from tests.test_agent_api import new_ticket


def test_a_kept_older_link_stops_working_when_the_agent_leaves_the_queue(desk, team):
    ticket_id = new_ticket(desk)
    for number in range(21):
        desk.advance(timedelta(seconds=1))
        api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/notes", {"text": f"n{number}"})
    olena = sign_in(desk, OLENA)
    link = ticket_page(desk, ticket_id, olena).one("#thread li.older a").attributes["href"]
    path = link.removeprefix("http://127.0.0.1:8000")
    assert get(desk, path, olena).status_code == 200
    api(desk, team, "admin", "PATCH", f"/api/agents/{team['olena']['id']}", {"queues": ["tech"]})
    assert get(desk, path, olena).status_code == 404


def test_a_form_sent_again_with_other_words_is_refused_not_taken_for_the_first(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    form = ticket_page(desk, ticket_id, cookie)
    assert send(desk, cookie, ticket_id, "A note first.", mode="note", then="note", form=form).status_code == 303
    again = send(desk, cookie, ticket_id, "Then the real answer.", then="solved", form=form)  # the Back button
    assert again.status_code == 409
    assert "Then the real answer." in composer(page(again))["text"]  # the draft is kept on the page
    assert answers(ticket_id) == []


def test_a_long_answer_in_cyrillic_is_sent(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    text = "Ж" * 11_000  # 66 KB once percent-encoded
    assert send(desk, cookie, ticket_id, text).status_code == 303
    assert [message.body for message in answers(ticket_id)] == [text]


def test_a_body_over_the_forms_limit_is_a_413_and_changes_nothing(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)
    fields = composer(ticket_page(desk, ticket_id, cookie))
    before = tables()
    response = post(desk, f"/console/t/{ticket_id}/send", {**fields, "text": "x" * 300_000}, cookie=cookie)
    assert response.status_code == 413
    assert tables() == before


def test_bad_input_a_sender_controls_is_a_4xx_never_a_500(desk, team):
    ticket_id = new_ticket(desk)
    olena, lev = sign_in(desk, OLENA), sign_in(desk, LEV)
    assert get(desk, f"/console/t/{ticket_id}/messages?before=abc.%C3%A9", olena, HTMX).status_code == 404
    assert get(desk, "/console/t/PR-" + "X" * 3000, olena).status_code == 404
    beat = act(
        desk, olena, f"/console/t/{ticket_id}/presence", {"mode": "viewing", "seen_version": "²"}, {**ORIGIN, **HTMX}
    )
    assert beat.status_code == 200
    assert get(desk, "/console/roster?queue=general&week=9999-W52", lev).status_code == 400
    assert get(desk, "/console/roster?queue=general&week=0001-W01", lev).status_code == 400
    lev_id = team["lead"]["id"]
    saved = act(
        desk,
        lev,
        "/console/roster",
        {"queue": "general", "week": "2026-W48", "on": lev_id, f"rank.{lev_id}": "9" * 5000},
    )
    assert saved.status_code == 303
    empty = act(desk, lev, "/console/roster", {"queue": "general", "week": "2026-W48", "on": ""})
    assert empty.status_code == 303
