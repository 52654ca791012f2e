"""Pages across several queues at once: newest first (the agents' API's finished tickets), or
soonest first (the console's queue views).

Each queue is a newest-first index (Ticket.by_queue_done), or a soonest-first key range (the
console's views of by_queue and by_owner); a page is the first `limit` entries of all of them
together in that order. To know that, each queue is read from where the last page left it for
at most `limit` entries (plus one, to tell whether it has more), and the merge takes the first.
The cursor says, per queue, the last entry taken from it (the next page starts after it), null
for a queue nothing was taken from yet, and leaves out a queue that is finished. It travels as
base64url JSON: opaque to clients, and checked when it comes back — a cursor this API did not
write is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from chalicelib.errors import BadRequest

Position = tuple[str, str] | None  # (sort key as stored, ticket id) of the last entry taken; None: from the top
BAD_CURSOR = "after: not a cursor this list gave; start again without it"


@dataclass(frozen=True)
class Entry:
    queue: str
    sort_key: str  # as the index stores it: text that sorts by time
    ticket_id: str

    @property
    def position(self) -> tuple[str, str]:
        return self.sort_key, self.ticket_id


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    cursor: str | None  # None: nothing more


def start(cursor: str | None, queues: tuple[str, ...]) -> dict[str, Position]:
    """Where each queue's next read begins: every queue from the top, or where `cursor` left it
    (a queue it leaves out is finished)."""
    if cursor is None:
        return dict.fromkeys(queues)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadRequest(BAD_CURSOR, field="after") from None
    if (
        not isinstance(decoded, dict)
        or not set(decoded) <= set(queues)
        or not all(_position(value) for value in decoded.values())
    ):
        raise BadRequest(BAD_CURSOR, field="after")
    return {queue: tuple(value) if value else None for queue, value in decoded.items()}


def _position(value: object) -> bool:
    return value is None or (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value))


def merge(
    read: dict[str, list[Entry]], positions: dict[str, Position], limit: int, *, newest_first: bool = True
) -> Page:
    """The first `limit` of what was read (each queue: up to `limit + 1` entries after its
    position, in the order asked: newest first, or else soonest first), and the cursor of the
    page after it."""
    candidates = sorted(
        (entry for entries in read.values() for entry in entries[:limit]),
        key=lambda entry: entry.position,
        reverse=newest_first,
    )
    taken = candidates[:limit]
    after: dict[str, Position] = {}
    for queue, entries in read.items():
        mine = [entry for entry in taken if entry.queue == queue]
        position = mine[-1].position if mine else positions[queue]
        finished = len(entries) <= limit and len(mine) == len(entries)  # nothing unread, nothing left over
        if not finished:
            after[queue] = position
    return Page(taken, _encode(after) if after else None)


def _encode(positions: dict[str, Position]) -> str:
    text = json.dumps(
        {queue: list(position) if position else None for queue, position in positions.items()}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")
