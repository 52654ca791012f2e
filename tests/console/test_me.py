"""An agent's own page: the console's language, their time zone and the single-key shortcuts
switch, saved by the agent themselves; and their own API tokens."""

from __future__ import annotations

import pytest

from chalicelib.agents import staff
from chalicelib.agents.access import Actor
from chalicelib.errors import BadRequest
from chalicelib.models import Agent
from tests.console.pages import act, get, page, post, sign_in, tables

OLENA = "olena@promptly.example"


def test_an_agent_sets_language_zone_and_shortcuts_and_the_console_follows(desk, team):
    cookie = sign_in(desk, OLENA)
    shown = page(get(desk, "/console/me", cookie))
    assert shown.one("body").attributes["data-shortcuts"] == "on"
    assert shown.one('a.me[aria-current="page"]')

    saved = act(desk, cookie, "/console/me", {"language": "uk", "timezone": "America/New_York"})  # shortcuts unticked

    assert saved.status_code == 303 and saved.headers["Location"] == "http://127.0.0.1:8000/console/me?done=saved"
    agent = Agent.get(team["olena"]["id"])
    assert (agent.language, agent.timezone, agent.shortcuts) == ("uk", "America/New_York", False)
    after = page(get(desk, "/console/me?done=saved", cookie))
    assert after.one("html").attributes["lang"] == "uk"
    assert after.one("body").attributes["data-shortcuts"] == "off"
    assert "Ваші налаштування збережено" in after.one("#done").text()
    assert after.one("#me-timezone").attributes["value"] == "America/New_York"
    assert "checked" not in after.one("#me-shortcuts").attributes


def test_the_zone_is_the_agents_own_in_the_consoles_times(desk, team):
    cookie = sign_in(desk, OLENA)
    act(desk, cookie, "/console/me", {"language": "en", "timezone": "America/New_York", "shortcuts": "on"})

    issued = page(act(desk, cookie, f"/console/agents/{team['olena']['id']}/tokens"))

    assert "21 Feb 2027, 03:00" in issued.words  # 10:00 in Kyiv, 90 days on, in New York


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"language": "en", "timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA time zone"),
        ({"language": "de", "timezone": ""}, "language must be one the desk speaks"),
        ({"language": "", "timezone": ""}, "language must be one the desk speaks"),
    ],
)
def test_a_wrong_preference_is_explained_and_nothing_changes(desk, team, fields, said):
    cookie = sign_in(desk, OLENA)
    before = tables()

    refused = act(desk, cookie, "/console/me", {**fields, "shortcuts": "on"})

    assert refused.status_code == 400
    assert said in page(refused).one("#form-error").text()
    assert tables() == before


def test_blank_zone_means_the_desks(desk, team):
    staff.update_agent(team["olena"]["id"], {"timezone": "Europe/Warsaw"})
    cookie = sign_in(desk, OLENA)

    act(desk, cookie, "/console/me", {"language": "en", "timezone": " ", "shortcuts": "on"})

    assert Agent.get(team["olena"]["id"]).timezone is None
    assert "Europe/Kyiv" in page(get(desk, "/console/me", cookie)).one("#me-timezone").attributes["placeholder"]


def test_only_preferences_are_an_agents_own_to_change():
    olena = Actor("A-olena", "agent", ("general",), "Olena Koval")
    with pytest.raises(BadRequest, match="role is not yours to change"):
        staff.set_preferences(olena, {"role": "admin"})


def test_an_agent_issues_and_revokes_their_own_token_from_their_page(desk, team):
    cookie = sign_in(desk, OLENA)
    olena = team["olena"]["id"]
    form = page(get(desk, "/console/me", cookie)).form(f"/console/agents/{olena}/tokens")

    issued = act(desk, cookie, f"/console/agents/{olena}/tokens", {"next": form["fields"]["next"]})
    token = page(issued).one("#issued-token").attributes["value"]
    token_id = token.split("_")[1]

    assert page(issued).one("a.button").attributes["href"] == "http://127.0.0.1:8000/console/me"
    assert desk.api("GET", "/api/me", token).status_code == 200
    listed = page(get(desk, "/console/me", cookie)).one("#tokens").text()
    assert token_id in listed and team["olena"]["token"].split("_")[1] in listed  # the fixture's too
    revoked = act(desk, cookie, f"/console/tokens/{token_id}/revoke", {"next": "/console/me"})
    assert revoked.headers["Location"] == "http://127.0.0.1:8000/console/me?done=revoked"
    assert desk.api("GET", "/api/me", token).status_code == 401


def test_signed_out_me_goes_to_sign_in(desk, team):
    assert get(desk, "/console/me").status_code == 303
    assert post(desk, "/console/me", {"language": "uk"}).status_code == 303


@pytest.mark.parametrize("csrf", [None, "0" * 64])
def test_saving_without_the_right_csrf_token_is_refused_and_changes_nothing(desk, team, csrf):
    cookie = sign_in(desk, OLENA)
    before = tables()

    refused = post(desk, "/console/me", {"language": "uk", **({"csrf": csrf} if csrf else {})}, cookie=cookie)

    assert refused.status_code == 403
    assert tables() == before


def test_the_page_changes_nothing(desk, team):
    for who in (OLENA, "ada@promptly.example"):
        cookie = sign_in(desk, who)
        before = tables()
        assert get(desk, "/console/me", cookie).status_code == 200
        assert tables() == before
