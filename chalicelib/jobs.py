"""Which handler runs each kind of outbox job: the table at the top of the import graph. Only
app.py's queue worker imports it (`outbox.handle(event, jobs.dispatch)`); the features it names
import the queue (chalicelib/outbox.py), never this table, so the queue knows no feature.

The table imports no handler: each is imported when a job of its kind first runs (app.py's
`feature`, chalicelib/on_first_call.py), so a worker that acknowledges new tickets never loads
the digest, the surveys, the rating alerts or the messengers' file fetching. The handlers are named under
TYPE_CHECKING for mypy, and each entry reads its handler in a lambda, at the job's run.

A job is parsed here, at the boundary: its kind picks the handler and the handler's record
(chalicelib/job_kinds.py) says which keys it must carry. An unknown kind or a missing key fails
the job at once, by name — it is retried, and parked in the dead-letter queue, like any failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

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
from chalicelib.on_first_call import feature

if TYPE_CHECKING:
    from chalicelib import new_ticket, replies
    from chalicelib.agents import notices, offers
    from chalicelib.attachments import fetch
    from chalicelib.feedback import nps, rating_alert
    from chalicelib.kpi import mailing
    from chalicelib.sla import notify
else:
    new_ticket, replies = feature("chalicelib.new_ticket"), feature("chalicelib.replies")
    notices, offers = feature("chalicelib.agents.notices"), feature("chalicelib.agents.offers")
    fetch = feature("chalicelib.attachments.fetch")
    nps, rating_alert = feature("chalicelib.feedback.nps"), feature("chalicelib.feedback.rating_alert")
    mailing, notify = feature("chalicelib.kpi.mailing"), feature("chalicelib.sla.notify")

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
    "new_ticket": route(NewTicketJob, lambda job: new_ticket.settle(job)),
    # a new ticket's two jobs before "new_ticket": a deployed stage may still have them queued
    "ack": route(AckJob, lambda job: replies.send_ack(job)),
    "answer": route(AnswerJob, lambda job: replies.send_answer(job)),
    "offer": route(OfferJob, lambda job: offers.send(job)),
    "solved": route(SolvedJob, lambda job: replies.send_solved(job)),
    "alert": route(AlertJob, lambda job: notify.send(job)),
    "digest": route(DigestJob, lambda job: mailing.deliver(job)),
    "nps": route(SurveyJob, lambda job: nps.send_survey(job)),
    "rating_alert": route(RatingAlertJob, lambda job: rating_alert.send(job)),
    "token_issued": route(TokenIssuedJob, lambda job: notices.send_token_notice(job)),
    "sign_in_code": route(SignInCodeJob, lambda job: notices.send_sign_in_code(job)),
    "fetch_files": route(FetchFilesJob, lambda job: fetch.fetch_files(job)),
}


def dispatch(job: dict[str, Any]) -> None:
    """Run one job from the queue with its kind's handler."""
    handler = HANDLERS.get(str(job.get("kind")))
    if handler is None:
        raise MalformedJob(f"unknown outbox job kind {job.get('kind')!r}")
    handler.run(job)
