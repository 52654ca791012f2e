"""Mail to an agent about their own account, at their own address — the one they sign in with,
not an alert address — through the outbox, which retries it: a personal API token someone else
(an admin) issued for them (whoever holds it acts as them), and the console's sign-in codes.

The token notice is written in English (templates/token_issued/), like the SLA alerts; its job
(`job_kinds.token_issued`) carries what the mail says. The sign-in code's job carries only the
address: the code is made here, never queued. Each notice goes out once.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import clock, mail, outbox, stage
from chalicelib.config import settings
from chalicelib.console import sign_in
from chalicelib.job_kinds import SignInCodeJob, TokenIssuedJob
from chalicelib.models import Agent
from chalicelib.render import render

TOKEN_ISSUED = "token_issued"  # the template
SIGN_IN_CODE = "sign_in_code"  # the template, and the job kind


def send_token_notice(job: TokenIssuedJob) -> None:
    """The outbox job: the notice, unless an earlier try of the job sent it."""
    if outbox.already_sent(job["job_id"]):
        return
    send_token_issued(job)
    outbox.mark_sent(job["job_id"])


def send_token_issued(job: TokenIssuedJob) -> None:
    """Render the notice for the holder and send it to their email address."""
    holder, issuer = Agent.get(job["holder"]), Agent.get(job["issued_by"])
    desk = settings().desk
    context = {
        "desk_name": desk.name,
        "holder_name": holder.full_name,
        "holder_id": holder.agent_id,
        "issuer_name": issuer.full_name,
        "issuer_id": issuer.agent_id,
        "token_id": job["token_id"],
        "issued_at": clock.parse_iso(job["issued_at"]),
        "expires_at": clock.parse_iso(job["expires_at"]),
        "api_url": stage.public_url(),
    }
    rendered = render(TOKEN_ISSUED, holder.language or "en", context)
    mail.send_from_desk(job["job_id"], rendered, to=holder.email, to_name=holder.full_name, language="en")


def send_sign_in_code(job: SignInCodeJob) -> None:
    """The outbox job: a code for an active agent's address, in their language, unless an earlier
    try sent it; nothing (silently) for any other address (console.sign_in.issue_code)."""
    if outbox.already_sent(job["job_id"]):
        return
    issued = sign_in.issue_code(job["job_id"], job["email"], clock.parse_iso(job["asked_at"]), clock.now())
    if issued is None:
        return
    agent, code = issued
    context = {
        "desk_name": settings().desk.name,
        "agent_name": agent.first_name,
        "code": code,
        "expires_at": clock.parse_iso(job["asked_at"]) + sign_in.CODE_LIFETIME,
        "console_url": f"{stage.public_url()}/console",
    }
    language = agent.language or "en"
    rendered = render(SIGN_IN_CODE, language, context)
    mail.send_from_desk(job["job_id"], rendered, to=agent.email, to_name=agent.full_name, language=language)
    outbox.mark_sent(job["job_id"], forget_after=timedelta(days=15))  # past any redelivery (SQS keeps 14 days)
