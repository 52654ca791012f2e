"""A queue's duty roster for one week, read and saved on one page (leads and admins):
GET /console/roster?queue=<queue>&week=<ISO week>, POST /console/roster.

A roster is what staff.py keeps and the API's `GET/PUT /api/rosters/{queue}/{week}` reads and
writes: the ordered list of who is on duty in the queue that week (`roster#<queue>#<week>`). New
tickets go to the on-duty agent with the fewest open tickets, and between equals to the one
listed first (agents/duty.py); so the page shows each agent of the queue with an "on duty" box
and their place in the order, and their open tickets now. Saving goes through
staff.set_roster after staff.may_set_roster, the API's own calls: the same checks (a lead or admin; each agent works the
queue), the same refusals.

The page lists the desk's agents with staff.listed_for (a Scan of the small agents table, as the
API's people list does) and reads the roster with one GetItem.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from chalice.app import Response

from chalicelib import clock, log
from chalicelib.agents import staff
from chalicelib.config import settings
from chalicelib.console import stamps, web
from chalicelib.errors import BadRequest
from chalicelib.http import console_response
from chalicelib.models import Agent


def show(visit: web.Visit) -> Response:
    """GET /console/roster: the roster of a queue (the desk's first by default) for a week (this one)."""
    staff.may_set_roster(visit.signed.actor)  # an editor's page: an agent reads the API's roster
    queue = visit.query.get("queue") or next(iter(settings().queues), "")
    week = visit.query.get("week") or staff.week_of(clock.now())
    on_duty = staff.roster_for(visit.signed.actor, queue, week)  # checks the queue and the week
    people = staff.listed_for(visit.signed.actor)
    return visit.page("roster", _context(visit, queue, week, on_duty, people), section="roster")


def save(visit: web.Visit) -> Response:
    """POST /console/roster: the week's roster as ticked and ordered; 303 back to the page."""
    staff.may_set_roster(visit.signed.actor)
    fields = web.read_form_lists(visit.request)
    queue, week = visit.form.get("queue", ""), visit.form.get("week", "")
    ticked = list(dict.fromkeys(agent_id for agent_id in fields.get("on", []) if agent_id))
    ranked = sorted(
        ticked, key=lambda agent_id: (_rank(visit.form.get(f"rank.{agent_id}", "")), ticked.index(agent_id))
    )
    saved = staff.set_roster(queue, week, ranked)
    log.info("roster saved in the console", queue=queue, week=week, agents=len(saved))
    return console_response("", location=page_url(queue, week, saved=True))


def page_url(queue: str, week: str, *, saved: bool = False) -> str:
    query = {"queue": queue, "week": week, **({"saved": "1"} if saved else {})}
    return web.url("/roster?" + urlencode(query))


def _rank(typed: str) -> float:
    """A typed place in the order; blank or not a number goes last (in the page's order)."""
    text = typed.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else math.inf


def week_start(week: str) -> date:
    """The Monday of an ISO week ("2026-W48" → 2026-11-23)."""
    year, number = week.split("-W")
    if not 2000 <= int(year) <= 2999:  # a roster is for a week people work, and its neighbours exist
        raise BadRequest(f"{week} is not a week the desk keeps rosters for", field="week")
    try:
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:  # W53 of a year that has 52
        raise BadRequest(f"{week} is not a week of {year}", field="week") from None


def shifted(week: str, weeks: int) -> str:
    """The ISO week `weeks` after `week` (before, when negative)."""
    year, number, _ = (week_start(week) + timedelta(weeks=weeks)).isocalendar()
    return f"{year}-W{number:02d}"


def _context(visit: web.Visit, queue: str, week: str, on_duty: list[str], people: list[Agent]) -> dict[str, Any]:
    by_id = {agent.agent_id: agent for agent in people}
    works = [agent for agent in people if queue in (agent.queues or ()) and agent.active]
    rows = [_row(by_id.get(agent_id), agent_id, queue, place) for place, agent_id in enumerate(on_duty, 1)]
    rows += [_row(agent, agent.agent_id, queue, None) for agent in works if agent.agent_id not in on_duty]
    monday = week_start(week)
    return {
        "queue": queue,
        "queues": {key: desk_queue.name for key, desk_queue in settings().queues.items()},
        "week": week,
        "first_day": stamps.day(monday, visit.language),
        "last_day": stamps.day(monday + timedelta(days=6), visit.language),
        "this_week": staff.week_of(clock.now()),
        "previous_url": page_url(queue, shifted(week, -1)),
        "next_url": page_url(queue, shifted(week, 1)),
        "queue_urls": {name: page_url(name, week) for name in settings().queues},
        "rows": rows,
        "saved": visit.query.get("saved") == "1",
    }


def _row(agent: Agent | None, agent_id: str, queue: str, place: int | None) -> dict[str, Any]:
    """One agent's line: on duty (and where in the order), their open tickets, and whether they
    can take tickets at all (deactivated, or no longer in the queue: still listed, to take off)."""
    return {
        "id": agent_id,
        "name": agent.full_name if agent else agent_id,
        "on": place is not None,
        "place": place or "",
        "load": int(agent.open_load or 0) if agent else 0,
        "active": bool(agent and agent.active),
        "works_queue": bool(agent and queue in (agent.queues or ())),
    }
