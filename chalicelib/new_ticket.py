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

The offer chooses its agent before the acknowledgement goes (agents/offers.py `prepare`, which
writes nothing), and its assignment rides on the acknowledgement's record: one transaction writes
the sent message, its marker, the acknowledgement's state and the ticket given to the agent, with
the offer's event and the agent's load (replies.Settle, agents/work.py RidingOffer). The ticket is
then written once by this job, not twice. If the acknowledgement is not recorded now (suppressed,
sent before, failed) or the ticket changed meanwhile, the offer writes its own transaction as before.

The ticket and the single keys both halves read (the usual wait, the acknowledgement's `sent#`
markers and suppression entry, the queue's roster) come in one consistent BatchGetItem
(already_read.py), not a GetItem of the ticket and then a batch of what it names: the job carries
what names them (job_kinds.TicketNames: the ticket's channel, addresses and queue as intake wrote
them) — and the agents intake found on duty with their notices' markers (agents/offers.py). A key
the ticket as read needs and the job did not name (an agent moved it to another queue meanwhile,
the roster changed) is read on its own by the function that needs it; one named and not needed (the
acknowledgement went out already) is not used. A job queued before it carried the names reads
the ticket first, as before. Each try reads afresh.
"""

from __future__ import annotations

from chalicelib import already_read, clock, job_kinds, replies
from chalicelib.agents import offers
from chalicelib.already_read import AlreadyRead
from chalicelib.job_kinds import NewTicketJob
from chalicelib.models import Ticket


def settle(job: NewTicketJob) -> None:
    """Acknowledge the ticket if it is pending, and offer it if it awaits its owner."""
    ticket_id = job["ticket_id"]
    ack_id, offer_id = job_kinds.ack(ticket_id)["job_id"], job_kinds.duty_offer(ticket_id)["job_id"]
    ticket, read = _read(job, ack_id)  # consistent: ack_state decides a send
    failure: Exception | None = None
    prepared: offers.Prepared | None = None
    if not ticket.automated:  # robot mail is nobody's to be offered
        try:
            prepared = offers.prepare(ticket, offer_id, read)  # no write: what the offer read, whom it chose
        except Exception as error:  # noqa: BLE001 - raised below, after the acknowledgement had its try
            failure = error
    try:
        replies.acknowledge(ticket, ack_id, read, prepared.riding if prepared is not None else None)
    except Exception as error:  # noqa: BLE001 - raised below, after the offer had its try
        failure = failure or error
    if prepared is not None:
        try:
            offers.offer(ticket, offer_id, read, prepared)
        except Exception as error:  # noqa: BLE001 - the first failure is the one raised
            failure = failure or error
    if failure is not None:
        raise failure


def _read(job: NewTicketJob, ack_id: str) -> tuple[Ticket, AlreadyRead]:
    """The ticket and the keys both halves read: in one call when the job names them."""
    names = job.get("names")
    if names is None:  # queued before jobs carried them: the ticket says which keys
        ticket = Ticket.get(job["ticket_id"], consistent_read=True)
        return ticket, already_read.read(_reads(ticket, ack_id, acknowledge=True, offer=True))
    as_written = Ticket(
        job["ticket_id"],
        channel=names["channel"],
        address=names["address"],
        email=names["email"],
        queue=names["queue"],
        status="new",
        ack_state="pending",
    )
    wanted = _reads(as_written, ack_id, acknowledge=names["acknowledge"], offer=names["offer"])
    on_duty = names.get("on_duty", []) if names["offer"] else []
    offer_id = job_kinds.duty_offer(job["ticket_id"])["job_id"]
    wanted += offers.notice_markers(offer_id, on_duty)
    read = already_read.read(wanted, ticket_id=job["ticket_id"], agents=on_duty)
    if read.ticket is None:  # not so: asked for, it is there or read raised
        raise Ticket.DoesNotExist()
    return read.ticket, read


def _reads(ticket: Ticket, ack_id: str, *, acknowledge: bool, offer: bool) -> list[str]:
    return [
        *(replies.ack_reads(ticket, ack_id) if acknowledge else []),
        *(offers.offer_reads(ticket, clock.now()) if offer else []),
    ]
