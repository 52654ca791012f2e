"""The agent's own page: GET/POST /console/me.

What every agent sets for themselves: the console's language (one the desk speaks), the time zone
its times are shown in (an IANA zone; blank: the desk's), and the single-key shortcuts (off: keys
only ever type; the frame puts `data-shortcuts` on the page's body). Saved through
staff.set_preferences, which lets anyone change those three of their own and nothing else, with
the fields checked by agents.fields.Preferences (the API's models and words).

The page also lists the agent's own API tokens, to issue and revoke (the forms post to the routes
of chalicelib/console/agents_page.py, under the API's rule: your own, or an admin's for anyone).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib import log
from chalicelib.agents import staff, tokens
from chalicelib.agents.fields import Preferences
from chalicelib.config import settings
from chalicelib.console import agents_page, stamps, web
from chalicelib.errors import BadRequest
from chalicelib.http import checked, console_response


def show(
    visit: web.Visit, error: str | None = None, typed: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """GET /console/me: the agent's preferences and tokens."""
    agent = visit.agent
    held = tokens.held_for(visit.signed.actor, agent.agent_id)
    context = {
        "typed": typed
        or {"language": agent.language, "timezone": agent.timezone or "", "shortcuts": bool(agent.shortcuts)},
        "languages": {code: stamps.language_name(code) for code in settings().desk.languages},
        "desk_zone": settings().desk.timezone,
        "tokens": agents_page.token_rows(agent, held, stamps.zone_of(agent), visit.language),
        "holder_id": agent.agent_id,
        "back": "/console/me",
        "done": agents_page.done(visit) if status == 200 else "",
        "error": error,
    }
    return visit.page("me", context, status, section="me")


def save(visit: web.Visit) -> Response:
    """POST /console/me: save the preferences; 303 back to the page (in the new language)."""
    data: dict[str, Any] = {
        "language": visit.form.get("language", ""),
        "timezone": visit.form.get("timezone", "").strip() or None,
        "shortcuts": visit.form.get("shortcuts") == "on",
    }
    try:
        wanted = checked(Preferences, data).model_dump()
        agent = visit.agent
        staff.set_preferences(
            visit.signed.actor, {name: value for name, value in wanted.items() if getattr(agent, name) != value}
        )
    except BadRequest as error:
        return show(visit, str(error), {**data, "timezone": data["timezone"] or ""}, error.status)
    log.info("preferences saved", agent_id=visit.agent.agent_id)
    return console_response("", location=web.url("/me?done=saved"))
