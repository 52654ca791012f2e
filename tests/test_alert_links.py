"""Alerts lead to the ticket's console page: an SLA warning, a bad rating and a duty offer, on
email, Slack and Telegram, in each agent's language, carry `stage.ticket_page(id)` — Slack as a
link on the reference, Telegram also as an "Open ticket" button — and none tells a person to
POST anything. The morning digest's ticket references link to the same pages."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from chalicelib import clock, stage
from chalicelib.agents import staff
from chalicelib.models import Ticket
from chalicelib.render import render
from chalicelib.sla import notify
from tests.conftest import ROOT
from tests.harness import KYIV
from tests.test_csat import solved, vote
from tests.test_sla_watch import owned_ticket, run_watch

OLENA = "olena@promptly.example"
CHAT = "424242"
OPEN_TICKET = {"en": "Open ticket", "uk": "Відкрити звернення", "ru": "Открыть обращение"}
OPEN = {"en": "Open it:", "uk": "Відкрити:", "ru": "Открыть:"}  # the text's line with the link
SUBJECTS = {
    "sla": {"en": "[SLA 75%]", "uk": "[SLA 75%]", "ru": "[SLA 75%]"},
    "rating": {"en": "[Bad rating]", "uk": "[Погана оцінка]", "ru": "[Плохая оценка]"},
    "offer": {"en": "[On duty]", "uk": "[Чергування]", "ru": "[Дежурство]"},
}


def olena_everywhere(team, providers, language: str) -> None:
    """Olena takes alerts by email, Slack and Telegram, in `language`."""
    staff.update_agent(
        team["olena"]["id"],
        {"slack_webhook": f"{providers.base}/slack/olena", "telegram_chat": CHAT, "language": language},
    )


def sla_warning(desk, team) -> str:
    ticket_id = owned_ticket(desk, team)
    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))  # 75% of the 4 business hours
    run_watch(desk)
    return ticket_id


def bad_rating(desk, team) -> str:
    ticket_id, paths = solved(desk, team)
    vote(desk, paths["bad"], "bad", "Nobody read my message.")
    desk.pump()
    return ticket_id


def duty_offer(desk, team) -> str:
    staff.set_roster("general", staff.week_of(clock.now()), [team["olena"]["id"]])
    ticket_id = desk.post_form(
        {"submission_id": "d1", "email": "olga@example.com", "subject": "Cannot log in", "message": "Help"}
    ).json_body["ticket"]
    desk.pump()
    assert Ticket.get(ticket_id).assignee == team["olena"]["id"]
    return ticket_id


KINDS = {"sla": sla_warning, "rating": bad_rating, "offer": duty_offer}


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_alert_on_every_medium_links_the_ticket_page_and_asks_no_one_to_post(
    desk, team, providers, kind, language
):
    olena_everywhere(team, providers, language)
    ticket_id = KINDS[kind](desk, team)
    page = stage.ticket_page(ticket_id)
    subject = SUBJECTS[kind][language]

    [mail] = [m for m in desk.sent_mail() if m["to"] == OLENA and m["subject"].startswith(subject)]
    [slack] = [m["payload"] for m in providers.messages("slack") if ticket_id in m["payload"]["text"]]
    [telegram] = [m["payload"] for m in providers.messages("telegram") if str(m["payload"]["chat_id"]) == CHAT]

    assert page == f"http://127.0.0.1:8000/console/t/{ticket_id}"
    assert f"{OPEN[language]}" in mail["text"] and page in mail["text"]
    assert f"<{page}|{ticket_id}>" in slack["text"]  # the reference itself is the link
    assert page in telegram["text"]
    assert telegram["reply_markup"] == {"inline_keyboard": [[{"text": OPEN_TICKET[language], "url": page}]]}
    for text in (mail["subject"], mail["text"], mail.get("html") or "", slack["text"], telegram["text"]):
        assert "POST" not in text and "/api/" not in text and "curl" not in text


def test_a_warning_about_a_ticket_nobody_owns_says_the_take_button_is_on_its_page(desk, team, providers):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    ticket_id = desk.post_form(
        {"submission_id": "u1", "email": "olga@example.com", "subject": "Cannot log in", "message": "Help"}
    ).json_body["ticket"]
    desk.pump()  # no roster yet: nobody is offered it
    staff.set_roster("general", "2026-W48", [team["olena"]["id"]])
    olena_everywhere(team, providers, "en")

    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    run_watch(desk)

    [mail] = [m for m in desk.sent_mail() if m["to"] == OLENA and m["subject"].startswith("[SLA")]
    [slack] = [m["payload"]["text"] for m in providers.messages("slack")]
    assert Ticket.get(ticket_id).assignee is None
    lines = mail["text"].splitlines()
    assert lines[-2:] == [
        f"Open it:   {stage.ticket_page(ticket_id)}",
        "Nobody owns it yet: the Take button is on that page.",
    ]
    assert (
        slack.splitlines()[-1]
        == f"*<{stage.ticket_page(ticket_id)}|Open {ticket_id}>* — nobody owns it yet: take it there"
    )


def test_telegram_refusing_the_button_still_gets_the_alert_with_its_link(desk, team, providers):
    """Telegram refuses a button URL it deems invalid (a desk on a host without a dot); the
    alert then goes without the button, the link in its text."""
    olena_everywhere(team, providers, "en")
    providers.fail("sendMessage", status=400, description="Bad Request: BUTTON_URL_INVALID")

    ticket_id = sla_warning(desk, team)

    [telegram] = [m["payload"] for m in providers.messages("telegram")]
    assert "reply_markup" not in telegram and stage.ticket_page(ticket_id) in telegram["text"]


def test_a_telegram_refusal_about_anything_else_is_not_retried_without_the_button(desk, team, providers):
    olena_everywhere(team, providers, "en")
    providers.fail("sendMessage", status=403, description="Forbidden: bot was blocked by the user")

    sla_warning(desk, team)

    assert providers.messages("telegram") == []  # one refusal, logged; no second try
    assert [m for m in desk.sent_mail() if m["to"] == OLENA and m["subject"].startswith("[SLA")]  # email still went


def test_a_ticket_a_person_assigned_before_routing_got_to_it_tells_nobody_of_an_offer(desk, team):
    staff.set_roster("general", staff.week_of(clock.now()), [team["olena"]["id"]])
    ticket_id = desk.post_form(
        {"submission_id": "p1", "email": "olga@example.com", "subject": "Cannot log in", "message": "Help"}
    ).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["taras"]["token"])  # before the offer job runs

    desk.pump()

    assert Ticket.get(ticket_id).assignee == team["taras"]["id"]
    assert [m for m in desk.sent_mail() if m["subject"].startswith("[On duty]")] == []


def test_a_retried_offer_tells_the_agent_once(desk, team):
    from chalicelib import jobs

    ticket_id = duty_offer(desk, team)
    jobs.dispatch({"kind": "offer", "job_id": f"offer-{ticket_id}", "ticket_id": ticket_id})  # SQS redelivers

    told = [m for m in desk.sent_mail() if m["subject"].startswith("[On duty]")]
    assert [m["to"] for m in told] == [OLENA]


# --- what every template says --------------------------------------------------------------------
def template_files() -> list[Path]:
    return sorted(path for path in (ROOT / "templates").rglob("*") if path.is_file())


@pytest.mark.parametrize("path", template_files(), ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_no_template_tells_a_person_to_call_the_api(path):
    """Every template is read by a person (customers, agents, admins): none names an API call.
    (The JSON API documents itself in openapi.yaml.)"""
    text = path.read_text(encoding="utf-8")
    for said in ("POST ", "/api/tickets", "curl "):
        assert said not in text, f"{path.name} says {said!r}"


@pytest.mark.parametrize("kind", ["alert", "rating_alert", "offer"])
@pytest.mark.parametrize("language", ["en", "uk", "ru"])
@pytest.mark.parametrize("channel", ["email", "slack", "telegram"])
def test_every_alert_template_links_the_page_it_is_given(kind, language, channel):
    page = "https://desk.example/console/t/PR-7K3QX9M2"
    context = {
        "ticket_ref": "PR-7K3QX9M2",
        "subject": "Cannot log in",
        "customer_name": "Olga",
        "channel": "form",
        "queue": "general",
        "priority": "normal",
        "owner": None,
        "desk_name": "Promptly Support",
        "ticket_url": page,
        "due": datetime(2026, 11, 23, 14, 0, tzinfo=KYIV),
        "tz": "Europe/Kyiv",
        "target": "first response",
        "target_key": "first_response",
        "share": 75,
        "breach": False,
        "minutes": 60,
        "late": False,
        "already": [],
        "rating_comment": "",
    }

    rendered = render(kind, language, context, channel=channel)

    assert page in rendered.text and "POST" not in rendered.text
    if language != "en":  # written in the agent's language, not fallen back to English
        assert not re.search(r"\b(Open it|Ticket|Queue)\b", rendered.text)


def test_the_telegram_button_is_labelled_in_the_agents_language():
    ticket = Ticket(ticket_id="PR-7K3QX9M2")
    assert notify.open_button(ticket, "uk").label == "Відкрити звернення"
    assert notify.open_button(ticket, "pl").label == "Open ticket"  # a language without a label: English
    assert notify.open_button(ticket, "en").url == stage.ticket_page("PR-7K3QX9M2")


# --- the morning digest --------------------------------------------------------------------------
DIGEST_VIEW = json.loads((ROOT / "tests" / "fixtures" / "digest" / "view.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_the_digests_ticket_references_link_their_console_pages(language):
    references = [b["ticket"] for b in DIGEST_VIEW["breaches"]["worst"]] + [
        c["ticket"] for c in DIGEST_VIEW["csat"]["comments"] + DIGEST_VIEW["nps"]["comments"]
    ]
    assert references and DIGEST_VIEW["csat"]["comments"] and DIGEST_VIEW["breaches"]["worst"]

    rendered = render("digest", language, DIGEST_VIEW)

    links = {a.text(): a.attributes.get("href") for a in LexborHTMLParser(rendered.html or "").css("a")}
    lines = rendered.text.splitlines()
    for reference in references:
        assert links[reference] == stage.ticket_page(reference)
        assert any(line.split() == [reference, stage.ticket_page(reference)] for line in lines) or any(
            line.split()[:2] == ["-", reference] and line.split()[-1] == stage.ticket_page(reference) for line in lines
        ), reference
