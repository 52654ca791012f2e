"""Which handler runs each kind of outbox job: the table at the top of the import graph. Only
app.py's queue worker imports it (`outbox.handle(event, jobs.dispatch)`); the features it names
import the queue (chalicelib/outbox.py), never this table, so the queue knows no feature.

A job is parsed here, at the boundary: its kind picks the handler and the handler's record
(chalicelib/job_kinds.py) says which keys it must carry. An unknown kind or a missing key fails
the job at once, by name — it is retried, and parked in the dead-letter queue, like any failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from chalicelib import new_ticket, replies
from chalicelib.agents import notices, offers
from chalicelib.attachments import fetch
from chalicelib.feedback import nps, rating_alert
from chalicelib.job_kinds import (
    AckJob,
    AlertJob,
    AnswerJob,
    DigestJob,
    FetchFilesJob,
    NewTicketJob,
    OfferJob,
    RatingAlertJob,
    SignInCodeJob,
    SolvedJob,
    SurveyJob,
    TokenIssuedJob,
)
from chalicelib.kpi import mailing
from chalicelib.sla import notify

J = TypeVar("J", bound=Mapping[str, Any])


class MalformedJob(ValueError):
    """A job no handler can run: its kind is unknown, or it lacks a key its handler needs."""


@dataclass(frozen=True)
class Route(Generic[J]):
    """A kind's record and its handler."""

    record: type[J]
    handle: Callable[[J], None]

    def run(self, job: Mapping[str, Any]) -> None:
        missing = sorted(getattr(self.record, "__required_keys__", frozenset()) - job.keys())
        if missing:
            raise MalformedJob(f"outbox job {job.get('job_id')!r} of kind {job.get('kind')!r} lacks {missing}")
        self.handle(cast(J, job))


def route(record: type[J], handle: Callable[[J], None]) -> Route[Any]:
    """The table's entry for a kind; the type checker holds `handle` to `record`."""
    return Route(record, handle)


HANDLERS: dict[str, Route[Any]] = {
    "new_ticket": route(NewTicketJob, new_ticket.settle),
    # a new ticket's two jobs before "new_ticket": a deployed stage may still have them queued
    "ack": route(AckJob, replies.send_ack),
    "answer": route(AnswerJob, replies.send_answer),
    "offer": route(OfferJob, offers.send),
    "solved": route(SolvedJob, replies.send_solved),
    "alert": route(AlertJob, notify.send),
    "digest": route(DigestJob, mailing.deliver),
    "nps": route(SurveyJob, nps.send_survey),
    "rating_alert": route(RatingAlertJob, rating_alert.send),
    notices.TOKEN_ISSUED: route(TokenIssuedJob, notices.send_token_notice),
    notices.SIGN_IN_CODE: route(SignInCodeJob, notices.send_sign_in_code),
    "fetch_files": route(FetchFilesJob, fetch.fetch_files),
}


def dispatch(job: dict[str, Any]) -> None:
    """Run one job from the queue with its kind's handler."""
    handler = HANDLERS.get(str(job.get("kind")))
    if handler is None:
        raise MalformedJob(f"unknown outbox job kind {job.get('kind')!r}")
    handler.run(job)
