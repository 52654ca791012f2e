"""CSAT: the "solved" message asks "how did we do?" with a good and a bad link. The link opens a
page (recording nothing); its button records the vote, which the customer may change until the
desk closes the conversation. A bad rating alerts the owner and the queue's lead; every vote is a
`rated` fact the digest counts and shows on the ticket."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib import clock, links
from chalicelib.kpi import digest
from chalicelib.models import Fact, Message, Ticket
from tests.conftest import ROOT

FORM = {
    "submission_id": "c1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}
BASE = "http://127.0.0.1:8000"


def solved(desk, team, form: dict | None = None) -> tuple[str, dict[str, str]]:
    """A ticket Olena answered and solved; returns (ticket id, {"good", "bad", "confirm"} link paths)."""
    ticket_id = desk.post_form(form or FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Reset your password."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    return ticket_id, solved_links(desk, ticket_id)


def solved_links(desk, ticket_id: str) -> dict[str, str]:
    notice = next(m for m in desk.sent_mail() if ticket_id in m["subject"] and "/rate/" in m["text"])  # newest first
    found = {"confirm": re.search(rf"{BASE}(/confirm/\S+)", notice["text"]).group(1)}
    for rating in ("good", "bad"):
        found[rating] = re.search(rf"{BASE}(/rate/\S+\?rating={rating})", notice["text"]).group(1)
    return found


def vote(desk, path: str, rating: str, comment: str = ""):
    return desk.client.http.post(
        path.split("?")[0],
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"rating": rating, "comment": comment}),
    )


def desk_day() -> str:
    from zoneinfo import ZoneInfo

    return clock.now().astimezone(ZoneInfo("Europe/Kyiv")).date().isoformat()


def facts_of(ticket_id: str, kind: str, day: str | None = None) -> list[Fact]:
    return [f for f in Fact.query(day or desk_day()) if f.kind == kind and f.ticket_id == ticket_id]


def alerts(desk) -> list[dict]:
    return [m for m in desk.sent_mail() if m["subject"].startswith("[Bad rating]")]


def test_the_solved_message_links_good_and_bad_and_opening_a_link_records_nothing(desk, team):
    ticket_id, paths = solved(desk, team)

    page = desk.client.http.get(paths["bad"])

    assert page.status_code == 200 and b"How did we do?" in page.body
    assert b'value="bad" checked' in page.body and b'value="good" checked' not in page.body
    assert Ticket.get(ticket_id).rating is None and facts_of(ticket_id, "rated") == []  # scanners open links


def test_a_vote_is_kept_on_the_ticket_and_in_the_digest_and_a_second_vote_replaces_it(desk, team):
    ticket_id, paths = solved(desk, team)
    desk.advance(timedelta(minutes=5))

    first = vote(desk, paths["good"], "good")
    desk.advance(timedelta(minutes=5))
    second = vote(desk, paths["good"], "bad", "The reset mail never came.")

    assert first.status_code == 200 and b"Your rating is recorded" in first.body
    assert second.status_code == 200 and b'value="bad" checked' in second.body
    ticket = desk.api("GET", f"/api/tickets/{ticket_id}", team["olena"]["token"]).json_body
    assert ticket["rating"]["rating"] == "bad" and ticket["rating"]["comment"] == "The reset mail never came."
    said = [m.body for m in Message.query(ticket_id) if m.kind == "rating"]
    assert said == ["the customer rated it good", "the customer rated it bad: The reset mail never came."]
    assert [f.data["rating"] for f in facts_of(ticket_id, "rated")] == ["good", "bad"]
    assert facts_of(ticket_id, "rated")[-1].data["agent"] == team["olena"]["id"]
    csat = digest.compute(desk_day())["csat"]
    assert (csat["count"], csat["good"], csat["bad"], csat["share"]) == (1, 0, 1, 0.0)
    assert csat["bad_comments"][0]["comment"] == "The reset mail never came."


def test_a_bad_rating_alerts_the_owner_and_the_lead_once(desk, team):
    ticket_id, paths = solved(desk, team)

    vote(desk, paths["bad"], "bad", "Nobody read my message.")
    vote(desk, paths["bad"], "bad", "Nobody read my message.")  # a double click
    desk.pump()

    told = alerts(desk)
    assert sorted(m["to"] for m in told) == ["lev@promptly.example", "olena@promptly.example"]
    assert all(ticket_id in m["subject"] and "Nobody read my message." in m["text"] for m in told)


def test_a_good_rating_alerts_nobody(desk, team):
    _, paths = solved(desk, team)

    vote(desk, paths["good"], "good", "Quick and kind.")
    desk.pump()

    assert alerts(desk) == []


def test_the_rating_stays_open_after_the_customer_confirms_until_the_desk_would_close_it(desk, team):
    ticket_id, paths = solved(desk, team)
    desk.client.http.post(
        paths["confirm"], headers={"Content-Type": "application/x-www-form-urlencoded"}, body="answer=yes"
    )
    assert Ticket.get(ticket_id).status == "closed"

    after_close = vote(desk, paths["good"], "good")
    day = desk_day()
    desk.advance(timedelta(days=3, minutes=1))  # past the quiet-close time of the solve
    too_late = vote(desk, paths["good"], "bad", "changed my mind")

    assert after_close.status_code == 200 and Ticket.get(ticket_id).rating == "good"
    assert too_late.status_code == 410 and b"expired" in too_late.body
    assert Ticket.get(ticket_id).rating == "good" and len(facts_of(ticket_id, "rated", day)) == 1
    assert facts_of(ticket_id, "rated") == []


def test_the_confirm_page_asks_for_the_rating_once_the_customer_says_it_is_solved(desk, team):
    _, paths = solved(desk, team)

    page = desk.client.http.post(
        paths["confirm"], headers={"Content-Type": "application/x-www-form-urlencoded"}, body="answer=yes"
    )

    assert b"How did we do?" in page.body and b"/rate/" in page.body and b"rating=good" in page.body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda path: path.split("?")[0][:-3] + "AAA",
        lambda path: "/rate/not-a-token",
        lambda path: "/rate/" + links.sign("confirm", "PR-00000000", clock.now() + timedelta(days=1)),
    ],
)
def test_forged_links_are_refused_with_a_page_and_change_nothing(desk, team, tamper):
    ticket_id, paths = solved(desk, team)
    version = Ticket.get(ticket_id).version

    response = vote(desk, tamper(paths["good"]), "good")

    assert response.status_code == 403 and b"This link cannot be used" in response.body
    assert Ticket.get(ticket_id).version == version and facts_of(ticket_id, "rated") == []


def test_a_link_replayed_after_the_ticket_reopened_is_refused_and_the_next_solve_asks_again(desk, team):
    ticket_id, old = solved(desk, team)
    desk.client.http.post(
        old["confirm"], headers={"Content-Type": "application/x-www-form-urlencoded"}, body="answer=no"
    )  # not solved after all: reopened

    while_open = vote(desk, old["good"], "good")
    desk.advance(timedelta(hours=1))
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Try this instead."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    new = solved_links(desk, ticket_id)
    replayed = vote(desk, old["good"], "good")
    fresh = vote(desk, new["good"], "good")

    assert while_open.status_code == 409 and b"reopened after we sent this link" in while_open.body
    assert replayed.status_code == 409 and new["good"] != old["good"]
    assert fresh.status_code == 200 and [f.data["rating"] for f in facts_of(ticket_id, "rated")] == ["good"]


@pytest.mark.parametrize(
    "body, problem",
    [
        ("rating=meh", b"rating must be good or bad"),
        ("comment=hello", b"rating must be good or bad"),
        (urlencode({"rating": "bad", "comment": "x" * 1001}), b"at most 1000"),
        ("rating=bad&comment=" + "x" * 17000, b"too long"),
    ],
)
def test_bad_answers_get_a_clear_page_and_change_nothing(desk, team, body, problem):
    ticket_id, paths = solved(desk, team)
    version = Ticket.get(ticket_id).version

    response = desk.client.http.post(
        paths["good"].split("?")[0], headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body
    )

    assert response.status_code == 400 and problem in response.body.lower()
    assert Ticket.get(ticket_id).version == version and Ticket.get(ticket_id).rating is None


def test_the_page_speaks_the_customers_language(desk, team):
    _, paths = solved(desk, team, {**FORM, "submission_id": "c-uk", "locale": "uk"})

    page = desk.client.http.get(paths["good"])
    refused = desk.client.http.get(paths["good"].split("?")[0][:-3] + "AAA")

    assert "Як ми впоралися?" in page.body.decode()
    assert refused.status_code == 403  # a forged token names no ticket: the page is in the desk's default language


def solved_in_telegram(desk, team, providers, update: str) -> str:
    """A Telegram customer's ticket answered and solved; the text of the "solved" message."""
    from tests.channels.test_telegram import fixture

    desk.post_telegram(fixture(update))
    desk.pump()
    [ticket] = [t for t in Ticket.scan() if t.channel == "telegram"]
    desk.api("POST", f"/api/tickets/{ticket.ticket_id}/reply", team["olena"]["token"], {"text": "Done."})
    desk.api("POST", f"/api/tickets/{ticket.ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    return str(providers.messages("telegram")[-1]["payload"]["text"])


def test_a_telegram_customer_gets_one_rating_link_in_the_chat(desk, team, providers):
    last = solved_in_telegram(desk, team, providers, "text_uk")

    [path] = re.findall(r"http://127\.0\.0\.1:8000(/rate/[A-Za-z0-9_.-]+)", last)  # one link: short for SMS too
    page = desk.client.http.get(path)
    assert page.status_code == 200 and b'value="good"' in page.body and b'value="bad"' in page.body


def test_the_readme_promises_messengers_the_one_link_they_get():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    csat = readme[readme.index("- **CSAT.**") : readme.index("- **NPS.**")]

    assert "one short link" in csat and "two short links" not in csat


def test_an_english_messenger_customer_can_open_both_links_of_the_solved_message(desk, team, providers):
    text = solved_in_telegram(desk, team, providers, "text_no_language")

    paths = re.findall(r"http://127\.0\.0\.1:8000(/\S+)", text)  # a link runs to the next space, as apps see it

    assert [path.split("/")[1] for path in paths] == ["confirm", "rate"]
    assert [desk.client.http.get(path).status_code for path in paths] == [200, 200]


def test_a_new_solve_asks_anew_and_a_changed_vote_alerts_once_per_solve(desk, team):
    ticket_id, first = solved(desk, team)
    vote(desk, first["bad"], "bad", "Slow.")
    desk.advance(timedelta(minutes=1))
    vote(desk, first["bad"], "bad", "Slow, and nobody said why.")  # a changed comment: no second alert
    desk.pump()
    desk.client.http.post(
        first["confirm"], headers={"Content-Type": "application/x-www-form-urlencoded"}, body="answer=no"
    )
    desk.advance(timedelta(hours=1))
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()
    second = solved_links(desk, ticket_id)

    fresh_page = desk.client.http.get(second["good"].split("?")[0])
    vote(desk, second["bad"], "bad", "Slow.")  # the same words as last time: a new verdict all the same
    desk.pump()

    assert Ticket.get(ticket_id).rating == "bad" and b"Your rating is recorded" not in fresh_page.body
    assert [f.data["comment"] for f in facts_of(ticket_id, "rated")] == ["Slow.", "Slow, and nobody said why.", "Slow."]
    assert sorted(m["to"] for m in alerts(desk)) == [
        "lev@promptly.example",
        "lev@promptly.example",
        "olena@promptly.example",
        "olena@promptly.example",
    ]


def test_a_vote_at_the_moment_an_agent_changes_the_ticket_is_saved_all_the_same(desk, team, monkeypatch):
    from chalicelib.feedback import pages

    ticket_id, paths = solved(desk, team)
    original, raced = pages.record, []

    def agent_first(ticket, *answer):
        if not raced:  # an agent's note lands between our read and our write
            raced.append(
                desk.api(
                    "POST", f"/api/tickets/{ticket_id}/notes", team["olena"]["token"], {"text": "Customer called."}
                ).status_code
            )
        return original(ticket, *answer)

    monkeypatch.setattr(pages, "record", agent_first)
    response = vote(desk, paths["good"], "good", "Thanks!")

    assert raced == [201] and response.status_code == 200 and b"Your rating is recorded" in response.body
    assert Ticket.get(ticket_id).rating == "good" and len(facts_of(ticket_id, "rated")) == 1
    assert any(m.kind == "note" for m in Message.query(ticket_id))


def test_a_long_comment_in_cyrillic_fits(desk, team):
    ticket_id, paths = solved(desk, team)

    response = vote(desk, paths["bad"], "bad", "ж" * 1000)

    assert response.status_code == 200 and Ticket.get(ticket_id).rating_comment == "ж" * 1000


def test_customer_text_cannot_ping_a_slack_channel_or_hide_a_link():
    from chalicelib.render import render

    context = {
        "ticket_ref": "PR-1",
        "subject": "<!channel> help",
        "customer_name": "<@U123>",
        "channel": "form",
        "queue": "general",
        "priority": "normal",
        "owner": "A-1",
        "desk_name": "Promptly Support",
        "rating_comment": "see <https://evil.example|your invoice>\nand <!here>",
        "ticket_url": "https://desk.example/console/t/PR-1",
    }

    text = render("rating_alert", "en", context, channel="slack").text

    assert "<!" not in text and "<https://evil" not in text and "<@" not in text
    assert "&lt;!channel&gt;" in text and "> and &lt;!here&gt;" in text  # every line stays quoted


@pytest.mark.parametrize(
    "token",
    [
        base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=") + ".AAAA",
        "." * 3,
        "x" * 5000,
    ],
)
def test_a_malformed_token_is_a_403_page_not_an_error(desk, token):
    response = desk.client.http.get(f"/rate/{token}")

    assert response.status_code == 403 and b"This link cannot be used" in response.body


def test_the_sla_warnings_slack_text_keeps_its_lines():
    from chalicelib.render import render

    context = {
        "ticket_ref": "PR-1",
        "subject": "Where is my link",
        "customer_name": "Ann",
        "channel": "email",
        "queue": "general",
        "priority": "normal",
        "owner": None,
        "desk_name": "Promptly Support",
        "target": "first response",
        "share": 75,
        "breach": False,
        "minutes": 5,
        "late": False,
        "target_key": "first_response",
        "already": [],
        "ticket_url": "https://desk.example/console/t/PR-1",
    }

    lines = render("alert", "en", context, channel="slack").text.splitlines()

    assert lines[0].endswith("5 min left") and lines[1].startswith("Where is my link · Ann on email")
    assert lines[2:] == ["", "*<https://desk.example/console/t/PR-1|Open PR-1>* — nobody owns it yet: take it there"]
