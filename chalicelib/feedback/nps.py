"""NPS: "how likely are you to recommend us to a friend?" 0–10, with a comment. Asked on the
customer's channel when a ticket closes, at most once per `feedback.nps_period` per person
(a conditional claim on who we would ask, so two tickets closing together ask once).

Closing a ticket always queues the survey job; the job decides whether to ask (`wanted`).
The message links to a page per score; the page records nothing until its button is pressed
(mail scanners open links). An answer can be changed while the link works; each answer is an
`nps` fact for the digest (the latest per ticket counts) and is shown on the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalice.app import Response

from chalicelib import clock, keys, links, log, outbox, replies, stage
from chalicelib.config import settings
from chalicelib.errors import BadRequest
from chalicelib.feedback import pages
from chalicelib.job_kinds import SurveyJob
from chalicelib.models import Ticket

PURPOSE = "nps"
SCORES = tuple(range(11))
MAX_COMMENT = 1000


def wanted(ticket: Ticket) -> bool:
    """Whether the desk asks this closed ticket's customer at all."""
    asked = settings().feedback
    if not asked.nps or ticket.channel not in asked.nps_channels:
        return False
    # robots, spam and duplicates closed unanswered are not asked
    return not (ticket.automated or ticket.first_responded_at is None)


def send_survey(job: SurveyJob) -> None:
    """The outbox job: if the desk asks this customer, claim their survey period, then ask on
    every destination once."""
    ticket = Ticket.get(job["ticket_id"])
    if not wanted(ticket):
        return
    now = clock.now()
    until = now + settings().feedback.nps_period_span
    guard = keys.nps_guard(ticket.email, ticket.customer_id)  # one survey per person per period
    if not outbox.claim_until(guard, job["job_id"], until, now):
        log.info("nps survey skipped: asked within the period", ticket_id=ticket.ticket_id)
        return
    url = survey_url(ticket, now)
    context = {
        **replies.message_context(ticket),
        "survey_url": url,
        "score_urls": [(score, f"{url}?score={score}") for score in SCORES],
    }
    if not replies.deliver_everywhere(ticket, job["job_id"], "nps", context, now):
        outbox.release(guard, job["job_id"])  # refused everywhere for good: not asked, so not used up


def survey_url(ticket: Ticket, now: datetime) -> str:
    token = links.sign(PURPOSE, ticket.ticket_id, now + timedelta(days=settings().feedback.nps_link_days))
    return f"{stage.public_url()}/survey/{token}"


def show(token: str, query: Mapping[str, str] | None) -> Response:
    wanted = _score((query or {}).get("score"))

    def build(ticket: Ticket, _: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        chosen = wanted if wanted is not None else _stored(ticket)
        return "survey", _context(ticket, chosen, saved=False)

    return pages.serve(token, PURPOSE, build)


def answer(token: str, raw_body: bytes | str | None) -> Response:
    """POST score=0..10&comment=…: record it, replacing an earlier answer to this survey."""

    def build(ticket: Ticket, _: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        fields = pages.form(raw_body)
        score = _score(fields.get("score"))
        if score is None:
            raise BadRequest("score must be a whole number from 0 to 10", field="score")
        remark = pages.comment(fields, MAX_COMMENT)
        pages.saved(ticket, lambda current: _record(current, score, remark))
        return "survey", _context(ticket, score, saved=True)

    return pages.serve(token, PURPOSE, build)


def _record(ticket: Ticket, score: int, remark: str) -> None:
    if (_stored(ticket), ticket.nps_comment or "") == (score, remark):
        return
    now = clock.now()
    ticket.nps_score, ticket.nps_comment, ticket.nps_at = score, remark or None, now
    said = f"the customer would recommend us {score}/10" + (f": {remark}" if remark else "")
    pages.record(ticket, now, "nps", said, "nps", {"score": score, "comment": remark or None})


def _score(text: str | None) -> int | None:
    if text is None or not re.fullmatch(r"[0-9]{1,2}", text.strip()):
        return None
    score = int(text)
    return score if score in SCORES else None


def _stored(ticket: Ticket) -> int | None:
    return None if ticket.nps_score is None else int(ticket.nps_score)


def _context(ticket: Ticket, chosen: int | None, *, saved: bool) -> dict[str, Any]:
    return {
        "chosen": chosen,
        "saved": saved,
        "scores": SCORES,
        "comment": ticket.nps_comment or "",
        "max_comment": MAX_COMMENT,
    }
