"""The desk's people in the console: admins add agents, change their role, queues, alerts,
language and zone, deactivate them, and issue and revoke their API tokens (a token shown once);
leads read the list; agents are refused. The same rules and refusals as the JSON API."""

from __future__ import annotations

import pytest

from chalicelib.agents import staff
from chalicelib.models import Agent
from tests.console.pages import act, get, page, post, sign_in, tables

ADA, LEV, OLENA = "ada@promptly.example", "lev@promptly.example", "olena@promptly.example"
NEW = {"first_name": "Nina", "last_name": "New", "email": "Nina@Promptly.example", "role": "agent", "language": "uk"}


def agent_page(desk, cookie: str, agent_id: str):
    return page(get(desk, f"/console/agents/{agent_id}", cookie))


def settings_of(desk, cookie: str, agent_id: str) -> dict[str, str]:
    """The agent page's settings form as the browser would send it back (ticked queues aside):
    text fields as filled in, each select's chosen option."""
    form = agent_page(desk, cookie, agent_id).one("#agent-settings")
    fields = {
        node.attributes["name"]: node.attributes.get("value") or ""
        for node in form.css("input")
        if node.attributes.get("type") not in ("checkbox", "submit")
    }
    for select in form.css("select"):
        fields[select.attributes["name"]] = select.css_first("option[selected]").attributes["value"]
    fields.pop("csrf")
    return fields


def send(desk, cookie: str, path: str, fields: dict[str, str], lists: dict[str, list[str]] | None = None):
    """A form post with repeated fields (checkbox groups), from the console's own page."""
    from urllib.parse import urlencode

    from tests.console.pages import FORM, ORIGIN, csrf_of

    pairs = [("csrf", csrf_of(desk, cookie)), *fields.items()]
    pairs += [(name, value) for name, values in (lists or {}).items() for value in values]
    return desk.client.http.post(path, headers={**FORM, **ORIGIN, "Cookie": cookie}, body=urlencode(pairs))


# --------------------------------------------------------------------------- the list and a new agent


def test_an_admin_adds_an_agent_who_can_then_sign_in(desk, team):
    cookie = sign_in(desk, ADA)
    listing = page(get(desk, "/console/agents", cookie))
    assert listing.form("/console/agents")  # the new-agent form is offered

    created = send(desk, cookie, "/console/agents", NEW, {"queues": ["general", "billing"]})

    assert created.status_code == 303
    agent_id = created.headers["Location"].rsplit("/", 1)[1].split("?")[0]
    nina = Agent.get(agent_id)
    assert (nina.email, nina.role, nina.queues, nina.language) == (
        "nina@promptly.example",
        "agent",
        ["general", "billing"],
        "uk",
    )
    assert nina.alert_email == "nina@promptly.example"
    shown = page(get(desk, created.headers["Location"].removeprefix("http://127.0.0.1:8000"), cookie))
    assert "The agent is added" in shown.one("#done").text()
    row = page(get(desk, "/console/agents", cookie)).one(f'tr[data-agent="{agent_id}"]')
    assert [cell.text().strip() for cell in row.css("td")] == [
        "Nina New",
        "nina@promptly.example",
        "Agent",
        "Customer care, Billing",
        "Українська",
        "Active",
    ]
    assert post(desk, "/console/sign-in", {"email": "nina@promptly.example"}).status_code == 200
    desk.pump()
    assert [mail for mail in desk.sent_mail() if "nina@promptly.example" in mail["to"]]  # her code, in Ukrainian


@pytest.mark.parametrize(
    ("fields", "status", "said"),
    [
        ({**NEW, "email": "not-an-address"}, 400, "email: that is not an email address we can write to"),
        ({**NEW, "first_name": ""}, 400, "first_name: must not be empty"),
        ({**NEW, "role": "god"}, 400, "role must be one of agent, lead, admin"),
        ({**NEW, "language": "de"}, 400, "language must be one the desk speaks"),
        ({**NEW, "slack_webhook": "https://evil.example/hook"}, 400, "slack_webhook"),
        ({**NEW, "email": "olena@promptly.example"}, 409, "another agent already signs in with this email address"),
    ],
)
def test_a_wrong_new_agent_comes_back_with_the_apis_reason_and_what_was_typed(desk, team, fields, status, said):
    cookie = sign_in(desk, ADA)
    before = tables()

    refused = send(desk, cookie, "/console/agents", fields, {"queues": ["tech"]})

    assert refused.status_code == status
    shown = page(refused)
    assert said in shown.one("#form-error").text()
    form = shown.form("/console/agents")["fields"]
    assert (form["first_name"], form["last_name"]) == (fields["first_name"], "New")
    assert "checked" in shown.one('#new-agent input[name="queues"][value="tech"]').attributes
    assert tables() == before


# --------------------------------------------------------------------------- one agent


def test_an_admin_changes_role_queues_and_alerts_and_the_leads_lookup_follows(desk, team):
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]
    fields = {**settings_of(desk, cookie, olena), "role": "lead", "alert_email": "olena.alerts@promptly.example"}

    saved = send(desk, cookie, f"/console/agents/{olena}", fields, {"queues": ["general", "tech"]})

    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/console/agents/{olena}?done=saved")
    agent = Agent.get(olena)
    assert (agent.role, agent.queues, agent.alert_email) == (
        "lead",
        ["general", "tech"],
        "olena.alerts@promptly.example",
    )
    assert olena in staff.leads_of("tech") and olena not in staff.leads_of("billing")
    api = desk.api("GET", "/api/agents", team["admin"]["token"]).json_body["agents"]
    assert next(a for a in api if a["agent"] == olena)["role"] == "lead"


def test_language_and_time_zone_are_checked_as_the_api_checks_them(desk, team):
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]
    fields = settings_of(desk, cookie, olena)
    queues = {"queues": ["general", "billing"]}

    wrong = send(desk, cookie, f"/console/agents/{olena}", {**fields, "timezone": "Mars/Olympus"}, queues)
    api_wrong = desk.api("PATCH", f"/api/agents/{olena}", team["admin"]["token"], {"timezone": "Mars/Olympus"})
    right = send(
        desk, cookie, f"/console/agents/{olena}", {**fields, "timezone": "Europe/Warsaw", "language": "ru"}, queues
    )

    assert wrong.status_code == api_wrong.status_code == 400
    assert "'Mars/Olympus' is not an IANA time zone" in page(wrong).one("#form-error").text()
    assert "'Mars/Olympus' is not an IANA time zone" in api_wrong.json_body["Message"]
    assert page(wrong).one("#f-timezone").attributes["value"] == "Mars/Olympus"  # kept to correct
    assert right.status_code == 303
    assert (Agent.get(olena).timezone, Agent.get(olena).language) == ("Europe/Warsaw", "ru")
    shown = desk.api("GET", "/api/me", team["olena"]["token"]).json_body
    assert (shown["timezone"], shown["language"]) == ("Europe/Warsaw", "ru")


def test_a_slack_webhook_is_set_never_shown_back_and_can_be_removed(desk, team):
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]
    hook = "https://hooks.slack.com/services/T000/B000/secretpart"
    queues = {"queues": ["general", "billing"]}

    send(desk, cookie, f"/console/agents/{olena}", {**settings_of(desk, cookie, olena), "slack_webhook": hook}, queues)
    shown = get(desk, f"/console/agents/{olena}", cookie)
    send(desk, cookie, f"/console/agents/{olena}", settings_of(desk, cookie, olena), queues)  # blank: kept
    kept = Agent.get(olena).slack_webhook
    send(
        desk,
        cookie,
        f"/console/agents/{olena}",
        {**settings_of(desk, cookie, olena), "slack_webhook_remove": "1"},
        queues,
    )

    assert "secretpart" not in shown.body.decode()
    assert "A Slack webhook is set" in page(shown).words
    assert kept == hook
    assert Agent.get(olena).slack_webhook is None


def test_deactivating_ends_the_agents_console_session_and_their_tokens(desk, team):
    theirs = sign_in(desk, OLENA)
    assert get(desk, "/console/queue", theirs).status_code == 200
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]
    form = agent_page(desk, cookie, olena).form(f"/console/agents/{olena}/active")
    assert form["fields"]["active"] == "false"

    done = act(desk, cookie, f"/console/agents/{olena}/active", {"active": "false"})

    assert done.status_code == 303 and done.headers["Location"].endswith("?done=deactivated")
    assert get(desk, "/console/queue", theirs).status_code == 303  # signed out on their next request
    assert desk.api("GET", "/api/me", team["olena"]["token"]).status_code == 401
    row = page(get(desk, "/console/agents", cookie)).one(f'tr[data-agent="{olena}"]')
    assert "Deactivated" in row.text()
    assert act(desk, cookie, f"/console/agents/{olena}/active", {"active": "true"}).status_code == 303
    assert Agent.get(olena).active


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(desk, team):
    cookie = sign_in(desk, ADA)
    ada = team["admin"]["id"]
    before = tables()

    refused = act(desk, cookie, f"/console/agents/{ada}/active", {"active": "false"})
    demoted = send(
        desk,
        cookie,
        f"/console/agents/{ada}",
        {**settings_of(desk, cookie, ada), "role": "lead"},
        {"queues": ["general"]},
    )

    assert refused.status_code == demoted.status_code == 409
    assert "last active admin" in page(refused).one("#form-error").text()
    assert "last active admin" in page(demoted).one("#form-error").text()
    assert tables() == before
    assert Agent.get(ada).active and Agent.get(ada).role == "admin"


def test_an_unknown_agent_is_a_404_page(desk, team):
    cookie = sign_in(desk, ADA)
    assert get(desk, "/console/agents/A-nobody", cookie).status_code == 404
    assert act(desk, cookie, "/console/agents/A-nobody/active", {"active": "false"}).status_code == 404


# --------------------------------------------------------------------------- tokens


def test_a_token_is_shown_once_works_and_stops_when_revoked(desk, team, caplog):
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]
    caplog.clear()

    issued = act(desk, cookie, f"/console/agents/{olena}/tokens", {"next": f"/console/agents/{olena}"})

    assert issued.status_code == 200
    assert issued.headers["Cache-Control"] == "no-store"
    token = page(issued).one("#issued-token").attributes["value"]
    token_id = token.split("_")[1]
    assert desk.api("GET", "/api/me", token).json_body["agent"] == olena
    logged = [str(record.__dict__) for record in caplog.records]
    assert any(token_id in line for line in logged)  # the issue is logged by its id...
    assert not any(token.split("_", 2)[2] in line for line in logged)  # ...never with the token
    again = get(desk, f"/console/agents/{olena}", cookie)
    assert token_id in page(again).one("#tokens").text()
    assert token.split("_", 2)[2] not in again.body.decode()  # the secret is never shown again
    revoke = page(again).form(f"/console/tokens/{token_id}/revoke")

    revoked = act(desk, cookie, f"/console/tokens/{token_id}/revoke", {"next": revoke["fields"]["next"]})

    assert revoked.status_code == 303
    assert revoked.headers["Location"] == f"http://127.0.0.1:8000/console/agents/{olena}?done=revoked"
    assert desk.api("GET", "/api/me", token).status_code == 401
    assert token_id not in page(get(desk, f"/console/agents/{olena}", cookie)).one("#tokens").text()


def test_a_token_issued_by_an_admin_names_them_and_tells_the_holder(desk, team):
    cookie = sign_in(desk, ADA)
    olena = team["olena"]["id"]

    act(desk, cookie, f"/console/agents/{olena}/tokens")
    desk.pump()

    assert "by Ada Admin" in page(get(desk, f"/console/agents/{olena}", cookie)).one("#tokens").text()
    assert any(OLENA in mail["to"] and "token" in mail["subject"].lower() for mail in desk.sent_mail())


# --------------------------------------------------------------------------- who may


def test_a_lead_reads_the_list_and_changes_nothing(desk, team):
    cookie = sign_in(desk, LEV)
    olena = team["olena"]["id"]
    before = tables()

    listing = page(get(desk, "/console/agents", cookie))

    assert len(listing.css("#agents-table tbody tr")) == 5
    assert not listing.css("#new-agent") and not listing.css("#agents-table a")
    assert get(desk, f"/console/agents/{olena}", cookie).status_code == 403
    assert send(desk, cookie, "/console/agents", NEW).status_code == 403
    assert send(desk, cookie, f"/console/agents/{olena}", {"role": "admin"}).status_code == 403
    assert act(desk, cookie, f"/console/agents/{olena}/active", {"active": "false"}).status_code == 403
    assert act(desk, cookie, f"/console/agents/{olena}/tokens").status_code == 403
    assert tables() == before


def test_an_agent_is_refused_every_people_page_and_others_tokens(desk, team):
    cookie = sign_in(desk, OLENA)
    taras = team["taras"]["id"]
    taras_token = team["taras"]["token"].split("_")[1]
    before = tables()

    assert get(desk, "/console/agents", cookie).status_code == 403
    assert get(desk, f"/console/agents/{taras}", cookie).status_code == 403
    assert send(desk, cookie, "/console/agents", NEW).status_code == 403
    assert send(desk, cookie, f"/console/agents/{taras}", {"role": "admin"}).status_code == 403
    assert act(desk, cookie, f"/console/agents/{taras}/active", {"active": "false"}).status_code == 403
    assert act(desk, cookie, f"/console/agents/{taras}/tokens").status_code == 403
    assert act(desk, cookie, f"/console/tokens/{taras_token}/revoke").status_code == 404  # not even confirmed
    assert tables() == before
    assert desk.api("GET", "/api/me", team["taras"]["token"]).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/console/agents"),
        ("GET", "/console/agents/A-x"),
        ("POST", "/console/agents"),
        ("POST", "/console/agents/A-x"),
        ("POST", "/console/agents/A-x/active"),
        ("POST", "/console/agents/A-x/tokens"),
        ("POST", "/console/tokens/abc/revoke"),
    ],
)
def test_signed_out_every_people_route_goes_to_sign_in(desk, team, method, path):
    before = tables()
    response = get(desk, path) if method == "GET" else post(desk, path, {"active": "false"})
    assert response.status_code == 303
    assert "/console/sign-in" in response.headers["Location"]
    assert tables() == before


@pytest.mark.parametrize(
    "path",
    [
        "/console/agents",
        "/console/agents/{olena}",
        "/console/agents/{olena}/active",
        "/console/agents/{olena}/tokens",
        "/console/tokens/{token}/revoke",
    ],
)
@pytest.mark.parametrize("csrf", [None, "0" * 64])
def test_every_people_post_without_the_right_csrf_token_is_refused_and_changes_nothing(desk, team, path, csrf):
    cookie = sign_in(desk, ADA)
    target = path.format(olena=team["olena"]["id"], token=team["olena"]["token"].split("_")[1])
    fields = {**NEW, "active": "false", "role": "lead", **({"csrf": csrf} if csrf else {})}
    before = tables()

    refused = post(desk, target, fields, cookie=cookie)

    assert refused.status_code == 403
    assert "Nothing was changed" in page(refused).words
    assert tables() == before


def test_no_people_page_changes_anything(desk, team):
    olena = team["olena"]["id"]
    for who in (ADA, LEV, OLENA):
        cookie = sign_in(desk, who)
        for path in ("/console/agents", f"/console/agents/{olena}", "/console/agents/A-nobody"):
            before = tables()
            get(desk, path, cookie)
            assert tables() == before, (who, path)
