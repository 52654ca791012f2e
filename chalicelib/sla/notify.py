"""Telling agents: an SLA warning (an outbox job queued by the watch) or a bad rating, to each
recipient where they asked for it: email, a Slack incoming webhook, or a Telegram chat.

The job first claims its warning id with a conditional write (a second job for the same
warning, from an overlapping watch run, finds it claimed and stops). Each recipient × medium
is a step sent at most once, so a Slack outage retries only Slack — and never holds back the
other warnings of the run, which are separate jobs.
"""

from __future__ import annotations

from typing import Any

from chalicelib import clock, destinations, log, mail, outbox, providers, stage
from chalicelib.agents import staff
from chalicelib.channels.base import Outgoing
from chalicelib.config import settings
from chalicelib.models import Agent, Ticket
from chalicelib.render import Rendered, render


def send(job: dict[str, Any]) -> None:
    if not outbox.claim(job["job_id"], job["nonce"]):
        return  # another run's job owns this warning
    ticket = Ticket.get(job["ticket_id"])
    tell(job["job_id"], job["recipients"], ticket, "alert", _context(job, ticket), "SLA watch")


def send_rating_alert(job: dict[str, Any]) -> None:
    """A customer rated a ticket bad: its owner and the queue's leads hear it, with the comment."""
    ticket = Ticket.get(job["ticket_id"])
    if ticket.rating != "bad":
        return  # changed to good before we got to it (checked first: a later bad vote may still claim)
    if not outbox.claim(job["job_id"], job["nonce"]):
        return  # another job of this solve (a double click) owns the alert
    people = list(dict.fromkeys([*([ticket.assignee] if ticket.assignee else []), *staff.leads_of(ticket.queue)]))
    recipients: dict[str, Any] = {"agents": people}
    if not people:  # nobody owns it and the queue has no lead: the team hears it rather than no one
        queue = settings().queues.get(ticket.queue)  # a queue since removed from desk.toml has no team
        if queue:
            recipients.update(team_email=queue.team_email, team_slack=queue.team_slack)
    context = {
        **_ticket_context(ticket),
        "rating_comment": ticket.rating_comment or "",
        "ticket_url": f"{stage.public_url()}/api/tickets/{ticket.ticket_id}",
    }
    tell(job["job_id"], recipients, ticket, "rating_alert", context, "feedback")


def tell(
    job_id: str, recipients: dict[str, Any], ticket: Ticket, template: str, context: dict[str, Any], sender: str
) -> None:
    """Send `template` to every recipient × medium, each step at most once."""
    for medium, address, language, step in _destinations(job_id, recipients):
        if outbox.already_sent(step):
            continue
        rendered = render(template, language, context, channel=medium)
        try:
            _send(medium, address, rendered, step, ticket, sender)
        except providers.ProviderError as error:
            if error.retryable:
                raise  # the job is retried; the steps already sent are not sent again
            # no retry can help (a webhook on a host not allowed, a blocked bot): the others still go
            log.warning("alert refused for good", ticket_id=ticket.ticket_id, medium=medium, reason=str(error))
            continue
        outbox.mark_sent(step, ticket.ticket_id)


def _destinations(job_id: str, wanted: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(medium, address, language, step) for every person and team address of the job."""
    out: list[tuple[str, str, str, str]] = []
    for agent in Agent.batch_get(wanted["agents"]):
        for medium, address in (
            ("email", agent.alert_email),
            ("slack", agent.slack_webhook),
            ("telegram", agent.telegram_chat),
        ):
            if address:
                out.append((medium, address, agent.language or "en", f"{job_id}#{agent.agent_id}#{medium}"))
    if wanted.get("team_email"):
        out.append(("email", wanted["team_email"], "en", f"{job_id}#team#email"))
    if wanted.get("team_slack"):
        out.append(("slack", wanted["team_slack"], "en", f"{job_id}#team#slack"))
    return out


def _context(job: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    now = clock.now()
    due = clock.parse_iso(job["due"])
    return {
        **_ticket_context(ticket),
        "target": job["target"].replace("_", " "),
        "share": int(round(float(job["share"]) * 100)),
        "breach": job["breach"],
        "minutes": int(abs((due - now).total_seconds()) // 60),
        "late": now >= due,
        "due": due,
        "tz": settings().desk.timezone,
        "already": sorted({a for group in job["already"] for a in group}),
        "take_url": f"{stage.public_url()}/api/tickets/{ticket.ticket_id}/take",
    }


def _ticket_context(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_ref": ticket.ticket_id,
        "subject": ticket.subject,
        "customer_name": ticket.customer_name,
        "channel": ticket.channel,
        "queue": ticket.queue,
        "priority": ticket.priority,
        "owner": ticket.assignee,
        "desk_name": settings().desk.name,
    }


def _send(medium: str, address: str, rendered: Rendered, step: str, ticket: Ticket, sender: str) -> None:
    if medium == "email":
        desk = settings().desk
        envelope = mail.Envelope(
            sender=desk.sender, sender_name=f"{desk.name} {sender}", to=address, to_name="", language="en"
        )
        mail.send(envelope, rendered, mail.message_id(desk.sender, step))
    elif medium == "slack":
        url = destinations.for_sending(
            address, settings().destinations.slack_hosts, what="Slack webhook", provider="slack"
        )
        status, _, headers = providers.post_json(url, {"text": rendered.text})
        providers.raise_for_status("slack", status, headers)
    else:
        from chalicelib.channels import telegram

        telegram.send(
            Outgoing(channel="telegram", address=address, text=rendered.text, job_id=step, ticket_id=ticket.ticket_id)
        )
