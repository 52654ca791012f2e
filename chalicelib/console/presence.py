"""Who else has a ticket open in the console: "Olena is viewing", "Olena is replying".

Advisory only, as in FreeScout and Help Scout: it tells an agent someone may be answering already,
and never stops anyone (tickets.py's version check is what keeps two writes from colliding).

The browser beats every BEAT_EVERY while a ticket's page is open. A ticket's viewers are one
keys-table row, `presence#<ticket>` (keys.presence), whose `viewers` map holds one entry per agent:
{name, mode, until}. A beat SETs only its own agent's entry by document path (`viewers.#agent`), so
agents beating at once never overwrite each other, and costs one UpdateItem. Why a raw PynamoDB
MapAttribute and not the low-level client: `Key.viewers[agent_id]` already is that document path
(PynamoDB names each part with a placeholder, so any id is safe), and the write goes through
writes.update_if, which the infra tests read to check the function is granted UpdateItem.

DynamoDB cannot SET `viewers.#agent` while `viewers` is missing ("the document path is invalid"),
nor SET `viewers = if_not_exists(…)` and `viewers.#agent` in one expression (the paths overlap).
So a beat first writes its entry on condition that the map exists; only when it does not (the
first beat on the ticket, or after the row expired) does a second call create the map with this
one entry, on condition that it still does not exist. Two agents' first beats racing there: the
loser writes its entry into the map the winner made (a third call, that one time).

The row's TTL (`expires`) moves on with every beat, so it vanishes when nobody beats; DynamoDB
deletes late (often hours, up to days), so readers drop entries whose `until` has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pynamodb.exceptions import UpdateError

from chalicelib import clock, keys, log, writes
from chalicelib.models import Key

Mode = Literal["viewing", "replying"]

# The page's heartbeat: often enough that a newcomer sees who is there within seconds, rarely
# enough that a desk of agents with tickets open costs a few writes a second.
BEAT_EVERY = timedelta(seconds=10)
# An entry stands this long after its beat: three beats, so one lost request or a slow network
# does not make an agent flicker out, and a closed tab is forgotten within half a minute.
EXPIRES_AFTER = timedelta(seconds=30)
# The row outlives its newest entry by this much: a beat after a short pause (a throttled
# background tab, a laptop lid) still finds the map and costs one write, not two.
TTL_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    agent_id: str
    name: str
    mode: Mode


def beat(ticket_id: str, agent_id: str, name: str, mode: Mode, now: datetime) -> list[Viewer]:
    """`agent_id` has the ticket open (and is replying, or only viewing) as of `now`. Returns who
    else has it open, as `on_ticket` would: the write answers with the whole row (PynamoDB's
    UpdateItem asks for ALL_NEW), so the banner costs no read after the beat."""
    row = Key(keys.presence(ticket_id))
    entry = {"name": name, "mode": mode, "until": clock.iso(now + EXPIRES_AFTER)}
    expires = Key.expires.set(now + EXPIRES_AFTER + TTL_MARGIN)
    mine = [Key.viewers[agent_id].set(entry), expires]
    if writes.update_if(row, mine, Key.viewers.exists()):
        return _viewers(row, now, agent_id)
    if writes.update_if(row, [Key.viewers.set({agent_id: entry}), expires], Key.viewers.does_not_exist()):
        return _viewers(row, now, agent_id)
    if writes.update_if(row, mine, Key.viewers.exists()):  # made by another's first beat, then gone
        return _viewers(row, now, agent_id)
    log.warning("console presence beat not recorded", ticket_id=ticket_id, agent_id=agent_id)
    return []


def leave(ticket_id: str, agent_id: str) -> None:
    """`agent_id` closed the ticket's page. Best effort: the entry expires by itself anyway."""
    try:
        # conditional: on a row already gone, REMOVE of a path with no parent is a ValidationException
        writes.update_if(Key(keys.presence(ticket_id)), [Key.viewers[agent_id].remove()], Key.viewers.exists())
    except UpdateError as error:
        log.warning("console presence not left", ticket_id=ticket_id, agent_id=agent_id, code=error.cause_response_code)


def on_ticket(ticket_id: str, now: datetime, *, exclude: str | None = None) -> list[Viewer]:
    """Who has the ticket open now, but `exclude` (the agent asking): one GetItem."""
    try:
        row = Key.get(keys.presence(ticket_id))
    except Key.DoesNotExist:
        return []
    return _viewers(row, now, exclude)


def on_tickets(ticket_ids: Sequence[str], now: datetime, *, exclude: str | None = None) -> dict[str, list[Viewer]]:
    """Who has each ticket open now (every id given is a key; [] for nobody), but `exclude`: one
    BatchGetItem per 100 tickets (PynamoDB's batch_get splits them, and asks again for any
    UnprocessedKeys DynamoDB hands back)."""
    found = {row.key: row for row in Key.batch_get({keys.presence(ticket_id) for ticket_id in ticket_ids})}
    return {
        ticket_id: _viewers(row, now, exclude) if (row := found.get(keys.presence(ticket_id))) else []
        for ticket_id in ticket_ids
    }


def _viewers(row: Key, now: datetime, exclude: str | None) -> list[Viewer]:
    """The live entries but `exclude`'s, replying first, then by name (FreeScout's order)."""
    entries: dict[str, dict[str, Any]] = row.viewers.as_dict() if row.viewers else {}  # type: ignore[no-untyped-call]
    live = [
        Viewer(agent_id, entry["name"], "replying" if entry["mode"] == "replying" else "viewing")
        for agent_id, entry in entries.items()
        if agent_id != exclude and clock.parse_iso(entry["until"]) > now
    ]
    return sorted(live, key=lambda viewer: (viewer.mode != "replying", viewer.name.casefold(), viewer.agent_id))
