"""CSAT: how did we do? The "solved" message carries two links, good and bad. Each opens a page
with the choice made, a comment box and one button that records it (a GET records nothing:
mail scanners open every link, and would vote both ways).

One vote per ticket, changeable until the desk closes the conversation — the quiet-close time
after the solve, whether or not the customer confirmed earlier (a "yes, solved" must not take
away their chance to say how it went). A link is about one solve: once the ticket is reopened
it is refused, and the next solve sends new links. A bad rating alerts the ticket's owner and
the queue's leads. Each vote is a `rated` fact for the digest and an event on the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalice.app import Response

from chalicelib import clock, job_kinds, links, outbox, stage
from chalicelib.config import settings
from chalicelib.errors import BadRequest
from chalicelib.feedback import pages
from chalicelib.models import Ticket

PURPOSE = "rate"
RATINGS = ("good", "bad")
MAX_COMMENT = 1000


def rate_url(ticket: Ticket, rating: str | None = None) -> str | None:
    """The signed rating link of the ticket's last solve; None when the desk does not ask."""
    if not settings().feedback.csat or ticket.last_solved_at is None or ticket.automated:
        return None
    token = links.sign(PURPOSE, ticket.ticket_id, window_end(ticket), s=_solve_id(ticket.last_solved_at))
    return f"{stage.public_url()}/rate/{token}" + (f"?rating={rating}" if rating else "")


def window_end(ticket: Ticket) -> datetime:
    assert ticket.last_solved_at is not None
    return ticket.last_solved_at + settings().desk.quiet_close_span


def show(token: str, query: Mapping[str, str] | None) -> Response:
    """GET: the page with the link's choice ticked (or the vote already given); nothing recorded."""
    wanted = (query or {}).get("rating")

    def build(ticket: Ticket, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        _check_solve(ticket, payload)
        chosen = wanted if wanted in RATINGS else ticket.rating
        return "rate", _context(ticket, chosen, saved=False)

    return pages.serve(token, PURPOSE, build)


def vote(token: str, raw_body: bytes | str | None) -> Response:
    """POST rating=good|bad&comment=…: record it, replacing an earlier vote."""

    def build(ticket: Ticket, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        fields = pages.form(raw_body)
        rating = fields.get("rating")
        if rating not in RATINGS:
            raise BadRequest("rating must be good or bad", field="rating")
        remark = pages.comment(fields, MAX_COMMENT)
        pages.saved(ticket, lambda current: _record(current, payload, rating, remark))
        return "rate", _context(ticket, rating, saved=True)

    return pages.serve(token, PURPOSE, build)


def _check_solve(ticket: Ticket, payload: dict[str, Any]) -> None:
    solved = ticket.last_solved_at
    if ticket.status not in ("solved", "closed") or solved is None or _solve_id(solved) != payload.get("s"):
        raise pages.Outgrown("this request was reopened after we sent this link; we will ask again when it is solved")


def _record(ticket: Ticket, payload: dict[str, Any], rating: str, remark: str) -> None:
    _check_solve(ticket, payload)
    if (ticket.rating, ticket.rating_comment or "") == (rating, remark):
        if rating == "bad":
            _alert(ticket)  # a retry after a failed POST: the alert may not have been queued
        return  # the same vote again (a double click, a reload): nothing new to say
    now = clock.now()
    ticket.rating, ticket.rating_comment, ticket.rated_at = rating, remark or None, now
    said = f"the customer rated it {rating}" + (f": {remark}" if remark else "")
    pages.record(
        ticket, now, "rating", said, "rated", {"rating": rating, "comment": remark or None, "agent": ticket.assignee}
    )
    if rating == "bad":
        _alert(ticket)


def _alert(ticket: Ticket) -> None:
    """One alert per solve (its job id is the solve's), however often the customer re-votes
    (feedback/rating_alert.py sends it)."""
    assert ticket.last_solved_at is not None
    outbox.enqueue(job_kinds.rating_alert(ticket.ticket_id, _solve_id(ticket.last_solved_at)))


def _context(ticket: Ticket, chosen: str | None, *, saved: bool) -> dict[str, Any]:
    return {
        "chosen": chosen,
        "saved": saved,
        "comment": ticket.rating_comment or "",
        "voted": ticket.rating,
        "until": window_end(ticket),
        "tz": ticket.timezone,
        "max_comment": MAX_COMMENT,
    }


def _solve_id(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)  # microseconds: the stored solve time, exactly
