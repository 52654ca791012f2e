"""The outbox under faults. Each AWS call of a new ticket's jobs (the acknowledgement by email,
the offer to the agent on duty and the mail telling her) and of an agent's answer fails in turn;
the job backs off and is retried, and the customer still gets exactly one acknowledgement and one
answer, the ticket is offered once, the agent is told once, and nothing is left in the
dead-letter queue.

The one exception is documented in chalicelib/outbox.py: a send the provider accepted and we
did not record — the worker died between the two, or SES's answer was lost — goes out twice
(never zero times)."""

from __future__ import annotations

import pytest

from chalicelib.models import Agent
from tests.faults.injector import CONNECT_TIMEOUT, CRASH, READ_TIMEOUT, SERVER_ERROR, THROTTLING, TRANSACTION_CONFLICT
from tests.faults.scene import FORM, Call, Scene, calls_of, numbered

# One job, one read of the ticket: the acknowledgement's state rides on its record (no UpdateItem),
# the offer works on the ticket the job read (no second GetItem of it), and tells the agent it
# chose as it read them (no second read of the agent). The ticket comes in one consistent
# BatchGetItem with the single keys it names (the usual wait, the suppression entry, the
# acknowledgement's sent marker, the roster) and the agents intake found on duty with the sent
# markers of the notices the offer may send them: the job names them from what it carries. The
# acknowledgement's cooldown hold is written with its count against the rate limits, and the
# offer's assignment (the ticket, its event, the agent's load) with the acknowledgement's record.
NEW_TICKET_JOBS = [
    Call("dynamodb.BatchGetItem", 1, "ticket-keys-it-names-agents-on-duty-and-their-notice-markers"),
    Call("dynamodb.TransactWriteItems", 1, "ack-cooldown-and-rate-limits"),
    Call("ses.SendRawEmail", 1, "the-acknowledgement"),
    Call("dynamodb.TransactWriteItems", 2, "record-sent-ack-state-and-assignment"),
    Call("ses.SendRawEmail", 2, "the-offer-notice"),
    Call("dynamodb.PutItem", 1, "offer-record-sent"),
]
WRITES = [
    call for call in NEW_TICKET_JOBS if call.operation.split(".")[1] in ("PutItem", "TransactWriteItems", "UpdateItem")
]
TRANSACTIONS = [call for call in NEW_TICKET_JOBS if call.operation == "dynamodb.TransactWriteItems"]
# The ticket, the answer, its author, the suppression entry and the sent marker in one consistent
# BatchGetItem: the job names the author and where the ticket sends.
ANSWER_JOB = [
    Call("dynamodb.BatchGetItem", 1, "ticket-answer-agent-suppression-sent-marker"),
    Call("ses.SendRawEmail", 1, "the-answer"),
    Call("dynamodb.TransactWriteItems", 1, "record-sent"),
]


def new_ticket(scene: Scene) -> None:
    assert scene.post_form().status_code == 200


def settled(scene: Scene, acknowledgements: int = 1, notices: int = 1) -> None:
    """After recovery: the acknowledgement(s) the customer got, the ticket offered once, and
    the notice(s) of the offer Olena got."""
    scene.pump()
    ticket = scene.ticket()
    assert len(scene.acks_by_mail()) == acknowledgements
    told = [subject for subject in scene.mail_to("olena@promptly.example") if subject.startswith("[On duty]")]
    assert len(told) == notices
    assert ticket.ack_state == "sent"
    assert ticket.assignee == scene.team["olena"]["id"]
    assert Agent.get(scene.team["olena"]["id"]).open_load == 1  # offered once, counted once
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_these_are_the_calls_of_a_new_tickets_jobs(scene):
    new_ticket(scene)
    since = len(scene.aws.order)
    scene.pump()

    assert numbered(calls_of(scene.aws, since)) == [(call.operation, call.nth) for call in NEW_TICKET_JOBS]


@pytest.mark.parametrize("error", [THROTTLING, SERVER_ERROR, CONNECT_TIMEOUT], ids=lambda error: error.__name__)
@pytest.mark.parametrize("call", NEW_TICKET_JOBS, ids=str)
def test_a_failing_call_costs_a_retry_never_a_message(scene, call, error):
    new_ticket(scene)
    scene.aws.fail(call.operation, error, nth=call.nth)

    settled(scene)
    assert scene.aws.fired == [call.operation]


@pytest.mark.parametrize("call", WRITES, ids=str)
def test_a_write_whose_answer_was_lost_is_not_done_twice(scene, call):
    """The write happened; the worker saw a timeout. The retried job finds what it wrote."""
    new_ticket(scene)
    scene.aws.fail(call.operation, READ_TIMEOUT, nth=call.nth, after=True)

    settled(scene)


@pytest.mark.parametrize("call", TRANSACTIONS, ids=str)
def test_a_transaction_conflict_is_retried_and_never_sends_twice(scene, call):
    """On the record, the acknowledgement was accepted by SES already: a conflict there is
    retried in-process, not by the job, which would send again."""
    new_ticket(scene)
    scene.aws.fail(call.operation, TRANSACTION_CONFLICT, nth=call.nth)

    settled(scene)
    assert scene.aws.fired == [call.operation]


# The documented window: accepted by the provider, not recorded by us --------------------------
def test_ses_accepting_but_its_answer_lost_sends_the_acknowledgement_twice_never_zero_times(scene):
    new_ticket(scene)
    scene.aws.fail("ses.SendRawEmail", READ_TIMEOUT, after=True)

    settled(scene, acknowledgements=2)


def test_the_worker_dying_between_the_send_and_its_record_sends_twice_never_zero_times(scene):
    new_ticket(scene)
    scene.aws.fail("dynamodb.TransactWriteItems", CRASH, nth=2)

    settled(scene, acknowledgements=2)


def test_the_same_job_run_by_two_workers_at_once_sends_twice_never_zero_times(scene):
    """SQS is at-least-once: a second copy of the job, run while the first is between its send
    and its record, sends too; the later record finds the marker and counts it recorded."""
    from chalicelib import jobs

    new_ticket(scene)
    ticket_id = scene.ticket().ticket_id
    scene.aws.race(
        "dynamodb.TransactWriteItems",
        lambda: jobs.dispatch({"kind": "new_ticket", "job_id": f"new-{ticket_id}", "ticket_id": ticket_id}),
        nth=2,
    )

    settled(scene, acknowledgements=2)


def test_an_edit_between_the_jobs_read_and_its_record_is_kept_and_the_offer_made_apart(scene):
    """The offer rides on the acknowledgement's record as a version-checked write of the whole
    ticket. A person changing the ticket in between (here its priority) makes that write fail its
    check: the record goes without it, the edit stays, and the offer is made on its own, on a
    fresh read: acknowledged once, offered once, told once."""
    from chalicelib.models import Ticket

    def edit() -> None:
        ticket = scene.ticket()
        ticket.urgent_reason = "telephony is down"
        ticket.save()  # version-checked, and moves the version on

    new_ticket(scene)
    scene.aws.race("dynamodb.TransactWriteItems", edit, nth=2)

    settled(scene)
    assert Ticket.get(scene.ticket().ticket_id).urgent_reason == "telephony is down"


def test_the_same_job_queued_twice_run_by_two_workers_tells_the_agent_once(scene):
    """Both copies read the notices' markers with the ticket, before either offers: the copy that
    offers second finds its assignment refused (the version moved), finds the ticket given by
    routing, and reads the marker again before telling."""
    from chalicelib import jobs

    new_ticket(scene)
    [job] = [message for message in _queued()]
    scene.aws.race("dynamodb.TransactWriteItems", lambda: jobs.dispatch(job), nth=2)

    settled(scene, acknowledgements=2)  # the documented window for the acknowledgement, not the notice


def _queued() -> list[dict]:
    import json

    from chalicelib import aws, stage

    messages = aws.client("sqs").receive_message(
        QueueUrl=aws.queue_url(stage.outbox_queue()), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


# An agent's answer ----------------------------------------------------------------------------
def answered(scene: Scene) -> str:
    """Olena answers Olga's ticket (its acknowledgement and offer done); returns the ticket id."""
    new_ticket(scene)
    scene.pump()
    ticket_id = scene.ticket().ticket_id
    reply = scene.desk.api(
        "POST", f"/api/tickets/{ticket_id}/reply", scene.team["olena"]["token"], {"text": "Reset link sent."}
    )
    assert reply.status_code == 201, reply.body
    return ticket_id


def answers_received(scene: Scene) -> list[str]:
    return [subject for subject in scene.mail_to(FORM["email"]) if subject.startswith("Re: ")]


def test_these_are_the_calls_of_an_answers_job(scene):
    answered(scene)
    since = len(scene.aws.order)
    scene.pump()

    assert numbered(calls_of(scene.aws, since)) == [(call.operation, call.nth) for call in ANSWER_JOB]


@pytest.mark.parametrize("call", ANSWER_JOB, ids=str)
def test_an_answer_goes_out_once_whichever_call_is_throttled(scene, call):
    answered(scene)
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth)

    scene.pump()

    assert len(answers_received(scene)) == 1
    assert scene.aws.fired == [call.operation]
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_an_answers_job_queued_before_it_named_its_reads_still_sends_once(scene, monkeypatch):
    """A deployed stage may hold answer jobs without `author` and `to`: they read one by one."""
    from chalicelib import outbox

    queued: list[dict] = []
    monkeypatch.setattr(outbox, "enqueue", queued.append)
    answered(scene)
    monkeypatch.undo()
    [job] = queued
    old = {name: value for name, value in job.items() if name not in ("author", "to")}
    assert old != job  # the new job names them
    outbox.enqueue(old)
    since = len(scene.aws.order)
    scene.pump()

    assert len(answers_received(scene)) == 1
    assert "dynamodb.BatchGetItem" not in calls_of(scene.aws, since)
    outbox.enqueue(job)  # and the new one after it (SQS at-least-once): nothing twice
    scene.pump()
    assert len(answers_received(scene)) == 1
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_an_answers_record_whose_answer_was_lost_is_not_sent_again(scene):
    answered(scene)
    scene.aws.fail("dynamodb.TransactWriteItems", READ_TIMEOUT, after=True)

    scene.pump()

    assert len(answers_received(scene)) == 1
    assert scene.dead_letters() == []


def test_every_read_of_a_sent_marker_is_strongly_consistent(scene):
    """moto is always consistent, DynamoDB is not by default: an eventually consistent read can
    miss the marker the job's previous try wrote a moment ago and send again. So this checks the
    requests themselves: each GetItem of a marker, and each BatchGetItem that asks for one."""
    from chalicelib import models
    from chalicelib.models import Key

    reads: list[tuple[str, bool]] = []

    def seen(params: dict, **_: object) -> None:
        key = params.get("Key", {}).get("key", {}).get("S", "")
        if key.startswith("sent#"):
            reads.append((key, bool(params.get("ConsistentRead"))))
        batch = params.get("RequestItems", {}).get(Key.Meta.table_name, {})
        for asked in batch.get("Keys", []):
            if asked["key"]["S"].startswith("sent#"):
                reads.append((asked["key"]["S"], bool(batch.get("ConsistentRead"))))

    clients = {id(c): c for c in (models.connection().client, Key._get_connection().connection.client)}
    for client in clients.values():
        client.meta.events.register("provide-client-params.dynamodb", seen)
    try:
        answered(scene)
        scene.pump()
    finally:
        for client in clients.values():
            client.meta.events.unregister("provide-client-params.dynamodb", seen)

    assert len(reads) >= 3 and all(consistent for _, consistent in reads), reads  # ack, offer notice, answer
