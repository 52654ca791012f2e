"""The ticket store: the one place a ticket is written. A change to a ticket, the messages and
events it adds, its facts for the digest and the agents' load counters go in one transaction
with the ticket's version check, so a ticket someone else changed meanwhile is never
overwritten — the writer gets a 409 and reloads.

Agents' actions (agents/work.py), the customer's answers (feedback/) and the SLA watch all
write through here; none of them writes through another.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import clock, facts, lifecycle, writes
from chalicelib.config import settings
from chalicelib.errors import Conflict, WriteRefused
from chalicelib.facts import fact
from chalicelib.models import Agent, Message, Ticket


class Changed(Conflict):
    """The ticket's version moved between the read and the write (or another transaction was
    writing it that moment): the action may be tried again on a fresh read."""


def new_message_id() -> str:
    return f"M-{secrets.token_hex(8)}"


def message(ticket: Ticket, now: datetime, *, message_id: str | None = None, **fields: Any) -> Message:
    """A new entry of the ticket's conversation (not yet saved), under a fresh message id (or
    `message_id`, chosen before: an answer's files are copied under it before it is written)."""
    message_id = message_id or new_message_id()
    return Message(
        ticket.ticket_id,
        f"{clock.iso(now)}#{message_id}",
        message_id=message_id,
        channel=ticket.channel,
        created_at=now,
        **fields,
    )


def event(
    ticket: Ticket, now: datetime, author: str, body: str, *, kind: str | None = None, author_name: str | None = None
) -> Message:
    """An entry of the audit trail: who (an agent's id, or routing, the SLA watch, the customer)
    did what; `kind` defaults to the author; `author_name` is an agent author's name."""
    return message(
        ticket, now, direction="event", kind=kind or author, author=author, author_name=author_name, body=body
    )


def hand_to(ticket: Ticket, agent_id: str, name: str) -> None:
    """The ticket's owner from now on, with their name beside the id: the console's queue rows
    show it without reading the agents (a renamed agent's old name stays until the next hand)."""
    ticket.assignee = agent_id
    ticket.assignee_name = name


def commit(ticket: Ticket, records: list[Model], load: dict[str, int] | None = None) -> None:
    """Ticket (version-checked), its new records and agents' load counters, all or nothing;
    a ticket someone else changed meanwhile is a 409 — reload and try again. Every write here
    leaves the ticket's sparse index keys in step with it (its owner may have changed)."""
    try:
        with writes.transaction() as transaction:
            save_in(transaction, ticket, records, load)
    except WriteRefused:  # changed, or changing right now
        raise Changed("the ticket changed while you were acting on it; reload and try again") from None


def save_in(
    transaction: TransactWrite,
    ticket: Ticket,
    records: list[Model],
    load: dict[str, int] | None = None,
    condition: Condition | None = None,
) -> None:
    """`commit`'s writes, queued on a transaction the caller writes with more of its own (the
    acknowledgement's record carries routing's offer, agents/work.py RidingOffer): the ticket
    version-checked (and `condition`), its records, the load counters. A refusal is the caller's."""
    lifecycle.refresh_index(ticket)
    transaction.save(ticket, condition=condition)
    for record in records:
        transaction.save(record)
    for agent_id, delta in (load or {}).items():
        if delta:
            transaction.update(Agent(agent_id), actions=[Agent.open_load.add(delta)], condition=Agent.agent_id.exists())


def commit_status(
    ticket: Ticket, now: datetime, *, author: str, kind: str, body: str, was_live: bool, before: str | None = None
) -> None:
    """Save a ticket whose status changed, with its event and its fact (solved, closed,
    reopened), keeping the owner's load right."""
    load = {}
    if ticket.assignee and was_live != (ticket.status in lifecycle.LIVE):
        load = {ticket.assignee: 1 if ticket.status in lifecycle.LIVE else -1}
    records: list[Model] = [event(ticket, now, author, body, kind=kind)]
    desk = settings()
    if ticket.status == "solved":
        kind, data = facts.timed(
            "solved", agent=ticket.assignee or author, start=ticket.created_at, due=ticket.resolution_due, now=now
        )
        records.append(fact(desk, ticket, kind, now, data))
    elif ticket.status == "closed":
        records.append(fact(desk, ticket, "closed", now, {}))
    elif before == "solved":
        records.append(fact(desk, ticket, "reopened", now, {}))
    commit(ticket, records, load=load)


def reindex_live() -> int:
    """Give every live ticket its current index keys and owner's name: once, by an operator,
    after a release that changes what the keys hold (`tools.create_admin --reindex-leaders`).
    Reads the live tickets a queue at a time (by_queue holds whole tickets: no Scan of history,
    no GetItem each); a ticket changed meanwhile (a version conflict) got them from that write.
    Returns how many were rewritten."""
    names = {agent.agent_id: agent.full_name for agent in Agent.scan()}
    done = 0
    for queue in settings().queues:
        for ticket in list(Ticket.by_queue.query(queue)):  # read first: the writes move the keys read
            if ticket.assignee and not ticket.assignee_name:
                ticket.assignee_name = names.get(ticket.assignee)
            try:
                commit(ticket, [])
            except Conflict:
                continue
            done += 1
    return done
