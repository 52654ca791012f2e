"""Pages for customers opened from signed links: check the token, load its ticket, render a
page in the ticket's language. A refusal is a page too — forged 403, expired 410, a link the
ticket has outgrown 409, a bad answer 400 — and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from chalice.app import Response

from chalicelib import clock, links, tickets
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Conflict, Forbidden, PromptlyError
from chalicelib.facts import fact
from chalicelib.http import html_response
from chalicelib.models import Ticket
from chalicelib.render import page

MAX_FORM_BYTES = 16384  # a 1,000-character comment in Cyrillic is ~6 bytes a character, form-encoded

# (ticket, the token's payload) → (page template, its context)
Build = Callable[[Ticket, dict[str, Any]], tuple[str, dict[str, Any]]]


class Outgrown(Conflict):
    """A genuine link the ticket has moved past (reopened since, or asked again with a newer link)."""

    code = "Outgrown"


def saved(ticket: Ticket, write: Callable[[Ticket], None]) -> None:
    """Write the customer's answer; if the ticket changed at that moment (an agent's edit, a
    double click), reload it and write once more, so the customer is not told to try again."""
    try:
        write(ticket)
    except Outgrown:
        raise
    except Conflict:
        ticket.refresh(consistent_read=True)  # an eventually consistent read could bring the old version back
        write(ticket)


def serve(token: str, purpose: str, build: Build) -> Response:
    language = "en"
    try:
        payload = links.verify(token, purpose, clock.now())
        try:
            ticket = Ticket.get(payload["t"], consistent_read=True)  # the customer's own last answer, always
        except Ticket.DoesNotExist:
            raise Forbidden("this link is not one we sent") from None
        language = ticket.language
        name, context = build(ticket, payload)
    except PromptlyError as error:
        return error_page(error, language)
    body = page(
        name,
        ticket.language,
        {
            **context,
            "ticket_ref": ticket.ticket_id,
            "subject": ticket.subject,
            "status": ticket.status,
            "desk_name": settings().desk.name,
            "token": token,
        },
    )
    return html_response(body)


def record(ticket: Ticket, now: datetime, event: str, said: str, kind: str, data: dict[str, Any]) -> None:
    """The customer's answer: the ticket as changed, an event saying it, and its fact for the
    digest, in one version-checked transaction."""
    tickets.commit(
        ticket, [tickets.event(ticket, now, "customer", said, kind=event), fact(settings(), ticket, kind, now, data)]
    )


def form(raw_body: bytes | str | None) -> dict[str, str]:
    """The fields of a form POST (first value of each); too long a body is a 400."""
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        raise BadRequest("the answer is too long")
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def comment(fields: dict[str, str], limit: int) -> str:
    text = fields.get("comment", "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise BadRequest(f"the comment is {len(text)} characters; at most {limit}, please", field="comment")
    return text


def error_page(error: PromptlyError, language: str) -> Response:
    body = page(
        "link_error",
        language,
        {"status": error.status, "reason": error.code, "message": error.message, "desk_name": settings().desk.name},
    )
    return html_response(body, error.status)
