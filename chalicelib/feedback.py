"""The customer's word on a solved ticket. When an agent solves it, the customer gets a
signed link: "yes, solved" closes it, "no" reopens it. Without an answer it closes by itself
after the quiet period (`desk.quiet_close`).

The link opens a page whose buttons POST the answer: mail scanners that prefetch links must
never confirm on the customer's behalf.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from chalice import Response

from chalicelib import clock, lifecycle, links, stage
from chalicelib.config import settings
from chalicelib.errors import BadRequest, PromptlyError
from chalicelib.log import logger
from chalicelib.models import Ticket
from chalicelib.render import page

LINK_DAYS = 14
MAX_BODY_BYTES = 1024
PURPOSE = "confirm"


def confirm_url(ticket: Ticket, now: datetime) -> str:
    token = links.sign(PURPOSE, ticket.ticket_id, links.expiry(now, LINK_DAYS))
    return f"{stage.public_url()}/confirm/{token}"


def show(token: str) -> Response:
    """GET: the question, with two buttons."""
    return _page(token, lambda ticket: ("confirm", {"answered": None}))


def answer(token: str, raw_body: bytes | None) -> Response:
    """POST answer=yes|no: close or reopen, once; a repeated answer changes nothing."""
    def decide(ticket: Ticket) -> tuple[str, dict[str, Any]]:
        if len(raw_body or b"") > MAX_BODY_BYTES:
            raise BadRequest("the answer is too long")
        choice = (parse_qs((raw_body or b"").decode("utf-8", "replace")).get("answer") or [""])[0]
        if choice not in ("yes", "no"):
            raise BadRequest("answer must be yes or no")
        return "confirm", {"answered": _apply(ticket, choice)}
    return _page(token, decide)


def close_quiet(now: datetime) -> int:
    """Close every ticket solved longer than the quiet period ago (Query on the sparse
    by_solved index: cost grows with what is due, not with history)."""
    cutoff = now - settings().desk.quiet_close_span
    closed = 0
    for ticket in Ticket.by_solved.query("solved", Ticket.solved_at <= cutoff):
        try:
            _close(ticket, now, "desk", f"closed after {settings().desk.quiet_close} without a word from the customer")
            closed += 1
        except PromptlyError:  # changed meanwhile (the customer answered): leave it
            logger.info("quiet close skipped", extra={"ticket_id": ticket.ticket_id})
    return closed


def _apply(ticket: Ticket, choice: str) -> str:
    now = clock.now()
    if ticket.status != "solved":
        return "already-" + ticket.status
    if choice == "yes":
        _close(ticket, now, "customer", "the customer confirmed it is solved")
        return "closed"
    lifecycle.customer_wrote(settings(), ticket, now)
    _save(ticket, now, "customer", "the customer says it is not solved", was_live=False, before="solved")
    return "reopened"


def _close(ticket: Ticket, now: datetime, who: str, why: str) -> None:
    was_live = ticket.status in lifecycle.LIVE
    lifecycle.change_status(settings(), ticket, "closed", now)
    _save(ticket, now, who, why, was_live=was_live)


def _save(ticket: Ticket, now: datetime, who: str, why: str, *, was_live: bool, before: str | None = None) -> None:
    from chalicelib.agents.work import commit_with_event  # one place writes ticket + event + fact

    commit_with_event(ticket, now, author=who, kind="status", body=why, was_live=was_live, before=before)


def _page(token: str, build: Any) -> Response:
    try:
        payload = links.verify(token, PURPOSE, clock.now())
        try:
            ticket = Ticket.get(payload["t"])
        except Ticket.DoesNotExist:
            raise links.Forbidden("this link is not one we sent") from None
        name, context = build(ticket)
    except PromptlyError as error:
        return _error(error, "en")
    body = page(name, ticket.language, {**context, "ticket_ref": ticket.ticket_id, "subject": ticket.subject,
                                        "status": ticket.status, "desk_name": settings().desk.name,
                                        "token": token})
    return Response(body=body, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


def _error(error: PromptlyError, language: str) -> Response:
    body = page("link_error", language, {"status": error.status, "message": error.message,
                                         "desk_name": settings().desk.name})
    return Response(body=body, status_code=error.status, headers={"Content-Type": "text/html; charset=utf-8"})

