"""A queue's duty roster for a week, on one page for leads and admins: who is on duty, in which
order, saved through the API's own roster calls; an agent is refused."""

from __future__ import annotations

import pytest

from chalicelib.agents import staff
from tests.console.pages import act, get, page, post, sign_in, tables

OLENA, LEV, ADA = "olena@promptly.example", "lev@promptly.example", "ada@promptly.example"
WEEK = "2026-W48"  # the desk's clock stands in it (Monday 23 November 2026)


def roster_form(desk, cookie: str, queue: str = "general", week: str = WEEK) -> dict:
    shown = page(get(desk, f"/console/roster?queue={queue}&week={week}", cookie))
    return shown.form("/console/roster")


def test_a_lead_ticks_and_orders_the_weeks_roster_and_the_api_reads_it(desk, team):
    cookie = sign_in(desk, LEV)
    form = roster_form(desk, cookie)
    assert form["fields"]["queue"] == "general" and form["fields"]["week"] == WEEK
    fields = {
        "csrf": form["fields"]["csrf"],
        "queue": "general",
        "week": WEEK,
        f"rank.{team['taras']['id']}": "1",
        f"rank.{team['olena']['id']}": "2",
    }
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    body += f"&on={team['olena']['id']}&on={team['taras']['id']}"  # ticked in the page's order

    saved = desk.client.http.post(
        "/console/roster",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://127.0.0.1:8000",
            "Cookie": cookie,
        },
        body=body,
    )

    assert saved.status_code == 303
    assert saved.headers["Location"] == f"http://127.0.0.1:8000/console/roster?queue=general&week={WEEK}&saved=1"
    assert staff.roster("general", WEEK) == [team["taras"]["id"], team["olena"]["id"]]
    api = desk.api("GET", f"/api/rosters/general/{WEEK}", team["olena"]["token"]).json_body
    assert api["agents"] == [team["taras"]["id"], team["olena"]["id"]]
    shown = page(get(desk, saved.headers["Location"].removeprefix("http://127.0.0.1:8000"), cookie))
    assert shown.one("#roster-saved")
    rows = shown.css("#roster-table tbody tr")
    assert [row.attributes["data-agent"] for row in rows[:2]] == [team["taras"]["id"], team["olena"]["id"]]
    assert [row.css_first("input.place").attributes["value"] for row in rows[:2]] == ["1", "2"]
    assert all("checked" in row.css_first("input[type=checkbox]").attributes for row in rows[:2])
    assert not any("checked" in row.css_first("input[type=checkbox]").attributes for row in rows[2:])


def test_unticking_everyone_empties_the_roster(desk, team):
    staff.set_roster("general", WEEK, [team["olena"]["id"]])
    cookie = sign_in(desk, ADA)

    assert act(desk, cookie, "/console/roster", {"queue": "general", "week": WEEK}).status_code == 303

    assert staff.roster("general", WEEK) == []


def test_the_page_shows_the_queues_agents_and_whoever_is_still_on_it(desk, team):
    staff.set_roster("tech", WEEK, [team["tech"]["id"]])
    staff.update_agent(team["tech"]["id"], {"active": False})
    cookie = sign_in(desk, LEV)

    shown = page(get(desk, f"/console/roster?queue=tech&week={WEEK}", cookie))

    agents = [row.attributes["data-agent"] for row in shown.css("#roster-table tbody tr")]
    assert agents[0] == team["tech"]["id"]  # deactivated, still on the roster: shown first, to take off
    assert "deactivated" in shown.css("#roster-table tbody tr")[0].text()
    assert team["olena"]["id"] not in agents  # she does not work tech
    assert {team["admin"]["id"], team["lead"]["id"]} <= set(agents)


def test_previous_and_next_weeks_cross_the_year(desk, team):
    cookie = sign_in(desk, LEV)

    first = page(get(desk, "/console/roster?queue=billing&week=2027-W01", cookie))
    last = page(get(desk, "/console/roster?queue=billing&week=2026-W52", cookie))

    assert first.one("#roster-previous").attributes["href"].endswith("queue=billing&week=2026-W53")  # 2026 has 53
    assert last.one("#roster-next").attributes["href"].endswith("queue=billing&week=2026-W53")
    assert last.one("#roster-week").text() == "2026-W52 · Mon 21 Dec – Sun 27 Dec"


def test_this_week_and_the_first_queue_by_default(desk, team):
    shown = page(get(desk, "/console/roster", sign_in(desk, LEV)))

    assert shown.one("#roster-week").text().startswith(f"{WEEK} · Mon 23 Nov – Sun 29 Nov")
    assert shown.one('.tabs a[aria-current="page"]').text() == "Customer care"


@pytest.mark.parametrize(
    "query", ["queue=nowhere&week=2026-W48", "queue=general&week=48", "queue=general&week=2025-W53"]
)
def test_an_unknown_queue_or_week_is_a_400_page(desk, team, query):
    shown = get(desk, f"/console/roster?{query}", sign_in(desk, LEV))

    assert shown.status_code == 400
    assert page(shown).one(".detail").text()


def test_an_agent_not_of_the_queue_is_refused_as_by_the_api(desk, team):
    cookie = sign_in(desk, LEV)
    before = tables()

    refused = act(desk, cookie, "/console/roster", {"queue": "tech", "week": WEEK, "on": team["olena"]["id"]})

    assert refused.status_code == 400
    assert "does not work the tech queue" in page(refused).words
    assert tables() == before


# --------------------------------------------------------------------------- who may, CSRF, GETs


def test_an_agent_gets_403_for_the_roster_page_and_its_save(desk, team):
    cookie = sign_in(desk, OLENA)
    before = tables()

    shown = get(desk, "/console/roster", cookie)
    saved = act(desk, cookie, "/console/roster", {"queue": "general", "week": WEEK, "on": team["olena"]["id"]})

    assert shown.status_code == saved.status_code == 403
    assert "needs another role" in page(shown).words
    assert tables() == before
    assert not page(get(desk, "/console/queue", cookie)).css('nav a[href$="/roster"]')  # not offered either


def test_signed_out_the_roster_goes_to_sign_in(desk, team):
    assert get(desk, "/console/roster?queue=general").status_code == 303
    assert post(desk, "/console/roster", {"queue": "general", "week": WEEK}).status_code == 303


@pytest.mark.parametrize("csrf", [None, "0" * 64])
def test_a_save_without_the_right_csrf_token_is_refused_and_changes_nothing(desk, team, csrf):
    cookie = sign_in(desk, LEV)
    before = tables()
    fields = {"queue": "general", "week": WEEK, "on": team["olena"]["id"], **({"csrf": csrf} if csrf else {})}

    refused = post(desk, "/console/roster", fields, cookie=cookie)

    assert refused.status_code == 403
    assert tables() == before


def test_a_save_from_another_site_is_refused(desk, team):
    cookie = sign_in(desk, LEV)
    before = tables()

    refused = act(
        desk, cookie, "/console/roster", {"queue": "general", "week": WEEK}, headers={"Origin": "https://evil.example"}
    )

    assert refused.status_code == 403
    assert tables() == before


def test_the_roster_page_changes_nothing(desk, team):
    staff.set_roster("general", WEEK, [team["olena"]["id"]])
    cookie = sign_in(desk, LEV)
    for path in ("/console/roster", "/console/roster?queue=tech&week=2026-W49", "/console/roster?queue=x&week=y"):
        before = tables()
        get(desk, path, cookie)
        assert tables() == before, path
