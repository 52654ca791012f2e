"""The duty offer, told: routing gives a new ticket to the agent on duty (work.offer_to_duty),
and that agent hears it where they take alerts — email, Slack, Telegram — with the link to the
ticket's console page, like an SLA warning (sla/notify.py). Otherwise the first they would know
of it is its SLA warning.

The job's steps are each sent at most once, so a retried offer job never tells twice; a retry
after the assignment was written still tells (offer_to_duty answers for the earlier try).
"""

from __future__ import annotations

from chalicelib.agents import work
from chalicelib.config import settings
from chalicelib.job_kinds import OfferJob
from chalicelib.sla import notify

TEMPLATE = "offer"


def send(job: OfferJob) -> None:
    """The outbox job: offer the ticket to the agent on duty, then tell them."""
    ticket = work.offer_to_duty(job["ticket_id"])
    if ticket is None or ticket.assignee is None:
        return  # nobody on duty, or a person got to it first: nobody to tell
    context = {
        **notify.ticket_context(ticket),
        "due": ticket.first_response_due,  # None when the queue's policy sets no first response
        "tz": settings().desk.timezone,
    }
    job_id = job.get("job_id") or f"offer-{ticket.ticket_id}"  # jobs queued before job ids had none
    notify.tell(job_id, {"agents": [ticket.assignee]}, ticket, TEMPLATE, context, "routing")
