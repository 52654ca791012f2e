"""One answer per composer: a double click, a browser resending a POST or a flaky network never
sends the customer the same answer twice, nor adds a note twice.

Every composer the ticket page renders carries a fresh random id (a UUID). Before the work, the
POST claims `submit#<agent>#<id>` (keys.console_submit) with a conditional put; the first claim
does the work and then marks the row done with where its result is on the page. A repeat finds
the row: done → the same answer as the first (back to the ticket page, at the entry it made);
still in flight → "being sent" with the draft kept. Work that was refused (held as stale, a
conflict, a wrong field) gives the claim back, so the same form can be sent again once fixed.
Rows are kept a day (`expires`): a repeat comes within seconds, not days.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from chalicelib import keys, writes
from chalicelib.models import Key

KEPT = timedelta(days=1)
SUBMIT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Claim:
    state: Literal["new", "done", "busy"]
    anchor: str = ""  # done: the page anchor of what the first submit made ("m-<message id>")


def fresh_id() -> str:
    """The id of a composer form as the page renders it."""
    return str(uuid.uuid4())


def valid(submit_id: str) -> bool:
    return bool(SUBMIT_ID.fullmatch(submit_id))


def claim(agent_id: str, submit_id: str, ticket_id: str, content: str, now: datetime) -> Claim:
    """Take the form's id for this submit: "new" (go ahead), or what became of an earlier one.
    `content` is what the submit asks for (its mode, button and text): a repeat asking for
    something else (a form brought back by the browser's Back button and changed) is "busy",
    never answered as if the first submit had done it."""
    fingerprint = hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()
    row = Key(
        keys.console_submit(agent_id, submit_id),
        ticket_id=ticket_id,
        owner=agent_id,
        digest=fingerprint,
        expires=now + KEPT,
    )
    if writes.put_if(row, Key.key.does_not_exist()):
        return Claim("new")
    try:
        found = Key.get(row.key, consistent_read=True)
    except Key.DoesNotExist:  # given back meanwhile: this submit may go ahead
        return Claim("new") if writes.put_if(row, Key.key.does_not_exist()) else Claim("busy")
    anchor = (found.data or {}).get("anchor") if isinstance(found.data, dict) else None
    if found.ticket_id != ticket_id or found.digest != fingerprint:
        return Claim("busy")  # a form id reused on another ticket, or for other words: do nothing
    return Claim("done", str(anchor or "")) if found.data else Claim("busy")


def done(agent_id: str, submit_id: str, anchor: str) -> None:
    """The work succeeded: a repeat is answered with where its result is."""
    writes.update_if(
        Key(keys.console_submit(agent_id, submit_id)), [Key.data.set({"anchor": anchor})], Key.key.exists()
    )


def release(agent_id: str, submit_id: str) -> None:
    """The work was refused and changed nothing: the same form may be sent again."""
    writes.delete_if(Key(keys.console_submit(agent_id, submit_id)), Key.key.exists() & Key.data.does_not_exist())
