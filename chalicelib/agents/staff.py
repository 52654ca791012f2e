"""The desk's people: agents and their roles, queues and alert addresses; weekly duty rosters."""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.agents.access import ROLES
from chalicelib.config import settings
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import Agent, Key


def create_agent(*, first_name: str, last_name: str, email: str, role: str, queues: list[str],
                 language: str = "en", alert_email: str | None = None, slack_webhook: str | None = None,
                 telegram_chat: str | None = None) -> Agent:
    _check_role(role)
    _check_queues(queues)
    agent = Agent(f"A-{secrets.token_hex(5)}", first_name=first_name, last_name=last_name, email=email.lower(),
                  role=role, queues=queues, language=language, alert_email=alert_email or email.lower(),
                  slack_webhook=slack_webhook, telegram_chat=telegram_chat, created_at=clock.now())
    agent.save(condition=Agent.agent_id.does_not_exist())
    _index_leads(agent, queues if role == "lead" else [])
    return agent


def get_agent(agent_id: str) -> Agent:
    try:
        return Agent.get(agent_id)
    except Agent.DoesNotExist:
        raise NotFound(f"no agent {agent_id}") from None


def all_agents() -> list[Agent]:
    """Every agent (a Scan: the agents table is small and this is an admin listing)."""
    return sorted(Agent.scan(), key=lambda agent: (agent.last_name, agent.first_name))


def update_agent(agent_id: str, changes: dict[str, object]) -> Agent:
    agent = get_agent(agent_id)
    if "role" in changes:
        _check_role(str(changes["role"]))
    if "queues" in changes:
        _check_queues(list(changes["queues"]))  # type: ignore[call-overload]
    was_lead_of = list(agent.queues) if agent.role == "lead" and agent.active else []
    for name, value in changes.items():
        setattr(agent, name, value)
    agent.save()
    now_lead_of = list(agent.queues) if agent.role == "lead" and agent.active else []
    _index_leads(agent, now_lead_of, dropped=[q for q in was_lead_of if q not in now_lead_of])
    return agent


def leads_of(queue: str) -> list[str]:
    """The queue's leads (one GetItem: the SLA watch escalates to them every minute)."""
    try:
        return list((Key.get(f"leads#{queue}").data or {}).get("agents", []))
    except Key.DoesNotExist:
        return []


def _index_leads(agent: Agent, queues: list[str], dropped: list[str] = ()) -> None:  # type: ignore[assignment]
    for queue in queues:
        leads = leads_of(queue)
        if agent.agent_id not in leads:
            Key(f"leads#{queue}", data={"agents": leads + [agent.agent_id]}).save()
    for queue in dropped:
        Key(f"leads#{queue}", data={"agents": [a for a in leads_of(queue) if a != agent.agent_id]}).save()


def week_of(moment: datetime) -> str:
    """ISO week in the desk's zone, e.g. "2026-W48": rosters change on the desk's Monday."""
    year, week, _ = moment.astimezone(ZoneInfo(settings().desk.timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def roster(queue: str, week: str) -> list[str]:
    _check_queues([queue])
    _check_week(week)
    try:
        return list((Key.get(f"roster#{queue}#{week}").data or {}).get("agents", []))
    except Key.DoesNotExist:
        return []


def set_roster(queue: str, week: str, agent_ids: list[str]) -> list[str]:
    _check_queues([queue])
    _check_week(week)
    for agent_id in agent_ids:
        agent = get_agent(agent_id)
        if queue not in agent.queues:
            raise BadRequest(f"agent {agent_id} does not work the {queue} queue", field="agents")
    Key(f"roster#{queue}#{week}", data={"agents": agent_ids}).save()
    return agent_ids


def on_duty(queue: str, at: datetime) -> list[str]:
    return roster(queue, week_of(at))


def _check_week(week: str) -> None:
    if not re.fullmatch(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])", week):
        raise BadRequest(f"week must look like 2026-W48, not {week!r}", field="week")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", field="role")


def _check_queues(queues: list[str]) -> None:
    known = settings().queues
    unknown = [queue for queue in queues if queue not in known]
    if unknown:
        raise BadRequest(f"unknown queue {unknown[0]!r}; the desk has {', '.join(known)}", field="queues")
