"""Finding a ticket or a customer from the top bar's box: GET /console/search?q=…

What an agent types is read as one of four kinds, each answered by exact lookups (never a Scan,
never a guess over text):
- a ticket reference ("PR-7K3QX9M2", any case, Crockford's look-alikes O/I/L read as 0/1/1):
  straight on to its page (303) when the agent may see it; else "no such ticket among yours",
  the same for one of another queue as for one that does not exist;
- an email address: the tickets written from it (Ticket.by_email: the form's and unverified
  senders' tickets too, whose address proves nothing; the ticket page says so);
- a phone number in any usual spelling ("+380 50 123-45-67", "00380…"): its E.164 form
  (channels.twilio.phone_number, how intake keys it) through the contact keys intake wrote
  (`contact#phone#…`, and the SMS and WhatsApp conversations' own) → the customers → their
  tickets (Ticket.by_customer);
- a messenger id (a Telegram chat id, a Viber user id, the website chat's visitor id): the
  messengers' contact keys → the customers → their tickets. A bare number may be a phone number
  typed without its plus or a Telegram chat id: both are looked up in the same BatchGetItem.
Anything else (words, two tokens) is answered with what the box understands: no full-text
search here.

The tickets listed are only those the agent may see (access.may_see: another queue's tickets
are not listed, and not counted). Cost: a reference is one GetItem; an email one keys-only Query
and one BatchGetItem; a phone or messenger id one BatchGetItem of keys, one keys-only Query per
customer found (at most MAX_CUSTOMERS) and one BatchGetItem — on top of the session's read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from chalice.app import Response

from chalicelib import keys, log, stage
from chalicelib.agents.access import may_see, visible_ticket
from chalicelib.channels import chat, telegram, twilio, viber
from chalicelib.config import settings
from chalicelib.console import sign_in, stamps, web
from chalicelib.errors import NotFound
from chalicelib.http import console_response
from chalicelib.models import Key, Ticket

Kind = Literal["reference", "email", "phone", "messenger", "unknown"]
MAX_QUERY = 254  # the box's maxlength: an address is at most this long
MAX_CUSTOMERS = 5  # a phone or id is one person's: more would be a shared number (a call centre)
MAX_TICKETS = 50  # the newest per customer or address; more is a different conversation
MESSENGERS = (telegram.NAME, viber.NAME, chat.NAME)  # keyed `contact#<channel>#<the id replies go to>`
_CROCKFORD = str.maketrans("OIL", "011")
_ID = re.compile(r"[^\s]{1,128}")  # a messenger's id: one token, no spaces


@dataclass(frozen=True)
class Query:
    """What the box held, read as a kind, and the exact keys to look up."""

    kind: Kind
    reference: str = ""
    email: str = ""
    contacts: tuple[str, ...] = ()  # contact keys (phone, messenger)


def search(visit: web.Visit) -> Response:
    """GET /console/search?q=…: see the module docstring."""
    typed = (visit.query.get("q") or "").strip()
    query = read(typed)
    log.info("console search", kind=query.kind)
    if not typed:
        return _page(visit, typed, query, None)
    if query.kind == "unknown":
        return _page(visit, typed, query, None, 400)
    if query.kind == "reference":
        try:
            visible_ticket(visit.signed.actor, query.reference)
        except NotFound:
            return _page(visit, typed, query, [], 404)
        return console_response("", location=stage.ticket_page(query.reference))
    found = [ticket for ticket in _tickets(query) if may_see(visit.signed.actor, ticket)]
    return _page(visit, typed, query, sorted(found, key=lambda ticket: ticket.updated_at, reverse=True))


def read(typed: str) -> Query:
    """The kind of what was typed, and what to look it up by (no lookup yet)."""
    text = typed.strip()
    if not text or len(text) > MAX_QUERY:
        return Query("unknown")
    reference = _reference(text)
    if reference:
        return Query("reference", reference=reference)
    if "@" in text:
        email = sign_in.address(text)
        return Query("email", email=email) if email else Query("unknown")
    phone = twilio.phone_number(text)
    if phone:
        return Query("phone", contacts=_phone_keys(phone))
    if _ID.fullmatch(text):
        bare = (
            twilio.phone_number(f"+{text}") if text.isascii() and text.isdigit() else None
        )  # a number typed without its +
        return Query("messenger", contacts=_messenger_keys(text) + (_phone_keys(bare) if bare else ()))
    return Query("unknown")


def _reference(text: str) -> str | None:
    """ "pr-7k3qx9m2", "PR 7K3QX9M2" → "PR-7K3QX9M2" (the desk's prefix and 8 Crockford characters)."""
    prefix = settings().desk.ticket_prefix
    match = re.fullmatch(rf"{prefix}[-\s]?([0-9A-Z]{{8}})", text.upper())
    return f"{prefix}-{match.group(1).translate(_CROCKFORD)}" if match else None


def _phone_keys(number: str) -> tuple[str, ...]:
    """Every key intake writes for a number: the person's phone, and each Twilio conversation's."""
    return (
        keys.contact("phone", number),
        keys.contact("sms", number),
        keys.contact("whatsapp", f"{twilio.WHATSAPP}{number}"),
    )


def _messenger_keys(identifier: str) -> tuple[str, ...]:
    return tuple(keys.contact(channel, identifier) for channel in MESSENGERS)


def _tickets(query: Query) -> list[Ticket]:
    """The tickets the query names, whoever may see them (the caller filters)."""
    if query.kind == "email":
        ids = [hit.ticket_id for hit in Ticket.by_email.query(query.email, scan_index_forward=False, limit=MAX_TICKETS)]
    else:
        customers = sorted({key.customer_id for key in Key.batch_get(list(query.contacts)) if key.customer_id})
        ids = [
            hit.ticket_id
            for customer in customers[:MAX_CUSTOMERS]
            for hit in Ticket.by_customer.query(customer, scan_index_forward=False, limit=MAX_TICKETS)
        ]
    return list(Ticket.batch_get(list(dict.fromkeys(ids)))) if ids else []


def _page(visit: web.Visit, typed: str, query: Query, found: list[Ticket] | None, status: int = 200) -> Response:
    zone = stamps.zone_of(visit.agent)
    rows: list[dict[str, Any]] = [
        {
            "ticket_id": ticket.ticket_id,
            "href": stage.ticket_page(ticket.ticket_id),
            "subject": ticket.subject,
            "customer": ticket.customer_name,
            "status": ticket.status,
            "channel": ticket.channel,
            "updated": stamps.moment(ticket.updated_at, zone, visit.language),
        }
        for ticket in found or []
    ]
    context = {"query": typed, "kind": query.kind, "searched": found is not None, "rows": rows}
    return visit.page("search", context, status)
