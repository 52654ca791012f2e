"""Choosing who on duty takes a ticket: the active agent of the queue's roster this week who
works the queue and has the fewest open tickets; between equals, the one listed first in the
roster. Routing's offer of a new ticket and the SLA watch's reassignment on breach both ask here.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.agents import staff
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.models import Agent


def least_loaded(
    queue: str, now: datetime, *, excluding: str | None = None, read: AlreadyRead = NOTHING
) -> Agent | None:
    """The on-duty agent of `queue` to give a ticket to (not `excluding`, its current owner);
    None when the roster is empty or nobody on it can take it. `read`: the job read the roster,
    and maybe the agents on it."""
    on_duty = staff.on_duty(queue, now, read)
    candidates = [
        agent
        for agent in (read.agents_of(on_duty) if read.knows_agents(on_duty) else Agent.batch_get(on_duty))
        if agent.active and agent.agent_id != excluding and queue in agent.queues
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (int(agent.open_load or 0), on_duty.index(agent.agent_id)))
