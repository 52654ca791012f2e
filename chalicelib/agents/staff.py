"""The desk's people: agents and their roles, queues and alert addresses; weekly duty rosters.

Lookups kept beside the agents, so hot and scheduled paths need no Scan of the agents table:
- `staff#leaders`: the active admins and leads (the morning digest's readers), a string set
  changed by ADD/DELETE in the same transaction as the agent item;
- `leads#<queue>`: a queue's leads (the SLA watch escalates to them).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.agents.access import ROLES
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import Agent, Key

LEADER_ROLES = ("lead", "admin")
LEADERS_KEY = "staff#leaders"


def create_agent(*, first_name: str, last_name: str, email: str, role: str, queues: list[str],
                 language: str = "en", alert_email: str | None = None, slack_webhook: str | None = None,
                 telegram_chat: str | None = None) -> Agent:
    _check_role(role)
    _check_queues(queues)
    agent = Agent(f"A-{secrets.token_hex(5)}", first_name=first_name, last_name=last_name, email=email.lower(),
                  role=role, queues=queues, language=language, alert_email=alert_email or email.lower(),
                  slack_webhook=slack_webhook, telegram_chat=telegram_chat, created_at=clock.now())
    _commit(agent, False, lambda transaction: transaction.save(agent, condition=Agent.agent_id.does_not_exist()))
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
    if not changes:
        return agent
    was_leader, unchanged = is_leader(agent), _as_read(agent)
    was_lead_of = list(agent.queues) if agent.role == "lead" and agent.active else []
    for name, value in changes.items():
        setattr(agent, name, value)
    # Only the changed attributes: a full save would undo a concurrent open_load counter update.
    actions = [_assign(name, value) for name, value in changes.items()]
    _commit(agent, was_leader, lambda transaction: transaction.update(agent, actions=actions, condition=unchanged))
    now_lead_of = list(agent.queues) if agent.role == "lead" and agent.active else []
    _index_leads(agent, now_lead_of, dropped=[q for q in was_lead_of if q not in now_lead_of])
    return agent


def is_leader(agent: Agent) -> bool:
    return agent.role in LEADER_ROLES and bool(agent.active)


def leaders() -> list[str]:
    """The active admins and leads (one GetItem: the morning digest goes to them)."""
    try:
        return sorted(Key.get(LEADERS_KEY).members or ())
    except Key.DoesNotExist:
        return []


def reindex_leaders() -> list[str]:
    """Rebuild `staff#leaders` from every agent: once, by an operator, on a stage whose agents
    predate the key (a Scan, with the operator's credentials). An agent edited meanwhile fails
    its condition and is skipped: that edit already wrote their membership."""
    for agent in Agent.scan():
        try:
            with TransactWrite(connection=models.connection()) as transaction:
                transaction.condition_check(Agent, agent.agent_id, condition=_as_read(agent))
                transaction.update(Key(LEADERS_KEY), actions=[_membership(agent)])
        except TransactWriteError as error:
            if "ConditionalCheckFailed" not in _reasons(error):
                raise
    return leaders()


def _commit(agent: Agent, was_leader: bool, write: Callable[[TransactWrite], None]) -> None:
    """The agent's write and, when they are or were a leader, their `staff#leaders` membership
    from the state written, all or nothing: the key never disagrees with the agent items."""
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            write(transaction)
            if was_leader or is_leader(agent):
                transaction.update(Key(LEADERS_KEY), actions=[_membership(agent)])
    except TransactWriteError as error:
        if {"ConditionalCheckFailed", "TransactionConflict"} & _reasons(error):
            raise Conflict(f"agent {agent.agent_id} changed meanwhile; reload and try again") from None
        raise


def _as_read(agent: Agent) -> Condition:
    """What membership depends on is still what was read: two edits of one agent (a demotion and
    a reactivation) cannot each write a membership the other made wrong."""
    return (Agent.role == agent.role) & (Agent.active == bool(agent.active))


def _membership(agent: Agent) -> Action:
    members = {agent.agent_id}
    return Key.members.add(members) if is_leader(agent) else Key.members.delete(members)


def _assign(name: str, value: object) -> Action:
    attribute = getattr(Agent, name)
    return attribute.remove() if value is None else attribute.set(value)


def _reasons(error: TransactWriteError) -> set[str]:
    return {str(getattr(reason, "code", "")) for reason in error.cancellation_reasons or []}


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
