"""An agent opens a file: which one a link names, whether they may, and the short-lived link.

A page never carries a presigned URL: it links to the desk's own route, `.../files/<ref>/<index>`
(the console's and the JSON API's), which authorizes the agent on the ticket exactly as its page
does (another queue's ticket is the same 404 as none), reads the one message the `ref` names
(GetItem: its ticket and key), and only then presigns a GET that lasts `link_minutes`. A link
copied out of a page therefore dies with the agent's session or queue, and a thumbnail that is
shown again asks again.

`ref` is the message's key (`<iso time>#<message id>`) in a form a path segment carries as is:
`20261123T080000123Z.M-0123456789abcdef`. Anything that does not parse back to exactly that
shape, an index that is not a plain number of the message's files, or a message of another
ticket is a 404; a file whose bytes are not kept (pending, quarantined, refused, failed, listed)
is a 409 that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import clock, stage
from chalicelib.agents.access import Actor, visible_ticket
from chalicelib.attachments import files, links
from chalicelib.attachments.files import FileEntry
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import Message

KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z#([A-Za-z0-9_-]{1,64})")
REF = re.compile(r"(\d{8})T(\d{6})(\d{3})Z\.([A-Za-z0-9_-]{1,64})")
INDEX = re.compile(r"0|[1-9][0-9]?")  # no sign, no leading zero, no 3-digit count: a message has fewer files

# Why a file cannot be opened, by its state, as the 409 says it.
NOT_KEPT = {
    files.PENDING: "this file is still arriving from the provider: try again in a minute",
    files.QUARANTINED: "this file is quarantined: the mail carried a virus, so its files were not kept",
    files.REFUSED: "this file was not kept",
    files.FAILED: "this file could not be fetched from the provider",
    files.LISTED: "this file was received before the desk kept files: only its name is known",
}


@dataclass(frozen=True)
class Opened:
    """A presigned link to a kept file and what the agent's browser will get."""

    url: str
    expires_at: datetime
    name: str
    type: str  # the type the browser is told: the file's own for an image, else octet-stream
    size: int
    inline: bool  # shown in the page (a raster image); anything else downloads


def ref(message_key: str) -> str | None:
    """The path segment for a message key; None for a key of another shape (it gets no link)."""
    found = KEY.fullmatch(message_key)
    if found is None:
        return None
    year, month, day, hour, minute, second, milli, message_id = found.groups()
    return f"{year}{month}{day}T{hour}{minute}{second}{milli}Z.{message_id}"


def message_key(segment: str) -> str | None:
    """The message key a path segment names, or None when it is not one `ref` makes."""
    found = REF.fullmatch(segment)
    if found is None:
        return None
    day, time, milli, message_id = found.groups()
    return f"{day[:4]}-{day[4:6]}-{day[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}.{milli}Z#{message_id}"


def console_path(ticket_id: str, key: str, index: int) -> str | None:
    """The console's link to a message's file (absolute, like every console link)."""
    segment = ref(key)
    return f"{stage.ticket_page(ticket_id)}/files/{segment}/{index}" if segment else None


def api_path(ticket_id: str, key: str, index: int) -> str | None:
    """The JSON API's path of a message's file (what `GET /api/tickets/{id}` lists with it)."""
    segment = ref(key)
    return f"/api/tickets/{ticket_id}/files/{segment}/{index}" if segment else None


def stored_file(actor: Actor, ticket_id: str, segment: str, index: str) -> FileEntry:
    """The kept file a link names, if the actor may see its ticket: one GetItem for the ticket,
    one for the message. NotFound for anything that is not a file of this ticket, Conflict for
    a file whose bytes are not kept."""
    ticket = visible_ticket(actor, ticket_id)
    key = message_key(segment)
    if key is None or not INDEX.fullmatch(index):
        raise NotFound(f"no such file on ticket {ticket_id}")
    try:
        message = Message.get(ticket.ticket_id, key)
    except Message.DoesNotExist:
        raise NotFound(f"no such file on ticket {ticket_id}") from None
    found = files.entries(message.attachments)
    if int(index) >= len(found):
        raise NotFound(f"no such file on ticket {ticket_id}")
    entry = found[int(index)]
    if entry.get("state") != files.STORED or not entry.get("key"):
        reason = NOT_KEPT.get(str(entry.get("state")), "this file was not kept")
        detail = entry.get("reason")
        raise Conflict(f"{reason} ({detail})" if detail else reason)
    return entry


def opened(entry: FileEntry) -> Opened:
    """A fresh presigned GET of a kept file (links.download_url) and what it will serve."""
    seconds = settings().attachments.link_minutes * 60
    inline = links.is_inline(entry)
    return Opened(
        url=links.download_url(entry, seconds=seconds),
        expires_at=clock.now() + timedelta(seconds=seconds),
        name=entry.get("name", "file"),
        type=entry["type"] if inline else files.OCTET_STREAM,
        size=int(entry.get("size") or 0),
        inline=inline,
    )
