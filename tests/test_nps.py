"""NPS: when a ticket closes, its customer is asked "how likely are you to recommend us?" (0–10
and a comment) on their channel — at most once per `feedback.nps_period` per customer. The
answer is kept on the ticket and is an `nps` fact the digest scores."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib import clock, links
from chalicelib.agents import tokens
from chalicelib.config import settings
from chalicelib.feedback import confirm
from chalicelib.kpi import digest
from chalicelib.models import Message, Ticket
from tests.test_csat import BASE, desk_day, facts_of

FORM = {
    "submission_id": "n1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def closed(desk, team, form: dict | None = None) -> str:
    """A ticket Olena answered and solved, and the customer confirmed: closed."""
    ticket_id = desk.post_form(form or FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Reset your password."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    path = re.search(rf"{BASE}(/confirm/\S+)", _mail_of(desk, ticket_id, "/confirm/")[0]["text"]).group(1)
    desk.client.http.post(path, headers=FORM_HEADERS, body="answer=yes")
    desk.pump()
    return ticket_id


def _mail_of(desk, ticket_id: str, containing: str) -> list[dict]:
    return [m for m in desk.sent_mail() if ticket_id in m["text"] and containing in m["text"]]


def surveys(desk, ticket_id: str) -> list[dict]:
    return _mail_of(desk, ticket_id, "/survey/")


def survey_path(desk, ticket_id: str) -> str:
    return re.search(rf"{BASE}(/survey/[A-Za-z0-9_.-]+)", surveys(desk, ticket_id)[0]["text"]).group(1)


def answer(desk, path: str, **fields: str):
    return desk.client.http.post(path, headers=FORM_HEADERS, body=urlencode(fields))


def test_closing_a_ticket_asks_its_customer_once_with_a_link_per_score(desk, team):
    ticket_id = closed(desk, team)

    [survey] = surveys(desk, ticket_id)
    html = survey["html"]

    assert survey["to"] == "Olga <olga@example.com>" and "recommend Promptly Support" in survey["text"]
    assert [int(n) for n in re.findall(r'/survey/[^"?]+\?score=(\d+)"', html)] == list(range(11))
    assert "nps" in [m.kind for m in Message.query(ticket_id) if m.direction == "out"]  # on the ticket too


def test_opening_the_survey_records_nothing_and_the_answer_is_kept_and_can_be_changed(desk, team):
    ticket_id = closed(desk, team)
    path = survey_path(desk, ticket_id)

    page = desk.client.http.get(f"{path}?score=9")
    nothing_yet = Ticket.get(ticket_id).nps_score
    first = answer(desk, path, score="3", comment="Took three days.")
    desk.advance(timedelta(minutes=2))
    second = answer(desk, path, score="8", comment="Fine in the end.")

    assert page.status_code == 200 and b'value="9" checked' in page.body and nothing_yet is None
    assert first.status_code == 200 and b"Your answer is recorded" in first.body
    assert second.status_code == 200 and b'value="8" checked' in second.body
    ticket = desk.api("GET", f"/api/tickets/{ticket_id}", team["olena"]["token"]).json_body
    assert ticket["nps"] == {"score": 8, "comment": "Fine in the end.", "at": ticket["nps"]["at"]}
    assert [f.data["score"] for f in facts_of(ticket_id, "nps")] == [3, 8]
    nps = digest.compute(desk_day())["nps"]
    assert (nps["count"], nps["passives"], nps["detractors"], nps["score"]) == (1, 1, 0, 0.0)


def test_a_customer_is_asked_at_most_once_per_period(desk, team):
    first = closed(desk, team)
    desk.advance(timedelta(days=30))
    second = closed(desk, team, {**FORM, "submission_id": "n2", "subject": "Invoice copy"})
    desk.advance(timedelta(days=61))  # 91 days after the first survey: the 90-day period is over
    team["olena"]["token"] = tokens.issue(team["olena"]["id"]).token  # and her 90-day token has expired
    third = closed(desk, team, {**FORM, "submission_id": "n3", "subject": "Another question"})

    assert [len(surveys(desk, t)) for t in (first, second, third)] == [1, 0, 1]


def test_the_quiet_close_asks_too(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Reset your password."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.advance(timedelta(days=3, hours=1))

    confirm.close_quiet(clock.now())
    desk.pump()

    assert Ticket.get(ticket_id).status == "closed" and len(surveys(desk, ticket_id)) == 1


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"score": "11"}, b"score must be a whole number from 0 to 10"),
        ({"score": "-1"}, b"score must be a whole number from 0 to 10"),
        ({"score": "seven"}, b"score must be a whole number from 0 to 10"),
        ({"score": "\u00b2"}, b"score must be a whole number from 0 to 10"),
        ({"comment": "no score"}, b"score must be a whole number from 0 to 10"),
        ({"score": "5", "comment": "x" * 1001}, b"at most 1000"),
    ],
)
def test_bad_answers_get_a_clear_page_and_change_nothing(desk, team, fields, problem):
    ticket_id = closed(desk, team)
    version = Ticket.get(ticket_id).version

    response = answer(desk, survey_path(desk, ticket_id), **fields)

    assert response.status_code == 400 and problem in response.body.lower()
    assert Ticket.get(ticket_id).version == version and facts_of(ticket_id, "nps") == []


def test_forged_and_expired_survey_links_are_refused(desk, team):
    ticket_id = closed(desk, team)
    path = survey_path(desk, ticket_id)

    forged = answer(desk, path[:-3] + "AAA", score="10")
    other = answer(desk, "/survey/" + links.sign("rate", ticket_id, clock.now() + timedelta(days=1)), score="10")
    desk.advance(timedelta(days=15))
    expired = answer(desk, path, score="10")

    assert (forged.status_code, other.status_code, expired.status_code) == (403, 403, 410)
    assert Ticket.get(ticket_id).nps_score is None


def test_the_survey_speaks_the_customers_language(desk, team):
    ticket_id = closed(desk, team, {**FORM, "submission_id": "n-ru", "locale": "ru"})

    [survey] = surveys(desk, ticket_id)
    page = desk.client.http.get(survey_path(desk, ticket_id))

    assert "порекомендуете" in survey["text"] and "порекомендуете" in page.body.decode()


def test_a_ticket_closed_without_an_answer_asks_nothing(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]  # spam, a duplicate: closed unanswered

    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "closed"})
    desk.pump()

    assert Ticket.get(ticket_id).status == "closed" and surveys(desk, ticket_id) == []


def test_a_survey_refused_for_good_does_not_use_up_the_customers_period(desk, team, providers):
    from tests.channels.test_telegram import fixture

    def close_on_telegram(update: dict, *, survey_refused: bool = False) -> None:
        desk.post_telegram(update)
        desk.pump()
        ticket = max((t for t in Ticket.scan() if t.channel == "telegram"), key=lambda t: t.created_at)
        for call in (("reply", {"text": "Done."}), ("status", {"status": "solved"})):
            desk.api("POST", f"/api/tickets/{ticket.ticket_id}/{call[0]}", team["olena"]["token"], call[1])
        desk.pump()
        if survey_refused:  # the customer blocked the bot: the next send, the survey, is refused for good
            providers.fail("sendMessage", status=403, times=1)
        desk.api("POST", f"/api/tickets/{ticket.ticket_id}/status", team["olena"]["token"], {"status": "closed"})
        desk.pump()

    first_update = fixture("text_no_language")
    close_on_telegram(first_update, survey_refused=True)
    desk.advance(timedelta(days=8))  # a new conversation, not a reopening
    later = {
        **first_update,
        "update_id": first_update["update_id"] + 1,
        "message": {**first_update["message"], "message_id": 99, "text": "One more question"},
    }
    close_on_telegram(later)

    asked = [m for m in providers.messages("telegram") if "/survey/" in m["payload"]["text"]]
    assert len(asked) == 1  # the second close asks: the refused survey did not count


def test_no_survey_on_a_channel_the_desk_leaves_out(desk, team, providers):
    from tests.test_channels import twilio_sms  # SMS is left out in desk.toml: each survey would be paid

    desk.post_twilio(twilio_sms())
    desk.pump()
    [ticket] = [t for t in Ticket.scan() if t.channel == "sms"]
    for call in (("reply", {"text": "Done."}), ("status", {"status": "solved"}), ("status", {"status": "closed"})):
        desk.api("POST", f"/api/tickets/{ticket.ticket_id}/{call[0]}", team["olena"]["token"], call[1])
        desk.pump()

    assert ticket.channel not in settings().feedback.nps_channels
    assert Ticket.get(ticket.ticket_id).status == "closed"
    assert not [m for m in providers.messages("twilio") if "/survey/" in str(m["payload"])]
    assert any("/rate/" in str(m["payload"]) for m in providers.messages("twilio"))  # it was rated, just not surveyed
