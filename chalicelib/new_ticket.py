"""A new ticket's one outbox job: the acknowledgement to the customer, then the offer to the agent
on duty (who is told), in one invocation on one strongly consistent read of the ticket. Two jobs
cost two invocations, two reads of the same ticket and two version bumps an agent's first action
could collide with (agents/work.py `again_if_changed`); the acknowledgement first, since the
customer waits for it.

Each half keeps its own guarantees (replies.py, agents/offers.py): its steps are the ids the two
former job kinds used, so an "ack" or "offer" job a deployed stage still has queued and this job
never send a step twice. A failure of one half does not hold the other back: both are tried, then
the first failure is raised and the job retried, which finds the half done already done (the
acknowledgement settled, the ticket owned by routing's offer).

After the ticket, the single keys both halves read and the ticket names (the usual wait, the
acknowledgement's `sent#` markers and suppression entry, the queue's roster) come in one consistent
BatchGetItem (already_read.py), not a GetItem each. Each try reads them afresh.
"""

from __future__ import annotations

from chalicelib import already_read, clock, job_kinds, replies
from chalicelib.agents import offers
from chalicelib.job_kinds import NewTicketJob
from chalicelib.models import Ticket


def settle(job: NewTicketJob) -> None:
    """Acknowledge the ticket if it is pending, and offer it if it awaits its owner."""
    ticket_id = job["ticket_id"]
    ticket = Ticket.get(ticket_id, consistent_read=True)  # ack_state decides a send
    ack_id, offer_id = job_kinds.ack(ticket_id)["job_id"], job_kinds.duty_offer(ticket_id)["job_id"]
    read = already_read.read([*replies.ack_reads(ticket, ack_id), *offers.offer_reads(ticket, clock.now())])
    failure: Exception | None = None
    try:
        replies.acknowledge(ticket, ack_id, read)
    except Exception as error:  # noqa: BLE001 - raised below, after the offer had its try
        failure = error
    if not ticket.automated:  # robot mail is nobody's to be offered
        try:
            offers.offer(ticket, offer_id, read)
        except Exception as error:  # noqa: BLE001 - the first failure is the one raised
            failure = failure or error
    if failure is not None:
        raise failure
