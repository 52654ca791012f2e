"""Telling agents: an SLA warning (an outbox job queued by the watch), to each recipient where
they asked for it — email, a Slack incoming webhook, or a Telegram chat (who: sla/recipients.py).
A bad rating (feedback/rating_alert.py) and routing's duty offer (agents/offers.py) are told the
same way.

Every alert leads to the ticket's console page (`stage.ticket_page`): one tap opens it, and the
page's Take button takes it. The link is a GET that changes nothing, so the link previews that
email, Slack and Telegram fetch are harmless; no alert asks a person to call the API. Slack gets
it as a link on the reference, Telegram also as an "Open ticket" button under the message.

The job first claims its warning id with a conditional write (a second job for the same
warning, from an overlapping watch run, finds it claimed and stops). Each recipient × medium
is a step sent at most once, so a Slack outage retries only Slack — and never holds back the
other warnings of the run, which are separate jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from chalicelib import channels, clock, destinations, mail, outbox, providers, stage
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.channels.base import LinkButton, Outgoing
from chalicelib.config import settings
from chalicelib.job_kinds import AlertJob, Recipients
from chalicelib.models import Agent, Ticket
from chalicelib.render import Rendered, render
from chalicelib.sla import recipients as who


def send(job: AlertJob) -> None:
    if not outbox.claim(job["job_id"], job["nonce"]):
        return  # another run's job owns this warning
    ticket = Ticket.get(job["ticket_id"])
    tell(job["job_id"], job["recipients"], ticket, "alert", _context(job, ticket), "SLA watch")


def tell(
    job_id: str,
    recipients: Recipients,
    ticket: Ticket,
    template: str,
    context: dict[str, Any],
    sender: str,
    known: Sequence[Agent] = (),
    read: AlreadyRead = NOTHING,
) -> None:
    """Send `template` to every recipient × medium, each step at most once. A refusal no retry
    can help (a webhook on a host not allowed, a blocked bot) is logged, and the others still go;
    anything else raises, so the job is retried and the steps already sent are not sent again.
    `known`: recipients the caller has read already (routing's offer has its chosen agent);
    `read`: the steps' markers it read already."""
    for medium, address, language, step in who.destinations(job_id, recipients, known):
        if outbox.already_sent(step, read):
            continue
        rendered = render(template, language, context, channel=medium)
        if outbox.unless_refused(
            partial(_send, medium, address, rendered, step, ticket, sender, language),
            "alert refused for good",
            ticket_id=ticket.ticket_id,
            medium=medium,
        ):
            outbox.mark_sent(step, ticket.ticket_id)


def _context(job: AlertJob, ticket: Ticket) -> dict[str, Any]:
    now = clock.now()
    due = clock.parse_iso(job["due"])
    return {
        **ticket_context(ticket),
        "target": job["target"].replace("_", " "),
        "share": round(float(job["share"]) * 100),
        "breach": job["breach"],
        "minutes": int(abs((due - now).total_seconds()) // 60),
        "late": now >= due,
        "due": due,
        "tz": settings().desk.timezone,
        "target_key": job["target"],  # the Ukrainian and Russian templates name the target themselves
        "already": sorted({a for group in job["already"] for a in group}),
    }


def ticket_context(ticket: Ticket) -> dict[str, Any]:
    """What every alert to agents says of the ticket."""
    return {
        "ticket_ref": ticket.ticket_id,
        "subject": ticket.subject,
        "customer_name": ticket.customer_name,
        "channel": ticket.channel,
        "queue": ticket.queue,
        "priority": ticket.priority,
        "owner": ticket.assignee,
        "desk_name": settings().desk.name,
        "ticket_url": stage.ticket_page(ticket.ticket_id),
    }


# The Telegram button's label; the message text names the link in each language's template.
OPEN_TICKET = {"en": "Open ticket", "uk": "Відкрити звернення", "ru": "Открыть обращение"}


def open_button(ticket: Ticket, language: str) -> LinkButton:
    """The "Open ticket" button under a Telegram alert: the ticket's console page."""
    return LinkButton(OPEN_TICKET.get(language, OPEN_TICKET["en"]), stage.ticket_page(ticket.ticket_id))


def _send(medium: str, address: str, rendered: Rendered, step: str, ticket: Ticket, sender: str, language: str) -> None:
    if medium == "email":
        mail.send_from_desk(
            step, rendered, to=address, language=language, sender_name=f"{settings().desk.name} {sender}"
        )
    elif medium == "slack":
        url = destinations.for_sending(
            address, settings().destinations.slack_hosts, what="Slack webhook", provider="slack"
        )
        status, _, headers = providers.post_json(url, {"text": rendered.text})
        providers.raise_for_status("slack", status, headers)
    else:  # through the adapter, as the customer's messages go: a desk nobody alerts on Telegram never loads it
        channels.adapter("telegram").send(
            Outgoing(
                channel="telegram",
                address=address,
                text=rendered.text,
                job_id=step,
                ticket_id=ticket.ticket_id,
                language=language,
                button=open_button(ticket, language),
            )
        )
