"""The duty offer, told: routing gives a new ticket to the agent on duty (work.offer_to_duty),
and that agent hears it where they take alerts — email, Slack, Telegram — with the link to the
ticket's console page, like an SLA warning (sla/notify.py). Otherwise the first they would know
of it is its SLA warning.

The job's steps are each sent at most once, so a retried offer job never tells twice; a retry
after the assignment was written still tells (offer_to_duty answers for the earlier try).

The agents on duty and the `sent#` markers of every notice the offer might send them (each agent
× each medium) are read together: who is chosen, and so which marker matters, is known only from
their loads, and reading a few absent keys costs less than another call. A new ticket's job reads
them with the ticket, for the agents intake found on the roster (new_ticket.py); the roster read
with them decides, and an agent on it the job did not read is read here, in one more call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib import already_read, clock, keys, lifecycle
from chalicelib.agents import staff, work
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.config import settings
from chalicelib.job_kinds import OfferJob
from chalicelib.models import Agent, Ticket
from chalicelib.sla import notify
from chalicelib.sla import recipients as who
from chalicelib.tickets import Changed

TEMPLATE = "offer"


def send(job: OfferJob) -> None:
    """The offer job of a deployed stage's queue (a new ticket's job does it now)."""
    job_id = job.get("job_id") or f"offer-{job['ticket_id']}"  # jobs queued before job ids had none
    offer(Ticket.get(job["ticket_id"], consistent_read=True), job_id)


def offer_reads(ticket: Ticket, now: datetime) -> list[str]:
    """The key `offer` reads, known from the ticket: its queue's roster this week, if it is
    still to be offered (what it tells is known only once the agent is chosen)."""
    if ticket.automated or ticket.assignee or ticket.status not in lifecycle.LIVE:
        return []
    return [keys.roster(ticket.queue, staff.week_of(now))]


@dataclass(frozen=True)
class Prepared:
    """What the offer read before it writes anything (the agents on duty, their notices' markers),
    and the offer to ride on the acknowledgement's record (work.RidingOffer), if there is one to make."""

    read: AlreadyRead
    riding: work.RidingOffer | None


def prepare(ticket: Ticket, job_id: str, read: AlreadyRead = NOTHING) -> Prepared:
    """Read what the offer needs and choose the agent, writing nothing: a new ticket's job hands
    the choice to its acknowledgement, whose record then writes it (new_ticket.py)."""
    read = read.plus(_duty_reads(ticket, job_id, read))
    chosen = None if ticket.automated else work.duty_choice(ticket, read)
    return Prepared(read, work.RidingOffer(chosen) if chosen is not None else None)


def offer(ticket: Ticket, job_id: str, read: AlreadyRead = NOTHING, prepared: Prepared | None = None) -> None:
    """Offer `ticket` (as just read) to the agent on duty, then tell them. If the desk wrote it
    meanwhile (an agent took it, the SLA watch), the offer is weighed again on a fresh read.
    `read`: what the job read up front (the roster); `prepared`: what `prepare` read and chose
    — if its offer rode on the acknowledgement's record, the agent is only told."""
    prepared = prepared or prepare(ticket, job_id, read)
    if prepared.riding is not None and prepared.riding.done:  # this try's own, version-checked write
        _tell(job_id, ticket, prepared.riding.agent, prepared.read)
        return
    read = prepared.read
    markers = read  # the notices' markers, as read with the ticket
    try:
        offered = work.offer_to_duty(ticket, read)
    except Changed:
        markers = NOTHING  # written since the job read it: by another run of this job too, maybe
        offered = work.offer_to_duty(Ticket.get(ticket.ticket_id, consistent_read=True), read)
    if offered is None or offered[0].assignee is None:
        return  # nobody on duty, or a person got to it first: nobody to tell
    ticket, chosen = offered
    if chosen is None:
        # assigned by an earlier or a concurrent run of this job, which may have told them since
        # the markers were read: read each again before its send (only this try's own assignment,
        # version-checked against the ticket read with the markers, vouches for them)
        markers = NOTHING
    _tell(job_id, ticket, chosen, markers)


def _tell(job_id: str, ticket: Ticket, chosen: Agent | None, markers: AlreadyRead) -> None:
    """Tell the ticket's new owner; `chosen`: as read to choose them (not read again)."""
    context = {
        **notify.ticket_context(ticket),
        "due": ticket.first_response_due,  # None when the queue's policy sets no first response
        "tz": settings().desk.timezone,
    }
    known = [chosen] if chosen is not None else []
    notify.tell(job_id, {"agents": [ticket.assignee]}, ticket, TEMPLATE, context, "routing", known, markers)


def _duty_reads(ticket: Ticket, job_id: str, read: AlreadyRead) -> AlreadyRead:
    """The agents on duty for `ticket` (still to be offered) and the markers of the notices the
    offer may send each of them, in one read."""
    now = clock.now()
    on_duty = staff.on_duty(ticket.queue, now, read) if offer_reads(ticket, now) else []
    markers = notice_markers(job_id, on_duty)
    if read.knows_agents(on_duty) and all(read.knows(marker) for marker in markers):
        return NOTHING  # the job read them with the ticket (intake named who was on duty)
    return already_read.read(markers, agents=on_duty)


def notice_markers(job_id: str, agent_ids: list[str]) -> list[str]:
    """The `sent#` markers of every notice the offer might send these agents (each × each medium)."""
    return [keys.sent(who.step(job_id, agent_id, medium)) for agent_id in agent_ids for medium in who.MEDIA]
