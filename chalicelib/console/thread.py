"""A ticket's conversation as the console shows it: who said what, when, and in which voice.

Each stored entry (models.Message) becomes an `Entry` with a `role` the page styles apart: the
customer's message, an agent's answer, an internal note, the desk's own automatic message
(acknowledgement, "solved?", survey: a line one can open) and a system event (a one-liner).

Customer text is text: every body is escaped, its line breaks kept by the page's CSS, and only
http, https and mailto links in it become links (`linkify`), opened without a referrer. Nothing
a customer wrote is ever parsed as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from chalicelib import originals
from chalicelib.attachments import files, links, opening
from chalicelib.channels.reply_text import FORWARDED_MARK  # the line between a note and what it forwards
from chalicelib.config import PRIORITIES
from chalicelib.lifecycle import ALLOWED
from chalicelib.models import Message

ROLES = ("customer", "answer", "note", "desk", "event")
# A link in a customer's text: http(s) or mailto, up to the next space or bracket; trailing
# punctuation (the full stop after a link) stays text.
LINK = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}»"
ARROW = " → "
AUTHORS = ("customer", "desk", "routing", "sla")  # who writes besides agents: a word each on the page


@dataclass(frozen=True)
class Attachment:
    """A message's file as the thread shows it: a thumbnail (a raster image), a link that
    downloads (any other kept file), or a label saying why it cannot be opened."""

    name: str
    content_type: str
    size: int  # bytes; 0 when the provider did not say
    state: str  # files.STORED, PENDING, ...: the page labels all but STORED
    reason: str  # why it is not kept, or what is odd about a kept one
    href: str | None  # the console's file route (opening.console_path); None when it cannot be opened
    inline: bool  # a raster image: shown as a thumbnail, opened in the browser


@dataclass(frozen=True)
class Change:
    """A status or priority event read back: what it was, what it became, and why."""

    field: str  # status | priority
    before: str
    after: str
    reason: str


@dataclass(frozen=True)
class Entry:
    anchor: str  # the element id: "m-<message id>"
    key: str  # the message key: the page's cursor and the composer's "seen"
    role: str  # one of ROLES
    kind: str
    at: datetime
    author: str  # a person's name, or one of AUTHORS (the page says it in words), or an agent id
    body: str
    body_html: Markup  # the body escaped, links made (a forward: the customer's note above it)
    forwarded_html: Markup | None  # what a customer forwarded, escaped, links made; None if nothing
    original_href: str | None  # "Show the whole message": an inbound email whose raw mail is kept
    change: Change | None
    attachments: tuple[Attachment, ...]
    unverified: bool  # an inbound message whose sender was not authenticated
    automated: str | None
    truncated: tuple[str, ...]
    subject: str
    channel: str


def entries(messages: list[Message], names: Mapping[str, str]) -> list[Entry]:
    """`messages` as the page shows them, in the same order. `names` maps agent ids to names,
    for entries written before messages kept their author's name."""
    return [entry(message, names) for message in messages]


def entry(message: Message, names: Mapping[str, str]) -> Entry:
    role = role_of(message)
    body = message.body or ""
    note, forwarded = split_forward(body) if role == "customer" else (body, None)
    whole = originals.console_path(message.ticket_id, message.message_key) if originals.has_original(message) else None
    return Entry(
        anchor=f"m-{message.message_id}",
        key=message.message_key,
        role=role,
        kind=message.kind,
        at=message.created_at,
        author=_author(message, names),
        body=_named(body, names) if role == "event" else body,
        body_html=linkify(note) if role != "event" else escape(_named(body, names)),
        forwarded_html=linkify(forwarded) if forwarded is not None else None,
        original_href=whole,
        change=change_of(message) if role == "event" else None,
        attachments=attachments_of(message),
        unverified=message.direction == "in" and message.trust not in (None, "authenticated"),
        automated=message.automated,
        truncated=tuple(str(line) for line in message.truncated or []),
        subject=message.subject or "",
        channel=message.channel,
    )


def role_of(message: Message) -> str:
    if message.direction == "in":
        return "customer"
    if message.direction == "note":
        return "note"
    if message.direction == "out":
        return "desk" if message.author == "desk" else "answer"
    return "event"


def split_forward(body: str) -> tuple[str, str | None]:
    """(the customer's own note, what they forwarded) of a stored text with FORWARDED_MARK on a
    line of its own; (body, None) without one. The note may be empty: a bare forward."""
    lines = body.split("\n")
    for number, line in enumerate(lines):
        if line.rstrip() == FORWARDED_MARK:
            return "\n".join(lines[:number]).strip("\n"), "\n".join(lines[number + 1 :]).strip("\n")
    return body, None


def linkify(text: str) -> Markup:
    """`text` escaped, with its http, https and mailto links made links (no other scheme: a
    `javascript:` in a customer's text stays text)."""
    out: list[str] = []
    at = 0
    for found in LINK.finditer(text):
        link = found.group(0).rstrip(TRAILING)
        if not _well_formed(link):
            continue
        out += [escape(text[at : found.start()]), _anchor(link)]
        at = found.start() + len(link)
    out.append(escape(text[at:]))
    return Markup("").join(out)


def _well_formed(link: str) -> bool:
    scheme, _, rest = link.partition(":")
    return bool(rest.strip("/")) and scheme.lower() in ("http", "https", "mailto")


def _anchor(link: str) -> Markup:
    return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(link, link)


def change_of(message: Message) -> Change | None:
    """A status or priority event's change ("open → solved", "normal → urgent: why"), or None."""
    field = {"status": "status", "priority": "priority"}.get(message.kind)
    body = message.body or ""
    if field is None and message.kind == "sla" and body.startswith("priority "):
        field, body = "priority", body.removeprefix("priority ")
    if field is None or ARROW not in body:
        return None
    before, _, rest = body.partition(ARROW)
    after, _, reason = rest.partition(": ")
    known = tuple(ALLOWED) if field == "status" else PRIORITIES
    if before not in known or after not in known:
        return None
    return Change(field, before, after, reason)


def _author(message: Message, names: Mapping[str, str]) -> str:
    if message.direction == "in":
        return "customer"
    return message.author_name or names.get(message.author) or message.author


def _named(body: str, names: Mapping[str, str]) -> str:
    """An event's text with the agent ids it mentions ("handed over to A-1f2e3d4c5b") named."""
    for agent_id, name in names.items():
        if agent_id and name:
            body = body.replace(agent_id, name)
    return body


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The message's files (files.entries: old entries read as LISTED), each with the console's
    link when its bytes are kept. Never a presigned URL: the page's HTML outlives a link."""
    raw = [item for item in message.attachments or [] if isinstance(item, dict)]
    shown = []
    for index, item in enumerate(files.entries(raw)):
        stored = item.get("state") == files.STORED and bool(item.get("key"))
        size = item.get("size")
        shown.append(
            Attachment(
                name=str(item.get("name") or ""),
                content_type=str(item.get("type") or ""),
                size=size if isinstance(size, int) and size > 0 else 0,
                state=str(item.get("state") or files.LISTED),
                reason=str(item.get("reason") or ""),
                href=opening.console_path(message.ticket_id, message.message_key, index) if stored else None,
                inline=links.is_inline(item),
            )
        )
    return tuple(shown)


def size_text(size: int, language: str) -> str:
    """'3.4 MB', '12,3 кБ' (decimal units, one decimal); '' when the size is not known."""
    from babel.units import format_unit  # lazy: only pages with attachments format one

    if size <= 0:
        return ""
    unit, amount = ("digital-megabyte", size / 1_000_000) if size >= 1_000_000 else ("digital-kilobyte", size / 1000)
    return format_unit(max(amount, 0.1), unit, length="short", locale=language, format="#,##0.#")


def when(moment: datetime, tz: str, language: str) -> str:
    """'23 Nov, 11:05' in the reader's zone and language."""
    from babel.dates import format_datetime

    return format_datetime(moment, "d MMM, HH:mm", tzinfo=ZoneInfo(tz), locale=language)


def day(moment: datetime, tz: str, language: str) -> str:
    """'23 Nov 2026' in the reader's zone and language."""
    from babel.dates import format_date

    return format_date(moment.astimezone(ZoneInfo(tz)).date(), "d MMM y", locale=language)


def names_on(messages: list[Message], known: Mapping[str, str]) -> dict[str, str]:
    """Agent id → name, from what the entries themselves say (their authors' names) and `known`."""
    found = dict(known)
    for message in messages:
        if message.author_name and message.author not in AUTHORS:
            found.setdefault(message.author, message.author_name)
    return found
