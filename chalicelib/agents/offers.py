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
from chalicelib.models import Ticket
from chalicelib.sla import notify
from chalicelib.tickets import Changed

TEMPLATE = "offer"


def send(job: OfferJob) -> None:
    """The offer job of a deployed stage's queue (a new ticket's job does it now)."""
    job_id = job.get("job_id") or f"offer-{job['ticket_id']}"  # jobs queued before job ids had none
    offer(Ticket.get(job["ticket_id"], consistent_read=True), job_id)


def offer(ticket: Ticket, job_id: str) -> None:
    """Offer `ticket` (as just read) to the agent on duty, then tell them. If the desk wrote it
    meanwhile (an agent took it, the SLA watch), the offer is weighed again on a fresh read."""
    try:
        offered = work.offer_to_duty(ticket)
    except Changed:
        offered = work.offer_to_duty(Ticket.get(ticket.ticket_id, consistent_read=True))
    if offered is None or offered[0].assignee is None:
        return  # nobody on duty, or a person got to it first: nobody to tell
    ticket, chosen = offered
    context = {
        **notify.ticket_context(ticket),
        "due": ticket.first_response_due,  # None when the queue's policy sets no first response
        "tz": settings().desk.timezone,
    }
    known = [chosen] if chosen is not None else []  # read to choose them: not read again to tell them
    notify.tell(job_id, {"agents": [ticket.assignee]}, ticket, TEMPLATE, context, "routing", known)
