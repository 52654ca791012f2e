"""Who may do what. Agents work their queues; leads and admins see every queue; only admins
manage people. A ticket outside an agent's queues is reported as not found (404), so its
existence does not leak."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import Forbidden, NotFound
from chalicelib.models import Agent, Ticket

ROLES = ("agent", "lead", "admin")
MAX_ID = 64  # no reference or id we make is longer


@dataclass(frozen=True)
class Actor:
    agent_id: str
    role: str
    queues: tuple[str, ...]
    name: str

    @classmethod
    def of(cls, agent: Agent) -> Actor:
        return cls(agent.agent_id, agent.role, tuple(agent.queues or ()), agent.full_name)

    @property
    def sees_all(self) -> bool:
        return self.role in ("lead", "admin")


def require(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}; you are {actor.role}")


def visible_ticket(actor: Actor, ticket_id: str, *, consistent: bool = False) -> Ticket:
    """The ticket if the actor may see it; another queue's is the same 404 as none. `consistent`:
    read what the last write left (an action about to write it, a page shown right after one)."""
    try:
        ticket = Ticket.get(ticket_id, consistent_read=consistent)
    except Ticket.DoesNotExist:
        raise NotFound(f"no ticket {ticket_id}") from None
    if not may_see(actor, ticket):
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def may_see(actor: Actor, ticket: Ticket) -> bool:
    """Whether the actor may see a ticket already read (a list found by another key: search)."""
    return actor.sees_all or ticket.queue in actor.queues


def visible_queues(actor: Actor, wanted: str | None, all_queues: tuple[str, ...]) -> tuple[str, ...]:
    mine = all_queues if actor.sees_all else actor.queues
    if wanted is None:
        return tuple(mine)
    if wanted not in mine:
        raise NotFound(f"no queue {wanted} among yours")
    return (wanted,)


def visible_queue(actor: Actor, queue: str) -> str:
    """A queue the actor works (any queue, for leads and admins). Another queue is a 404, worded
    like a queue that does not exist: who is on duty where is the queue's people's business."""
    if not actor.sees_all and queue not in actor.queues:
        raise NotFound(f"no queue {queue} among yours")
    return queue
