"""The desk's people: agents and their roles, queues and alert addresses; weekly duty rosters.

Lookups kept beside the agents, so hot and scheduled paths need no Scan of the agents table:
- `staff#leaders`: the active admins and leads (the morning digest's readers);
- `leads#<queue>`: a queue's active leads (the SLA watch escalates to them, bad ratings reach them);
- `staff#admins`: the active admins. A write that takes one away carries the condition that
  another stays, so two admins demoting each other at once cannot leave the desk with none;
- `agentemail#<address>`: who signs in to the console with the address (written with the new
  agent, on the condition that no other agent has it: an address is one person's).
Each is a string set changed by ADD/DELETE of one id in the same transaction as the agent item,
so two edits at once never lose each other's membership.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from pynamodb.attributes import Attribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, keys, log, writes
from chalicelib.agents.access import ROLES, Actor, require, visible_queue
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.config import settings
from chalicelib.errors import BadRequest, ConditionFailed, Conflict, NotFound, WriteRefused
from chalicelib.models import Agent, Key

LEADER_ROLES = ("lead", "admin")
PREFERENCES = frozenset({"language", "timezone", "shortcuts"})  # what an agent sets for themselves


def create_agent(
    *,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    queues: list[str],
    language: str = "en",
    alert_email: str | None = None,
    slack_webhook: str | None = None,
    telegram_chat: str | None = None,
) -> Agent:
    _check_role(role)
    _check_queues(queues)
    _check_language(language)
    agent = Agent(
        f"A-{secrets.token_hex(5)}",
        first_name=first_name,
        last_name=last_name,
        email=email.lower(),
        role=role,
        queues=queues,
        language=language,
        alert_email=alert_email or email.lower(),
        slack_webhook=slack_webhook,
        telegram_chat=telegram_chat,
        created_at=clock.now(),
    )
    sign_in = Key(keys.agent_email(agent.email), owner=agent.agent_id)

    def write(transaction: TransactWrite) -> None:
        transaction.save(agent, condition=Agent.agent_id.does_not_exist())
        transaction.save(sign_in, condition=Key.key.does_not_exist())

    try:
        _commit(agent, Before(), write)
    except Conflict:
        raise Conflict("another agent already signs in with this email address") from None
    return agent


def agent_by_email(email: str) -> Agent | None:
    """The agent who signs in with `email` (two GetItems, no Scan), or None."""
    try:
        agent_id = Key.get(keys.agent_email(email)).owner or ""
        return Agent.get(agent_id)
    except (Key.DoesNotExist, Agent.DoesNotExist):
        return None


def reindex_emails() -> int:
    """Write the `agentemail#<address>` key of every agent: once, by an operator, on a stage whose
    agents predate the console (a Scan of the agents table, with the operator's credentials).
    Never moves a key from one agent to another: two agents sharing an address (possible before
    the key existed) keep whichever holds it, the active one first, and the other is logged."""
    agents = sorted(Agent.scan(), key=lambda agent: (not agent.active, agent.created_at))
    for agent in agents:
        row = Key(keys.agent_email(agent.email), owner=agent.agent_id)
        if not writes.put_if(row, Key.key.does_not_exist() | (Key.owner == agent.agent_id)):
            log.warning("sign-in key kept by another agent with the same address", agent_id=agent.agent_id)
    return len(agents)


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
    if "language" in changes:
        _check_language(str(changes["language"]))
    if not changes:
        return agent
    before, unchanged = Before(is_leader(agent), lead_of(agent), is_admin(agent)), _as_read(agent)
    for name, value in changes.items():
        setattr(agent, name, value)
    # Only the changed attributes: a full save would undo a concurrent open_load counter update.
    actions = [_assign(name, value) for name, value in changes.items()]
    _commit(agent, before, lambda transaction: transaction.update(agent, actions=actions, condition=unchanged))
    return agent


# --- who may: the rules the JSON API and the console both call -------------------------------------
# A guard runs before the request's fields are read, so a refusal for the role is a 403 whatever
# was sent (the API has always answered so).
def may_list(actor: Actor) -> None:
    """Leads and admins see the desk's people."""
    require(actor, *LEADER_ROLES)


def may_manage(actor: Actor) -> None:
    """Only admins create agents and change them (role, queues, alerts, deactivation)."""
    require(actor, "admin")


def may_set_roster(actor: Actor) -> None:
    """Leads and admins set who is on duty."""
    require(actor, *LEADER_ROLES)


def listed_for(actor: Actor) -> list[Agent]:
    """Every agent, for a lead or an admin (GET /api/agents, the console's people page)."""
    may_list(actor)
    return all_agents()


def set_preferences(actor: Actor, changes: dict[str, object]) -> Agent:
    """The actor's own language, time zone and shortcuts switch (agents.fields.Preferences):
    anyone may set these for themselves, and nothing else of their own."""
    unknown = sorted(set(changes) - PREFERENCES)
    if unknown:
        raise BadRequest(f"{unknown[0]} is not yours to change; an admin changes it", field=unknown[0])
    return update_agent(actor.agent_id, changes)


def roster_for(actor: Actor, queue: str, week: str) -> list[str]:
    """Who is on duty in `queue` that week, for anyone who works the queue (leads: any queue)."""
    visible_queue(actor, queue)
    return roster(queue, week)


class Before(NamedTuple):
    """What an agent's lookup memberships were before a write (nothing, for a new agent)."""

    leader: bool = False
    lead_of: tuple[str, ...] = ()
    admin: bool = False


def is_leader(agent: Agent) -> bool:
    return agent.role in LEADER_ROLES and bool(agent.active)


def lead_of(agent: Agent) -> tuple[str, ...]:
    """The queues whose `leads#` set this agent belongs in."""
    return tuple(agent.queues) if agent.role == "lead" and agent.active else ()


def leaders() -> list[str]:
    """The active admins and leads (one GetItem: the morning digest goes to them)."""
    try:
        return sorted(Key.get(keys.STAFF_LEADERS).members or ())
    except Key.DoesNotExist:
        return []


def reindex_leaders() -> list[str]:
    """Rebuild `staff#leaders` and the `leads#<queue>` sets from every agent: once, by an
    operator, on a stage whose agents predate these sets (a Scan, with the operator's credentials).
    An agent edited meanwhile fails its condition and is skipped: that edit already wrote their
    membership."""
    for agent in Agent.scan():
        try:
            with writes.transaction() as transaction:
                transaction.condition_check(Agent, agent.agent_id, condition=_as_read(agent))
                everywhere = Before(True, tuple(settings().queues), True)
                _write_memberships(transaction, agent, everywhere)
                _write_admins(transaction, agent, everywhere, keep_one=False)  # the set is being rebuilt
        except ConditionFailed:
            continue
    return leaders()


def _commit(agent: Agent, before: Before, write: Callable[[TransactWrite], None]) -> None:
    """The agent's write and their memberships from the state written, all or nothing: the
    lookup keys never disagree with the agent items."""
    try:
        with writes.transaction() as transaction:
            write(transaction)
            _write_memberships(transaction, agent, before)
            _write_admins(transaction, agent, before)
    except TransactWriteError as error:  # a refusal, or any other failure: the admins' set may say why
        refusal = _admin_refusal(agent, before)
        if refusal:
            raise refusal from None
        if isinstance(error, WriteRefused):
            raise Conflict(f"agent {agent.agent_id} changed meanwhile; reload and try again") from None
        raise


def _write_memberships(transaction: TransactWrite, agent: Agent, before: Before) -> None:
    """ADD or DELETE the agent's id in every set they are or were in."""
    if before.leader or is_leader(agent):
        transaction.update(Key(keys.STAFF_LEADERS), actions=[_membership(agent.agent_id, is_leader(agent))])
    now = lead_of(agent)
    for queue in sorted(set(before.lead_of) | set(now)):
        transaction.update(Key(keys.leads(queue)), actions=[_membership(agent.agent_id, queue in now)])


def _as_read(agent: Agent) -> Condition:
    """What membership depends on is still what was read: two edits of one agent (a demotion and
    a reactivation, two queue changes) cannot each write a membership the other made wrong."""
    read: Condition = (
        (Agent.role == agent.role) & (Agent.active == bool(agent.active)) & (Agent.queues == list(agent.queues))
    )  # typed here: PynamoDB's `&` is unannotated
    return read


def _membership(agent_id: str, member: bool) -> Action:
    return Key.members.add({agent_id}) if member else Key.members.delete({agent_id})


def _assign(name: str, value: object) -> Action:
    attribute: Attribute[object] = getattr(Agent, name)
    return attribute.remove() if value is None else attribute.set(value)


# --- the last active admin ----------------------------------------------------------------------
def is_admin(agent: Agent) -> bool:
    return agent.role == "admin" and bool(agent.active)


def admins(*, consistent: bool = False) -> list[str]:
    """The active admins (one GetItem of `staff#admins`)."""
    try:
        return sorted(Key.get(keys.STAFF_ADMINS, consistent_read=consistent).members or ())
    except Key.DoesNotExist:
        return []


def _write_admins(transaction: TransactWrite, agent: Agent, before: Before, *, keep_one: bool = True) -> None:
    """ADD or DELETE the agent's id in `staff#admins`. Taking an admin away (demoted or
    deactivated) is conditional on the set holding another id, checked by DynamoDB in the same
    transaction: of two admins demoting each other at once, the second write finds one left and
    fails. A check on what we read first would let both pass."""
    if not (before.admin or is_admin(agent)):
        return
    leaving = before.admin and not is_admin(agent)
    more_than_one = size(Key.members) > 1  # type: ignore[no-untyped-call]  # PynamoDB's size() is unannotated
    condition = Key.members.exists() & more_than_one if keep_one and leaving else None
    transaction.update(
        Key(keys.STAFF_ADMINS), actions=[_membership(agent.agent_id, is_admin(agent))], condition=condition
    )


def _admin_refusal(agent: Agent, before: Before) -> Conflict | None:
    """Why a write taking an admin away failed, when `staff#admins` is the reason (read after the
    failure, so the common path pays nothing)."""
    if not before.admin or is_admin(agent):
        return None
    remaining = admins(consistent=True)
    if not remaining:
        return Conflict(
            "the desk's list of admins is not built on this stage yet: an operator runs "
            "`python -m tools.create_admin --reindex-leaders` once, then try again"
        )
    if len(remaining) == 1:
        return Conflict(
            f"{agent.agent_id} is the desk's last active admin: make someone else an admin "
            "first, then demote or deactivate them"
        )
    return None


def leads_of(queue: str) -> list[str]:
    """The queue's leads (one GetItem: the SLA watch escalates to them every minute)."""
    try:
        return sorted(Key.get(keys.leads(queue)).members or ())
    except Key.DoesNotExist:
        return []


def week_of(moment: datetime) -> str:
    """ISO week in the desk's zone, e.g. "2026-W48": rosters change on the desk's Monday."""
    return clock.iso_week(moment, settings().desk.timezone)


def roster(queue: str, week: str) -> list[str]:
    _check_queues([queue])
    _check_week(week)
    try:
        return _agents_of(Key.get(keys.roster(queue, week)))
    except Key.DoesNotExist:
        return []


def _agents_of(roster_item: Key | None) -> list[str]:
    data = (roster_item.data if roster_item is not None else None) or {}
    return list(data.get("agents", []))


def set_roster(queue: str, week: str, agent_ids: list[str]) -> list[str]:
    _check_queues([queue])
    _check_week(week)
    for agent_id in agent_ids:
        agent = get_agent(agent_id)
        if queue not in agent.queues:
            raise BadRequest(f"agent {agent_id} does not work the {queue} queue", field="agents")
    Key(keys.roster(queue, week), data={"agents": agent_ids}).save()
    return agent_ids


def on_duty(queue: str, at: datetime, read: AlreadyRead = NOTHING) -> list[str]:
    """The roster of `queue` for the week of `at` (`read`: the job read it already)."""
    key = keys.roster(queue, week_of(at))
    if read.knows(key):
        return _agents_of(read.item(key))
    return roster(queue, week_of(at))


def _check_week(week: str) -> None:
    if not re.fullmatch(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])", week):
        raise BadRequest(f"week must look like 2026-W48, not {week!r}", field="week")


def _check_language(language: str) -> None:
    spoken = settings().desk.languages
    if language not in spoken:
        raise BadRequest(f"language must be one the desk speaks: {', '.join(spoken)}", field="language")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", field="role")


def _check_queues(queues: list[str]) -> None:
    known = settings().queues
    unknown = [queue for queue in queues if queue not in known]
    if unknown:
        raise BadRequest(f"unknown queue {unknown[0]!r}; the desk has {', '.join(known)}", field="queues")
