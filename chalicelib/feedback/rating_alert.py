"""A bad rating (feedback/csat.py) told to the people who can act on it: the ticket's owner and
the queue's leads, or, when it has neither, the queue's team address and Slack channel. It goes
out like an SLA warning (sla/notify.py), on each person's alert email, Slack and Telegram, with
the link to the ticket's console page, where a reply today may still turn the rating around."""

from __future__ import annotations

from chalicelib import outbox
from chalicelib.agents import staff
from chalicelib.config import settings
from chalicelib.job_kinds import RatingAlertJob, Recipients
from chalicelib.models import Ticket
from chalicelib.sla import notify


def send(job: RatingAlertJob) -> None:
    """The outbox job: the owner and the queue's leads hear it, with the customer's comment."""
    ticket = Ticket.get(job["ticket_id"])
    if ticket.rating != "bad":
        return  # changed to good before we got to it (checked first: a later bad vote may still claim)
    if not outbox.claim(job["job_id"], job["nonce"]):
        return  # another job of this solve (a double click) owns the alert
    context = {
        **notify.ticket_context(ticket),
        "rating_comment": ticket.rating_comment or "",
    }
    notify.tell(job["job_id"], recipients(ticket), ticket, "rating_alert", context, "feedback")


def recipients(ticket: Ticket) -> Recipients:
    people = list(dict.fromkeys([*([ticket.assignee] if ticket.assignee else []), *staff.leads_of(ticket.queue)]))
    chosen: Recipients = {"agents": people}
    if not people:  # nobody owns it and the queue has no lead: the team hears it rather than no one
        queue = settings().queues.get(ticket.queue)  # a queue since removed from desk.toml has no team
        if queue:
            chosen["team_email"], chosen["team_slack"] = queue.team_email, queue.team_slack
    return chosen
