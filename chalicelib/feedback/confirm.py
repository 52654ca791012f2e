"""Is it solved? When an agent solves a ticket, the customer gets a signed link: "yes, solved"
closes it, "no" reopens it. Without an answer it closes by itself after the quiet period
(`desk.quiet_close`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice.app import Response

from chalicelib import clock, job_kinds, lifecycle, links, log, outbox, stage, tickets
from chalicelib.config import settings
from chalicelib.errors import BadRequest, PromptlyError
from chalicelib.feedback import csat, pages
from chalicelib.models import Ticket

LINK_DAYS = 14
PURPOSE = "confirm"


def confirm_url(ticket: Ticket, now: datetime) -> str:
    token = links.sign(PURPOSE, ticket.ticket_id, links.expiry(now, LINK_DAYS))
    return f"{stage.public_url()}/confirm/{token}"


def show(token: str) -> Response:
    """GET: the question, with two buttons."""
    return pages.serve(token, PURPOSE, lambda ticket, _: ("confirm", {"answered": None}))


def answer(token: str, raw_body: bytes | str | None) -> Response:
    """POST answer=yes|no: close or reopen, once; a repeated answer changes nothing."""

    def decide(ticket: Ticket, _: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        choice = pages.form(raw_body).get("answer")
        if choice not in ("yes", "no"):
            raise BadRequest("answer must be yes or no")
        answered = _apply(ticket, choice)
        return "confirm", {"answered": answered, "rate_url": csat.rate_url(ticket) if answered == "closed" else None}

    return pages.serve(token, PURPOSE, decide)


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
            log.info("quiet close skipped", ticket_id=ticket.ticket_id)
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
    # after the close is saved; the survey decides whether to ask (feedback/nps.py)
    outbox.enqueue_quietly(job_kinds.survey(ticket.ticket_id), "nps survey not queued", ticket_id=ticket.ticket_id)


def _save(ticket: Ticket, now: datetime, who: str, why: str, *, was_live: bool, before: str | None = None) -> None:
    tickets.commit_status(ticket, now, author=who, kind="status", body=why, was_live=was_live, before=before)
