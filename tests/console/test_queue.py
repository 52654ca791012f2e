"""The queue page: each view lists the right tickets in the right order, a page at a time; rows
show which clock runs and how long is left in the agent's zone, and who has the ticket open;
robot mail stays in its own view; another queue's ticket never shows; the list refreshes itself
as a fragment with the title's counts; a GET changes nothing; and a page costs at most three
DynamoDB calls."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock, lifecycle
from chalicelib.config import settings
from chalicelib.console import presence
from chalicelib.models import Ticket
from tests.console.pages import HTMX, Page, get, page, sign_in, tables
from tests.harness import KYIV
from tests.test_sla_watch import run_watch

OLENA, TARAS, TINA, LEV = (
    "olena@promptly.example",
    "taras@promptly.example",
    "tina@promptly.example",
    "lev@promptly.example",
)
FORM = {"email": "olga@example.com", "name": "Olga", "message": "Hello, I cannot log in."}


def form_ticket(desk, n: int, subject: str = "Cannot log in", **overrides: str) -> str:
    """A web form ticket (4 business hours to a first answer) from customer n."""
    payload = {**FORM, "submission_id": f"s{n}", "email": f"c{n}@example.com", "name": f"Customer {n}"}
    return desk.post_form({**payload, "subject": subject, **overrides}).json_body["ticket"]


def api(desk, team, who: str, method: str, path: str, payload: Any = None) -> Any:
    response = desk.api(method, path, team[who]["token"], payload)
    assert response.status_code in (200, 201), response.body
    return response.json_body


def queue(desk, cookie: str, query: str = "", headers: dict[str, str] | None = None) -> Any:
    return get(desk, "/console/queue" + (f"?{query}" if query else ""), cookie, headers)


def refs(response: Any) -> list[str]:
    return [row.attributes["data-ticket"] or "" for row in page(response).css("tr.ticket-row")]


def fragment(response: Any) -> Page:
    """The list's refresh: rows (and the pager, out of band) with no page around them, read as
    htmx reads them (a <tbody> outside a table would be dropped by an HTML parser)."""
    body = response.body.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<tbody") and "<html" not in body
    parsed = Page(f"<table>{body}</table>")
    assert not parsed.inline_script
    return parsed


def row(response: Any, ticket_id: str) -> Any:
    return page(response).one(f'tr.ticket-row[data-ticket="{ticket_id}"]')


# --------------------------------------------------------------------------- the views


def test_unassigned_lists_my_queues_soonest_due_first_and_never_another_queue(desk, team, providers):
    email_like = form_ticket(desk, 1)  # form: first answer due 14:00
    desk.advance(timedelta(minutes=5))
    telegram = desk.post_telegram(_telegram()).json_body  # telegram (billing: "оплат"): 10 business minutes
    tech = form_ticket(desk, 2, subject="Error 500 on login")  # routed to the tech queue
    billing = form_ticket(desk, 3, subject="Refund for my invoice")
    cookie = sign_in(desk, OLENA)

    listed = refs(queue(desk, cookie, "view=unassigned"))

    assert telegram == {"ok": True}
    assert tech not in listed  # not Olena's queue
    assert listed[1:] == [email_like, billing]  # due 14:00, then 14:05
    first = row(queue(desk, cookie, "view=unassigned"), listed[0])
    assert "Telegram" in first.text() and "First response" in first.text()
    assert tech in refs(queue(desk, sign_in(desk, TINA), "view=unassigned"))


def test_mine_lists_what_i_own_across_my_queues_and_is_the_default_while_i_own_any(desk, team):
    general = form_ticket(desk, 1)
    desk.advance(timedelta(minutes=1))
    billing, theirs = form_ticket(desk, 2, subject="Refund please"), form_ticket(desk, 3)
    cookie = sign_in(desk, OLENA)
    assert "aria-current" in str(page(queue(desk, cookie)).one('.views a[href$="view=unassigned"]').attributes)

    api(desk, team, "olena", "POST", f"/api/tickets/{billing}/take")
    api(desk, team, "olena", "POST", f"/api/tickets/{general}/take")
    api(desk, team, "taras", "POST", f"/api/tickets/{theirs}/take")

    default = queue(desk, cookie)
    assert refs(default) == [general, billing]  # due 14:00 and 14:01: soonest first
    assert "aria-current" in str(page(default).one('.views a[href$="view=mine"]').attributes)
    assert refs(queue(desk, cookie, "view=unassigned")) == []
    assert "Olena Koval" in row(default, general).css_first(".owner").text()
    everyone = queue(desk, sign_in(desk, LEV), "view=all")
    assert "Taras Shevchuk" in row(everyone, theirs).css_first(".owner").text()


def test_breaching_soon_holds_what_reached_the_first_alert_share_soonest_due_first(desk, team):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    early = form_ticket(desk, 1)  # due 14:00; 75% at 13:00
    desk.at(datetime(2026, 11, 23, 11, 0, tzinfo=KYIV))
    later = form_ticket(desk, 2)  # due 15:00; 75% at 14:00
    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    run_watch(desk)  # the 75% warning of the first: written with its band
    cookie = sign_in(desk, OLENA)

    assert refs(queue(desk, cookie, "view=breaching")) == [early]
    desk.at(datetime(2026, 11, 23, 14, 1, tzinfo=KYIV))
    run_watch(desk)  # the first breaches, the second reaches 75%
    breaching = queue(desk, cookie, "view=breaching")
    assert refs(breaching) == [early, later]
    assert "level-breach" in row(breaching, early).css_first(".clock").attributes["class"]
    assert "1 min late" in row(breaching, early).css_first(".clock").text()
    assert "level-warn" in row(breaching, later).css_first(".clock").attributes["class"]


def test_waiting_on_customer_holds_pending_tickets_with_their_clock_paused(desk, team):
    waiting, live = form_ticket(desk, 1), form_ticket(desk, 2)
    api(desk, team, "olena", "POST", f"/api/tickets/{waiting}/reply", {"text": "Which browser do you use?"})
    desk.advance(timedelta(minutes=30))
    api(desk, team, "olena", "POST", f"/api/tickets/{waiting}/status", {"status": "pending"})
    cookie = sign_in(desk, OLENA)

    shown = queue(desk, cookie, "view=waiting")

    assert refs(shown) == [waiting]
    clock_cell = row(shown, waiting).css_first(".clock")
    assert "level-paused" in clock_cell.attributes["class"]
    assert "Resolution" in clock_cell.text() and "paused" in clock_cell.text()
    assert live not in refs(shown)
    assert refs(queue(desk, cookie, "view=mine")) == [waiting]  # still hers, after her running ones


def test_robot_mail_has_its_own_view_and_no_other(desk, team):
    from tests.conftest import fixture_bytes

    person = form_ticket(desk, 1)
    desk.deliver_email(fixture_bytes("email", "out_of_office.eml"), key="ses-ooo")
    desk.pump()
    [robot] = [t.ticket_id for t in Ticket.scan() if t.automated]
    api(desk, team, "olena", "POST", f"/api/tickets/{robot}/take")  # owned, it is still robot mail
    cookie = sign_in(desk, OLENA)
    lead = sign_in(desk, LEV)

    assert refs(queue(desk, cookie, "view=automated")) == [robot]
    assert "No clock" in row(queue(desk, cookie, "view=automated"), robot).text()
    for view in ("mine", "unassigned", "breaching", "waiting"):
        assert robot not in refs(queue(desk, cookie, f"view={view}")), view
    assert refs(queue(desk, lead, "view=all")) == [person]


def test_all_open_is_for_leads_and_admins(desk, team):
    general, tech = form_ticket(desk, 1), form_ticket(desk, 2, subject="Error 500 on login")
    for who in (LEV, "ada@promptly.example"):
        assert sorted(refs(queue(desk, sign_in(desk, who), "view=all"))) == sorted([general, tech])
    olena = sign_in(desk, OLENA)
    refused = queue(desk, olena, "view=all")
    assert refused.status_code == 403
    assert "needs another role" in page(refused).words
    tabs = [a.attributes["href"] for a in page(queue(desk, olena)).css(".views a")]
    assert not any("view=all" in href for href in tabs)


def test_another_queue_asked_by_name_is_a_404_and_a_lead_may_narrow_to_one(desk, team):
    general, tech = form_ticket(desk, 1), form_ticket(desk, 2, subject="Error 500 on login")
    olena = sign_in(desk, OLENA)
    assert queue(desk, olena, "view=unassigned&queue=tech").status_code == 404
    assert queue(desk, olena, "view=unassigned&queue=nowhere").status_code == 404
    assert refs(queue(desk, sign_in(desk, LEV), "view=all&queue=tech")) == [tech]
    assert refs(queue(desk, olena, "view=unassigned&queue=general")) == [general]


def test_an_unknown_view_is_a_400_page(desk, team):
    response = queue(desk, sign_in(desk, OLENA), "view=everything")
    assert response.status_code == 400
    assert "view" in page(response).words


# --------------------------------------------------------------------------- rows


def test_a_row_shows_which_clock_runs_and_its_countdown_in_the_agents_zone(desk, team):
    from chalicelib.agents import staff

    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    ticket_id = form_ticket(desk, 1)  # first response due 14:00 Kyiv = 12:00 UTC
    desk.at(datetime(2026, 11, 23, 13, 20, tzinfo=KYIV))
    run_watch(desk)  # 75%: the warning went out
    staff.update_agent(team["olena"]["id"], {"timezone": "Europe/Lisbon"})  # 12:00 there
    shown = queue(desk, sign_in(desk, OLENA), "view=unassigned")

    cell = row(shown, ticket_id).css_first(".clock")
    assert "First response" in cell.text()
    assert "in 40 min · 12:00" in cell.text()
    assert "level-warn" in cell.attributes["class"]
    assert cell.css_first("time").attributes["datetime"] == "2026-11-23T12:00:00.000Z"
    assert row(shown, ticket_id).css_first("a").attributes["href"] == f"http://127.0.0.1:8000/console/t/{ticket_id}"
    assert row(shown, ticket_id).attributes["data-href"] == f"http://127.0.0.1:8000/console/t/{ticket_id}"


def test_a_row_says_it_in_the_agents_language(desk, team):
    from chalicelib.agents import staff

    ticket_id = form_ticket(desk, 1)
    cookie = sign_in(desk, OLENA)
    staff.update_agent(team["olena"]["id"], {"language": "uk"})
    shown = queue(desk, cookie, "view=unassigned")
    assert "Перша відповідь" in row(shown, ticket_id).text()
    assert "Без виконавця" in page(shown).words


def test_an_urgent_ticket_stands_out(desk, team):
    ticket_id, calm = form_ticket(desk, 1), form_ticket(desk, 2)
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/take")
    api(
        desk,
        team,
        "olena",
        "POST",
        f"/api/tickets/{ticket_id}/priority",
        {"priority": "urgent", "reason": "no payments"},
    )
    shown = queue(desk, sign_in(desk, LEV), "view=all")
    assert "urgent" in row(shown, ticket_id).attributes["class"]
    assert row(shown, ticket_id).css_first(".priority-urgent").text() == "Urgent"
    assert "urgent" not in row(shown, calm).attributes["class"]


def test_who_has_a_ticket_open_shows_in_its_row_but_not_myself(desk, team):
    viewed, replied = form_ticket(desk, 1), form_ticket(desk, 2)
    now = clock.now()
    presence.beat(viewed, team["taras"]["id"], "Taras Shevchuk", "viewing", now)
    presence.beat(replied, team["taras"]["id"], "Taras Shevchuk", "replying", now)
    presence.beat(replied, team["olena"]["id"], "Olena Koval", "viewing", now)
    cookie = sign_in(desk, OLENA)

    shown = queue(desk, cookie, "view=unassigned")

    assert row(shown, viewed).css_first(".presence.viewing").text().split() == ["👁", "Taras", "is", "viewing"]
    assert row(shown, replied).css_first(".presence.replying").text().split() == ["✎", "Taras", "is", "replying"]
    assert "Olena" not in row(shown, replied).css_first(".subject").text()
    desk.advance(presence.EXPIRES_AFTER + timedelta(seconds=1))
    assert not page(queue(desk, cookie, "view=unassigned")).css(".presence")


def test_customer_text_is_escaped(desk, team):
    ticket_id = form_ticket(desk, 1, subject="<img src=x onload=alert(1)>", name="<b>Eve</b>")
    shown = queue(desk, sign_in(desk, OLENA), "view=unassigned")
    assert "<img src=x" not in shown.body.decode() and "<b>Eve" not in shown.body.decode()
    assert "<img src=x onload=alert(1)>" in row(shown, ticket_id).css_first(".subject").text()
    assert row(shown, ticket_id).css_first(".customer").text() == "<b>Eve</b>"


# --------------------------------------------------------------------------- pages


def seed(count: int, queue_name: str = "general", *, start: int = 0) -> list[str]:
    """`count` live form tickets written straight to the table (as intake writes them), due a
    minute apart: the soonest first in the returned order."""
    desk_settings = settings()
    made = []
    for n in range(start, start + count):
        created = clock.now() + timedelta(minutes=n)
        ticket = Ticket(
            f"PR-SEED{n:05d}",
            customer_id=f"C-{n}",
            customer_name=f"Customer {n}",
            channel="form",
            address=f"c{n}@example.com",
            subject=f"Question {n}",
            queue=queue_name,
            language="en",
            timezone="Europe/Kyiv",
            created_at=created,
            updated_at=created,
            last_message_at=created,
        )
        lifecycle.open_clocks(desk_settings, ticket)
        ticket.save()
        made.append(ticket.ticket_id)
    return made


def test_pages_of_fifty_walk_through_120_tickets_in_order(desk, team):
    made = seed(120)
    cookie = sign_in(desk, OLENA)
    seen: list[str] = []
    path = "view=unassigned"
    pages = 0
    while path:
        response = queue(desk, cookie, path)
        assert response.status_code == 200
        seen += refs(response)
        pages += 1
        following = page(response).css('.pager a[rel="next"]')
        path = following[0].attributes["href"].split("?", 1)[1] if following else ""
    assert pages == 3
    assert seen == made


def test_pages_merge_two_queues_in_order(desk, team):
    general = seed(60, "general")
    billing = seed(60, "billing", start=60)
    cookie = sign_in(desk, OLENA)
    first = queue(desk, cookie, "view=unassigned")
    assert refs(first) == general[:50]
    after = page(first).one('.pager a[rel="next"]').attributes["href"].split("?", 1)[1]
    second = queue(desk, cookie, after)
    assert refs(second) == general[50:] + billing[:40]
    assert page(second).css(".pager a")[0].text() == "First page"


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor",
        "%%%",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"free#tech": None}).encode()).decode(),  # not her queue
        base64.urlsafe_b64encode(json.dumps({"general": ["b#x#PR-1", "PR-1"]}).encode()).decode(),  # another view's
        base64.urlsafe_b64encode(json.dumps({"free#general": ["2026#PR-2", "PR-1"]}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"free#general": ["", ""]}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"free#general": ["x" * 500 + "#PR-1", "PR-1"]}).encode()).decode(),
    ],
)
def test_a_cursor_this_page_did_not_write_is_a_400_page(desk, team, after):
    seed(3)
    response = queue(desk, sign_in(desk, OLENA), f"view=unassigned&after={after}")
    assert response.status_code == 400
    assert "start again" in page(response).words


@pytest.mark.parametrize("view", ["breaching", "waiting", "all"])
def test_a_cursor_outside_the_views_key_range_is_a_400_not_a_500(desk, team, view):
    seed(3)
    wrong = {"breaching": "d#2026#PR-1", "waiting": "b#2026#PR-1", "all": "r#2026#PR-1"}[view]
    after = base64.urlsafe_b64encode(json.dumps({"general": [wrong, "PR-1"]}).encode()).decode()
    assert queue(desk, sign_in(desk, LEV), f"view={view}&queue=general&after={after}").status_code == 400


def test_tickets_from_before_the_queue_join_its_views_after_the_operators_reindex(desk, team):
    from tools import create_admin

    ticket_id = form_ticket(desk, 1)
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/take")
    legacy = Ticket.get(ticket_id)  # as the release before the queue left it
    legacy.update(
        actions=[
            Ticket.due_key.set("2026-11-23T12:00:00.000Z"),
            Ticket.owner_lane.remove(),
            Ticket.owner_key.remove(),
            Ticket.assignee_name.remove(),
        ]
    )
    cookie = sign_in(desk, OLENA)
    assert refs(queue(desk, cookie, "view=mine")) == []

    create_admin.reindex()  # what `python -m tools.create_admin --reindex-leaders` runs

    mine = queue(desk, cookie, "view=mine")
    assert refs(mine) == [ticket_id]
    assert "Olena Koval" in row(mine, ticket_id).css_first(".owner").text()
    assert Ticket.get(ticket_id).due_key == f"d#2026-11-23T12:00:00.000Z#{ticket_id}"


# --------------------------------------------------------------------------- refreshing


def test_the_list_refreshes_as_its_rows_with_the_titles_counts(desk, team):
    made = []
    for minute in range(3):
        desk.at(datetime(2026, 11, 23, 10, minute, tzinfo=KYIV))
        made.append(form_ticket(desk, minute))
    first, second, third = made
    api(desk, team, "olena", "POST", f"/api/tickets/{third}/take")
    desk.at(datetime(2026, 11, 23, 13, 5, tzinfo=KYIV))
    run_watch(desk)  # all three at 75%
    cookie = sign_in(desk, OLENA)
    full = queue(desk, cookie, "view=unassigned")
    assert page(full).one("title").text() == "Queue · Promptly Support"  # the page does not count
    rows = page(full).one("tbody#queue-rows")
    assert rows.attributes["hx-trigger"] == "every 15s, refresh"
    assert rows.attributes["hx-get"] == "http://127.0.0.1:8000/console/queue?view=unassigned"

    refreshed = fragment(queue(desk, cookie, "view=unassigned", HTMX))

    assert "<thead" not in refreshed.html
    tbody = refreshed.one("tbody#queue-rows")
    assert tbody.attributes["data-title"] == "(2 · 3) Queue · Promptly Support"
    assert (tbody.attributes["data-unassigned"], tbody.attributes["data-breaching"]) == ("2", "3")
    assert [r.attributes["data-ticket"] for r in refreshed.css("tr.ticket-row")] == [first, second]
    assert refreshed.one("#queue-pager").attributes["hx-swap-oob"] == "true"


def test_the_refresh_keeps_the_page_it_is_on(desk, team):
    made = seed(60)
    cookie = sign_in(desk, OLENA)
    after = page(queue(desk, cookie, "view=unassigned")).one('.pager a[rel="next"]').attributes["href"]
    second = get(desk, after.removeprefix("http://127.0.0.1:8000"), cookie)
    assert page(second).one("tbody#queue-rows").attributes["hx-get"] == after
    refreshed = fragment(get(desk, after.removeprefix("http://127.0.0.1:8000"), cookie, HTMX))
    assert [r.attributes["data-ticket"] for r in refreshed.css("tr.ticket-row")] == made[50:]


def test_the_page_offers_the_new_tickets_pill_and_its_script(desk, team):
    shown = page(queue(desk, sign_in(desk, OLENA)))
    pill = shown.one("#queue-refresh")
    assert pill.attributes["hx-target"] == "#queue-rows"
    assert pill.attributes["data-words"] == "{n} new — refresh"
    assert "hidden" in shown.one("#queue-fresh").attributes
    script = desk.client.http.get(shown.one('script[src*="console.js"]').attributes["src"].split("8000", 1)[1])
    assert b"htmx:before:swap" in script.body and b"queue-refresh" in script.body


def test_signed_out_the_queue_goes_to_sign_in_and_back(desk, team):
    response = queue(desk, "", "view=unassigned")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "http://127.0.0.1:8000/console/sign-in?next=%2Fconsole%2Fqueue%3Fview%3Dunassigned"
    )
    refreshed = queue(desk, "", "view=unassigned", HTMX)
    assert refreshed.headers["HX-Redirect"].startswith("http://127.0.0.1:8000/console/sign-in")


def test_the_console_home_goes_to_the_queue(desk, team):
    cookie = sign_in(desk, OLENA)
    home = get(desk, "/console", cookie)
    assert home.status_code == 303 and home.headers["Location"] == "http://127.0.0.1:8000/console/queue"


# --------------------------------------------------------------------------- cost, and nothing changed


def test_no_view_changes_anything(desk, team):
    form_ticket(desk, 1)
    presence.beat(form_ticket(desk, 2), team["taras"]["id"], "Taras Shevchuk", "viewing", clock.now())
    olena, lead = sign_in(desk, OLENA), sign_in(desk, LEV)
    for cookie, query, headers in [
        (olena, "", None),
        (olena, "view=mine", None),
        (olena, "view=unassigned", HTMX),
        (olena, "view=breaching", None),
        (olena, "view=waiting", None),
        (olena, "view=automated", None),
        (lead, "view=all", None),
        (lead, "view=all", HTMX),
        (olena, "view=all", None),
        (olena, "after=nonsense", None),
        ("", "view=mine", None),
    ]:
        before = tables()
        queue(desk, cookie, query, headers)
        assert tables() == before, query


def test_the_page_costs_three_dynamodb_calls_and_the_refresh_two_more_per_queue(desk, team, dynamodb_calls):
    seed(120, "tech")
    presence.beat("PR-SEED00001", team["admin"]["id"], "Ada Admin", "viewing", clock.now())
    cookie = sign_in(desk, TINA)  # one queue: tech

    dynamodb_calls.clear()
    shown = queue(desk, cookie)
    assert len(refs(shown)) == 50 and "👁" in shown.body.decode()
    assert dynamodb_calls == [("TransactGetItems", "agents,keys"), ("Query", "tickets"), ("BatchGetItem", "keys")]

    dynamodb_calls.clear()
    assert queue(desk, cookie, "", HTMX).status_code == 200
    assert len(dynamodb_calls) == 5


@pytest.mark.parametrize("view", ["mine", "unassigned", "breaching", "waiting", "automated"])
def test_every_view_is_one_query_in_one_queue(desk, team, view, dynamodb_calls):
    seed(5, "tech")
    cookie = sign_in(desk, TINA)
    dynamodb_calls.clear()
    assert queue(desk, cookie, f"view={view}").status_code == 200
    assert [call for call in dynamodb_calls if call[0] == "Query"] == [("Query", "tickets")]
    assert len(dynamodb_calls) <= 3


def _telegram() -> dict[str, Any]:
    from tests.test_channels import telegram_update

    return telegram_update()
