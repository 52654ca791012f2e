"""Mail to an agent about their own account: a personal API token someone else (an admin) issued
for them. Whoever holds it acts as them, so they hear of it at their own address — the one they
sign in with, not an alert address — through the outbox, which retries it.

Agent-facing mail is written in English (templates/token_issued/), like the SLA alerts. This
module sends; the outbox (`outbox.send_token_notice`) makes each notice go out once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import clock, mail, stage
from chalicelib.config import settings
from chalicelib.models import Agent
from chalicelib.render import render

TOKEN_ISSUED = "token_issued"


def token_issued_job(token_id: str, holder: str, issuer: str, issued_at: datetime, until: datetime) -> dict[str, Any]:
    """The outbox job telling `holder` that `issuer` issued them a token. It carries what the
    mail says, so a token revoked before the job runs is still reported."""
    return {
        "kind": TOKEN_ISSUED,
        "job_id": f"token-issued-{token_id}",
        "token_id": token_id,
        "holder": holder,
        "issued_by": issuer,
        "issued_at": clock.iso(issued_at),
        "expires_at": clock.iso(until),
    }


def send_token_issued(job: dict[str, Any]) -> None:
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
    envelope = mail.Envelope(
        sender=desk.sender, sender_name=desk.name, to=holder.email, to_name=holder.full_name, language="en"
    )
    mail.send(envelope, rendered, mail.message_id(desk.sender, job["job_id"]))
