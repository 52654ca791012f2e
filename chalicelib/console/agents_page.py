"""The desk's people in the console: the list (leads read it, admins change it), a new agent, one
agent's page (role, queues, alert addresses, language, time zone, deactivation) and API tokens.

Routes: GET/POST /console/agents, GET/POST /console/agents/{id}, POST /console/agents/{id}/active,
POST /console/agents/{id}/tokens (issue), POST /console/tokens/{token_id}/revoke.

Everything goes through what the JSON API calls, in the API's order: the role first
(staff.may_list / may_manage, tokens.issue_by / held_for / revoke_by: your own tokens, or an
admin's for anyone), then the fields, checked by the API's own models (agents.fields NewAgent and
AgentChanges: the same refusals in the same words), then staff.create_agent / update_agent (the
last active admin stays protected there, as for the API). A form the agent can fix comes back
with their input and the reason (400/409), not a bare refusal.

A token is shown once: on the page that answers the POST that issued it (no-store, like every
console page), never again and never logged; the lists show its records only.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib import clock, log
from chalicelib.agents import staff, tokens
from chalicelib.agents.access import ROLES
from chalicelib.agents.fields import AgentChanges, NewAgent
from chalicelib.config import settings
from chalicelib.console import stamps, web
from chalicelib.errors import BadRequest, Conflict
from chalicelib.http import checked, console_response
from chalicelib.models import Agent, Key

OPTIONAL = ("alert_email", "telegram_chat")  # blank in the form: none (the API's null)
DONE = ("created", "saved", "activated", "deactivated", "revoked")  # what the page after a POST confirms


# --- the list and a new agent ------------------------------------------------------------------
def listing(
    visit: web.Visit, typed: dict[str, Any] | None = None, error: str | None = None, status: int = 200
) -> Response:
    """GET /console/agents: every agent (leads and admins); admins also get the new-agent form."""
    people = staff.listed_for(visit.signed.actor)
    context = {
        "rows": [_summary(agent) for agent in people],
        "may_manage": visit.agent.role == "admin",
        "typed": {"role": "agent", "language": settings().desk.default_language, "queues": [], **(typed or {})},
        "error": error,
        **choices(),
    }
    return visit.page("agents", context, status, section="agents")


def create(visit: web.Visit) -> Response:
    """POST /console/agents: a new agent (admins); 303 to their page."""
    staff.may_manage(visit.signed.actor)
    lists = web.read_form_lists(visit.request)
    data: dict[str, Any] = {name: visit.form.get(name, "") for name in ("first_name", "last_name", "email")}
    data.update(role=visit.form.get("role", "agent"), queues=lists.get("queues", []))
    data["language"] = visit.form.get("language") or settings().desk.default_language
    data.update({name: visit.form[name] for name in (*OPTIONAL, "slack_webhook") if visit.form.get(name, "").strip()})
    try:
        agent = staff.create_agent(**checked(NewAgent, data).model_dump())
    except (BadRequest, Conflict) as error:
        return listing(visit, {**data, "slack_webhook": ""}, str(error), error.status)
    log.info("agent created in the console", agent_id=agent.agent_id, by=visit.agent.agent_id)
    return console_response("", location=web.url(f"/agents/{agent.agent_id}?done=created"))


# --- one agent ---------------------------------------------------------------------------------
def show(
    visit: web.Visit, agent_id: str, error: str | None = None, status: int = 200, typed: dict[str, Any] | None = None
) -> Response:
    """GET /console/agents/{id}: one agent's settings and tokens (admins)."""
    staff.may_manage(visit.signed.actor)
    agent = staff.get_agent(agent_id)
    held = tokens.held_for(visit.signed.actor, agent_id)
    zone = stamps.zone_of(visit.agent)
    context = {
        "person": agent,
        "typed": typed or _as_typed(agent),
        "tokens": token_rows(agent, held, zone, visit.language),
        "holder_id": agent_id,
        "back": f"/console/agents/{agent_id}",
        "done": done(visit) if status == 200 else "",
        "error": error,
        "desk_zone": settings().desk.timezone,
        **choices(),
    }
    return visit.page("agent", context, status, section="agents")


def save(visit: web.Visit, agent_id: str) -> Response:
    """POST /console/agents/{id}: the agent's settings as the form holds them (admins)."""
    staff.may_manage(visit.signed.actor)
    lists = web.read_form_lists(visit.request)
    form = visit.form
    data: dict[str, Any] = {
        "role": form.get("role", ""),
        "queues": lists.get("queues", []),
        "language": form.get("language", ""),
        "timezone": form.get("timezone", "").strip() or None,
        **{name: form.get(name, "").strip() or None for name in OPTIONAL},
    }
    if form.get("slack_webhook_remove"):
        data["slack_webhook"] = None
    elif form.get("slack_webhook", "").strip():
        data["slack_webhook"] = form["slack_webhook"]
    try:
        changes = checked(AgentChanges, data).model_dump(exclude_unset=True)
        agent = staff.get_agent(agent_id)
        staff.update_agent(agent_id, {name: value for name, value in changes.items() if getattr(agent, name) != value})
    except (BadRequest, Conflict) as error:
        return show(visit, agent_id, str(error), error.status, {**data, "slack_webhook": ""})
    log.info("agent changed in the console", agent_id=agent_id, by=visit.agent.agent_id)
    return console_response("", location=web.url(f"/agents/{agent_id}?done=saved"))


def set_active(visit: web.Visit, agent_id: str) -> Response:
    """POST /console/agents/{id}/active: deactivate (`active=false`) or reactivate (admins)."""
    staff.may_manage(visit.signed.actor)
    active = checked(AgentChanges, {"active": visit.form.get("active", "")}).active
    try:
        staff.update_agent(agent_id, {"active": active})
    except Conflict as error:  # the desk's last active admin
        return show(visit, agent_id, str(error), error.status)
    log.info("agent activation changed in the console", agent_id=agent_id, active=active, by=visit.agent.agent_id)
    return console_response("", location=web.url(f"/agents/{agent_id}?done={'activated' if active else 'deactivated'}"))


def _as_typed(agent: Agent) -> dict[str, Any]:
    return {
        "role": agent.role,
        "queues": list(agent.queues or ()),
        "language": agent.language,
        "timezone": agent.timezone or "",
        "alert_email": agent.alert_email or "",
        "telegram_chat": agent.telegram_chat or "",
        "slack_webhook": "",  # never shown back: whoever holds the URL can post to the channel
    }


# --- tokens --------------------------------------------------------------------------------------
def issue_token(visit: web.Visit, agent_id: str) -> Response:
    """POST /console/agents/{id}/tokens: a new API token, shown on the answer once."""
    issued = tokens.issue_by(visit.signed.actor, agent_id)
    holder = staff.get_agent(agent_id)
    context = {
        "holder": holder,
        "token": issued.token,
        "token_id": issued.token_id,
        "expires": stamps.moment(issued.expires_at, stamps.zone_of(visit.agent), visit.language),
        "back_url": web.url(_back(visit, agent_id)[len("/console") :]),
    }
    return visit.page("token_issued", context, section="me" if agent_id == visit.agent.agent_id else "agents")


def revoke_token(visit: web.Visit, token_id: str) -> Response:
    """POST /console/tokens/{token_id}/revoke: the token stops working (401) at once."""
    owner = tokens.revoke_by(visit.signed.actor, token_id)
    log.info("token revoked in the console", token_id=token_id, holder=owner, by=visit.agent.agent_id)
    return console_response("", location=web.url(_back(visit, owner)[len("/console") :] + "?done=revoked"))


def _back(visit: web.Visit, holder: str) -> str:
    """The page the token form was on (its `next`), else the holder's page (your own: /console/me)."""
    fallback = "/console/me" if holder == visit.agent.agent_id else f"/console/agents/{holder}"
    return (web.safe_next(visit.form.get("next")) or fallback).split("?")[0]


def token_rows(holder: Agent, records: list[Key], tz: str, language: str) -> list[dict[str, Any]]:
    """A token list as a person reads it: its id, who issued it (the holder, or an admin by name:
    one BatchGetItem, only when someone else issued one), when, until when, its last use."""
    now = clock.now()
    others = sorted({record.issued_by for record in records if record.issued_by not in (None, holder.agent_id)})
    names = {agent.agent_id: agent.full_name for agent in Agent.batch_get(others)} if others else {}
    return [
        {
            "id": tokens.token_id_of(record),
            "by_holder": record.issued_by == holder.agent_id,
            "issued_by": names.get(record.issued_by or "", record.issued_by or ""),
            "issued_at": stamps.moment(record.issued_at, tz, language),
            "expires_at": stamps.moment(record.until, tz, language),
            "last_used_at": stamps.moment(record.last_used_at, tz, language),
            "expired": record.until is not None and record.until <= now,
        }
        for record in records
    ]


def done(visit: web.Visit) -> str:
    """What the POST before this page did (`?done=`), when it is one the page confirms."""
    said = visit.query.get("done", "")
    return said if said in DONE else ""


# --- what the forms offer ------------------------------------------------------------------------
def choices() -> dict[str, Any]:
    """The roles, the desk's queues (by name) and languages (in their own words) the forms offer."""
    desk = settings()
    return {
        "roles": ROLES,
        "queue_names": {key: queue.name for key, queue in desk.queues.items()},
        "languages": {code: stamps.language_name(code) for code in desk.desk.languages},
    }


def _summary(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.agent_id,
        "name": agent.full_name,
        "email": agent.email,
        "role": agent.role,
        "queues": list(agent.queues or ()),
        "language": agent.language,
        "timezone": agent.timezone or "",
        "active": bool(agent.active),
    }
