"""What a job already read: the items it fetched up front in one consistent BatchGetItem, so the
functions it calls need not each GetItem their own. One call reads across tables: a new ticket's
job asks for the ticket itself with the keys-table items it names (new_ticket.py), routing's
offer for the agents on duty with the markers of the notices it may send them (agents/offers.py),
an answer's job for the ticket, the answer, its author and the keys of its destinations
(replies.py). A function given one uses it only for what it asked for: an item asked and not found
does not exist, an item not asked is read as ever. Callers without one (an SLA alert, the old "ack"
and "offer" jobs) pass nothing and read for themselves.

Read strongly consistently, since some of these decide a send (`sent#` markers, the ticket's
`ack_state`); it lives for one try of one job, so a retried job reads again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pynamodb.models import Model

from chalicelib import models, transient
from chalicelib.models import Agent, Key, Message, Ticket

BATCH = 100  # DynamoDB's most keys in one BatchGetItem
UNREAD_ROUNDS = 6  # asking again for keys DynamoDB left unread (throttled), before the job is retried
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class AlreadyRead:
    """The keys-table items asked for and those of them that exist; the agents likewise; and the
    ticket and message asked for, if any."""

    asked: frozenset[str] = frozenset()
    found: Mapping[str, Key] = field(default_factory=dict)
    agents_asked: frozenset[str] = frozenset()
    agents: Mapping[str, Agent] = field(default_factory=dict)
    ticket: Ticket | None = None
    message: Message | None = None

    def knows(self, key: str) -> bool:
        """Whether `key` was asked for: then `item` is the answer, with no read."""
        return key in self.asked

    def item(self, key: str) -> Key | None:
        """The item of `key` as read (None: it does not exist, or it was not asked for)."""
        return self.found.get(key)

    def knows_agents(self, agent_ids: Iterable[str]) -> bool:
        """Whether every one of `agent_ids` was asked for: then `agents_of` answers, with no read."""
        return set(agent_ids) <= self.agents_asked

    def agents_of(self, agent_ids: Iterable[str]) -> list[Agent]:
        """Those of `agent_ids` that exist, as read."""
        return [self.agents[agent_id] for agent_id in agent_ids if agent_id in self.agents]

    def plus(self, more: AlreadyRead) -> AlreadyRead:
        """What both reads read (a later read's answer wins for an item both asked for)."""
        return AlreadyRead(
            self.asked | more.asked,
            {**{key: item for key, item in self.found.items() if key not in more.asked}, **more.found},
            self.agents_asked | more.agents_asked,
            {
                **{agent_id: a for agent_id, a in self.agents.items() if agent_id not in more.agents_asked},
                **more.agents,
            },
            more.ticket if more.ticket is not None else self.ticket,
            more.message if more.message is not None else self.message,
        )


NOTHING = AlreadyRead()  # read for yourself


def read(
    wanted: Iterable[str],
    *,
    ticket_id: str | None = None,
    message: tuple[str, str] | None = None,
    agents: Iterable[str] = (),
) -> AlreadyRead:
    """`wanted` keys, the ticket `ticket_id`, the `message` (ticket id, message key) and the
    `agents`, in one consistent BatchGetItem (split past 100 keys; keys DynamoDB leaves unread are
    asked again). The ticket or message asked for and not found raise their DoesNotExist."""
    asked, agents_asked = frozenset(wanted), frozenset(agents)
    if not (asked or agents_asked or ticket_id or message):
        return NOTHING
    requests: list[tuple[type[Model], dict[str, Any]]] = [
        *((Key, {"key": {"S": key}}) for key in sorted(asked)),
        *((Agent, {"agent_id": {"S": agent_id}}) for agent_id in sorted(agents_asked)),
        *([(Ticket, {"ticket_id": {"S": ticket_id}})] if ticket_id else []),
        *([(Message, {"ticket_id": {"S": message[0]}, "message_key": {"S": message[1]}})] if message else []),
    ]
    items = _batch_get(requests)
    ticket = _one(items, Ticket) if ticket_id else None
    answer = _one(items, Message) if message else None
    return AlreadyRead(
        asked,
        {item.key: item for item in _all(items, Key)},
        agents_asked,
        {agent.agent_id: agent for agent in _all(items, Agent)},
        ticket,
        answer,
    )


def _batch_get(requests: list[tuple[type[Model], dict[str, Any]]]) -> dict[type[Model], list[dict[str, Any]]]:
    """The raw items of `requests` (model, key), however many calls and rounds they take."""
    by_table = {model.Meta.table_name: model for model, _ in requests}
    out: dict[type[Model], list[dict[str, Any]]] = {model: [] for model in by_table.values()}
    pending, rounds = list(requests), 0
    while pending:
        chunk, pending = pending[:BATCH], pending[BATCH:]
        asking: dict[str, dict[str, Any]] = {}
        for model, key in chunk:
            asking.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        answer = models.connection().dispatch("BatchGetItem", {"RequestItems": asking})
        for table, raw in answer.get("Responses", {}).items():
            out[by_table[table]] += raw
        unread = [
            (by_table[table], key) for table, rest in answer.get("UnprocessedKeys", {}).items() for key in rest["Keys"]
        ]
        if unread:
            rounds += 1
            if rounds > UNREAD_ROUNDS:
                raise transient.TransientError(f"DynamoDB left {len(unread)} keys unread")
            transient.pause(min(transient.FIRST_PAUSE * 2**rounds, transient.MAX_PAUSE))
            pending += unread
    return out


def _all(items: dict[type[Model], list[dict[str, Any]]], model: type[M]) -> list[M]:
    return [model.from_raw_data(raw) for raw in items.get(model, [])]


def _one(items: dict[type[Model], list[dict[str, Any]]], model: type[M]) -> M:
    found = _all(items, model)
    if not found:
        raise model.DoesNotExist()
    return found[0]
