"""What each kind of outbox job carries: one typed record per kind, and the one constructor that
builds it. The record is the JSON body of the SQS message as it is, so jobs queued before a
deploy are read by the code after it; a key a handler reads only with a default, or not at all,
is `NotRequired`, and `chalicelib/jobs.py` refuses a job that lacks a required one.

They sit below both sides: agents queue the answer that `replies` sends and the survey that
`feedback.nps` sends, so neither the producers nor the handlers import each other. Which
handler runs each kind is `chalicelib/jobs.py`.
"""

# No `from __future__ import annotations` here: TypedDict reads NotRequired from live
# annotations on Python 3.11, and jobs.py checks `__required_keys__` at run time.
import uuid
from datetime import datetime
from typing import Literal, NotRequired, TypedDict

from chalicelib import clock


class AckJob(TypedDict):
    """The acknowledgement of a new ticket (replies.send_ack)."""

    kind: Literal["ack"]
    job_id: str
    ticket_id: str


class OfferJob(TypedDict):
    """Routing's last step: offer a new ticket to the agent on duty, who is told (agents.offers.send)."""

    kind: Literal["offer"]
    job_id: NotRequired[str]
    ticket_id: str


class TicketNames(TypedDict):
    """What a new ticket's job needs to name the keys it reads together with the ticket, as intake
    wrote it: where the acknowledgement goes, the queue whose roster the offer reads, and which of
    the two the ticket owed when it was queued (new_ticket.py)."""

    channel: str
    address: str
    email: str | None
    queue: str
    acknowledge: bool
    offer: bool
    # who was on the queue's roster when intake read it: the job reads them with the ticket (it
    # still reads the roster itself, which decides; an agent not named here is read then)
    on_duty: NotRequired[list[str]]


class NewTicketJob(TypedDict):
    """A new ticket's one job: its acknowledgement, then its offer to the agent on duty, in one
    invocation on one read of the ticket (new_ticket.settle). Its steps keep the ids of the two
    kinds it replaces ("ack-<id>", "offer-<id>"), which a deployed stage may still have queued.
    `names`: absent from the jobs queued before it was carried (they read the ticket first)."""

    kind: Literal["new_ticket"]
    job_id: str
    ticket_id: str
    names: NotRequired[TicketNames]


class ReplyTo(TypedDict):
    """Where a message to the customer goes, as the ticket said when it was queued: its channel
    and address, and the email address written to as well (replies.py `_destinations`)."""

    channel: str
    address: str
    email: str | None


class AnswerJob(TypedDict):
    """An agent's answer, already on the ticket, sent to the customer (replies.send_answer).
    `author` and `to` name what the job reads with the ticket and the answer, in one call; jobs
    queued before they were carried read each in turn."""

    kind: Literal["answer"]
    job_id: str
    ticket_id: str
    message_key: str
    introduce: NotRequired[bool]
    author: NotRequired[str]
    to: NotRequired[ReplyTo]


class SolvedJob(TypedDict):
    """ "Solved — is it?" with the confirm and rating links (replies.send_solved)."""

    kind: Literal["solved"]
    job_id: str
    ticket_id: str
    agent_id: str


class SurveyJob(TypedDict):
    """The NPS survey after a close; the survey decides whether to ask (feedback.nps.send_survey)."""

    kind: Literal["nps"]
    job_id: str
    ticket_id: str


class RatingAlertJob(TypedDict):
    """A bad rating, told to the ticket's owner and the queue's leads (feedback.rating_alert.send)."""

    kind: Literal["rating_alert"]
    job_id: str
    nonce: str
    ticket_id: str


class Recipients(TypedDict):
    """Who an alert goes to: agents by id, and the queue's team address and Slack channel."""

    agents: list[str]
    team_email: NotRequired[str | None]
    team_slack: NotRequired[str | None]


class AlertJob(TypedDict):
    """An SLA warning or breach, with who gets it decided when it was queued (sla.notify.send)."""

    kind: Literal["alert"]
    job_id: str
    nonce: str
    ticket_id: str
    target: str
    share: float
    due: str
    breach: bool
    recipients: Recipients
    already: list[list[str]]


class DigestJob(TypedDict):
    """The morning digest for one admin or lead (kpi.digest.deliver)."""

    kind: Literal["digest"]
    job_id: str
    nonce: str
    day: str
    agent_id: str


class TokenIssuedJob(TypedDict):
    """An agent told of a token someone else issued for them (agents.notices.send_token_notice)."""

    kind: Literal["token_issued"]
    job_id: str
    token_id: str
    holder: str
    issued_by: str
    issued_at: str
    expires_at: str


class SignInCodeJob(TypedDict):
    """A console sign-in code wanted for an address (agents.notices.send_sign_in_code). Only the
    address and when it was asked: the handler finds the agent, if any, and makes the code, so no
    code travels through the queue and the web request does the same work for every address."""

    kind: Literal["sign_in_code"]
    job_id: str
    email: str
    asked_at: str


class FetchFilesJob(TypedDict):
    """A customer's message whose messenger files are still to fetch from the provider
    (attachments.fetch.fetch_files); the message lists them as PENDING entries."""

    kind: Literal["fetch_files"]
    job_id: str
    ticket_id: str
    message_key: str


Job = (
    AckJob
    | OfferJob
    | NewTicketJob
    | AnswerJob
    | SolvedJob
    | SurveyJob
    | RatingAlertJob
    | AlertJob
    | DigestJob
    | TokenIssuedJob
    | SignInCodeJob
    | FetchFilesJob
)


def ack(ticket_id: str) -> AckJob:
    return {"kind": "ack", "job_id": f"ack-{ticket_id}", "ticket_id": ticket_id}


def duty_offer(ticket_id: str) -> OfferJob:
    return {"kind": "offer", "job_id": f"offer-{ticket_id}", "ticket_id": ticket_id}


def new_ticket(ticket_id: str, *, acknowledge: bool, offer: bool, names: TicketNames | None = None) -> list[Job]:
    """A new ticket's job, when it owes an acknowledgement or an offer to the agent on duty: one,
    for both (the job reads the ticket and does what it still lacks). `names` (ticket_names) lets
    it read the keys it needs in the same call as the ticket."""
    if not (acknowledge or offer):
        return []
    job: NewTicketJob = {"kind": "new_ticket", "job_id": f"new-{ticket_id}", "ticket_id": ticket_id}
    if names is not None:
        job["names"] = names
    return [job]


def ticket_names(
    *,
    channel: str,
    address: str,
    email: str | None,
    queue: str,
    acknowledge: bool,
    offer: bool,
    on_duty: list[str] | None = None,
) -> TicketNames:
    names: TicketNames = {
        "channel": channel,
        "address": address,
        "email": email,
        "queue": queue,
        "acknowledge": acknowledge,
        "offer": offer,
    }
    if on_duty is not None:
        names["on_duty"] = on_duty
    return names


def fetch_files(ticket_id: str, message_key: str) -> FetchFilesJob:
    """One job per message: its redelivery or a second copy finds the fetched files settled."""
    message_id = message_key.rsplit("#", 1)[-1]
    return {"kind": "fetch_files", "job_id": f"fetch-{message_id}", "ticket_id": ticket_id, "message_key": message_key}


def answer(
    ticket_id: str,
    message_id: str,
    message_key: str,
    *,
    introduce: bool,
    author: str | None = None,
    to: ReplyTo | None = None,
) -> AnswerJob:
    job: AnswerJob = {
        "kind": "answer",
        "job_id": message_id,
        "ticket_id": ticket_id,
        "message_key": message_key,
        "introduce": introduce,
    }
    if author is not None and to is not None:
        job["author"], job["to"] = author, to
    return job


def solved(ticket_id: str, version: int, agent_id: str) -> SolvedJob:
    """One job per solve: the ticket's version tells a second solve from a redelivery."""
    return {"kind": "solved", "job_id": f"solved-{ticket_id}-{version}", "ticket_id": ticket_id, "agent_id": agent_id}


def survey(ticket_id: str) -> SurveyJob:
    return {"kind": "nps", "job_id": f"nps-{ticket_id}", "ticket_id": ticket_id}


def rating_alert(ticket_id: str, solve: int) -> RatingAlertJob:
    """One alert per solve (its job id is the solve's); its own nonce: of two jobs queued for one
    solve (a double click) only the first claims it."""
    return {
        "kind": "rating_alert",
        "job_id": f"rated-bad-{ticket_id}-{solve}",
        "nonce": uuid.uuid4().hex,
        "ticket_id": ticket_id,
    }


def alert(
    ticket_id: str,
    *,
    target: str,
    cycle: str,
    share: float,
    due: str,
    breach: bool,
    recipients: Recipients,
    already: list[list[str]],
) -> AlertJob:
    """A warning's job id is (ticket, target, cycle, share), which its claim deduplicates; the
    nonce is this run's claim, so a retry of the same message may claim again."""
    return {
        "kind": "alert",
        "job_id": f"alert-{ticket_id}-{target}-{cycle}-{share}",
        "nonce": uuid.uuid4().hex,
        "ticket_id": ticket_id,
        "target": target,
        "share": share,
        "due": due,
        "breach": breach,
        "recipients": recipients,
        "already": already,
    }


def digest(day: str, agent_id: str, nonce: str) -> DigestJob:
    """`nonce` is the run's: the jobs of one run share it, and claim per reader."""
    return {"kind": "digest", "job_id": f"digest-{day}-{agent_id}", "nonce": nonce, "day": day, "agent_id": agent_id}


def token_issued(token_id: str, holder: str, issuer: str, issued_at: datetime, until: datetime) -> TokenIssuedJob:
    """It carries what the mail says, so a token revoked before the job runs is still reported."""
    return {
        "kind": "token_issued",
        "job_id": f"token-issued-{token_id}",
        "token_id": token_id,
        "holder": holder,
        "issued_by": issuer,
        "issued_at": clock.iso(issued_at),
        "expires_at": clock.iso(until),
    }


def sign_in_code(email: str, asked_at: datetime) -> SignInCodeJob:
    """Each request is its own job (a random id): asking again sends a new code."""
    return {
        "kind": "sign_in_code",
        "job_id": f"sign-in-{uuid.uuid4().hex}",
        "email": email,
        "asked_at": clock.iso(asked_at),
    }
