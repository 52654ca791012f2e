"""A new ticket's one outbox job: one invocation acknowledges the customer and offers the ticket to
the agent on duty, on one strongly consistent read of the ticket, and writes the acknowledgement's
state with its record. A redelivered job, or the two jobs a deployed stage queued before this one
("ack" and "offer"), send nothing twice."""

from __future__ import annotations

import json

from chalicelib import aws, clock, job_kinds, keys, models, outbox, stage
from chalicelib.agents import staff
from chalicelib.models import Agent, Key, Ticket
from tests.faults.scene import calls_of
from tests.faults.test_outbox_faults import new_ticket, settled


def queued() -> list[dict[str, object]]:
    """The jobs on the outbox queue now (left visible)."""
    messages = aws.client("sqs").receive_message(
        QueueUrl=aws.queue_url(stage.outbox_queue()), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_one_job_acknowledges_and_offers_in_one_invocation(scene):
    new_ticket(scene)
    ticket_id = scene.ticket().ticket_id

    assert [job["kind"] for job in queued()] == ["new_ticket"]
    assert scene.desk.pump(rounds=1) == 0  # one invocation, then the queue is empty
    assert queued() == []
    settled(scene)  # acknowledged, offered to Olena, who was told
    assert scene.ticket().ticket_id == ticket_id


def test_the_job_reads_the_ticket_once_consistently_and_never_updates_it_apart(scene):
    reads: list[object] = []  # whether each read of the ticket was strongly consistent

    def seen(params: dict[str, object], **_: object) -> None:
        if params.get("TableName") == Ticket.Meta.table_name:  # a GetItem
            reads.append(params.get("ConsistentRead"))
        batch = params.get("RequestItems", {}).get(Ticket.Meta.table_name)  # type: ignore[attr-defined]
        if batch is not None:  # the ticket among other keys of a BatchGetItem
            reads.extend([batch.get("ConsistentRead")] * len(batch["Keys"]))

    clients = {id(c): c for c in (models.connection().client, Ticket._get_connection().connection.client)}
    for client in clients.values():
        client.meta.events.register("before-parameter-build.dynamodb", seen)
    try:
        new_ticket(scene)
        since = len(scene.aws.order)
        scene.pump()
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-parameter-build.dynamodb", seen)

    assert reads == [True]  # one read, strongly consistent
    assert "dynamodb.UpdateItem" not in calls_of(scene.aws, since)  # the ack state rode on its record
    assert scene.ticket().ack_state == "sent"


def test_a_redelivered_job_sends_nothing_twice(scene):
    new_ticket(scene)
    scene.pump()
    ticket_id = scene.ticket().ticket_id

    outbox.enqueue_many(job_kinds.new_ticket(ticket_id, acknowledge=True, offer=True))  # SQS at-least-once

    settled(scene)  # still one acknowledgement, one offer, one notice


def test_the_two_jobs_a_deployed_stage_still_has_queued_do_the_same_and_send_nothing_twice(scene, monkeypatch):
    monkeypatch.setattr(outbox, "enqueue_many", lambda jobs: None)  # the ticket's jobs queued by the old code...
    new_ticket(scene)
    monkeypatch.undo()
    ticket_id = scene.ticket().ticket_id
    outbox.enqueue_many([job_kinds.ack(ticket_id), job_kinds.duty_offer(ticket_id)])  # ...as it queued them

    settled(scene)
    outbox.enqueue_many(job_kinds.new_ticket(ticket_id, acknowledge=True, offer=True))  # and then the new one too
    settled(scene)


def test_the_ticket_and_the_keys_it_names_come_in_one_consistent_batch(scene):
    """The ticket, the usual wait, the suppression entry, the acknowledgement's sent marker, the
    roster, the agent on duty and her notices' markers: one BatchGetItem, strongly consistent (a
    sent marker decides a send), not a GetItem each."""
    batches: list[dict[str, object]] = []

    def seen(params: dict[str, object], **_: object) -> None:
        batches.append(params)

    clients = {id(c): c for c in (models.connection().client, Key._get_connection().connection.client)}
    for client in clients.values():
        client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", seen)
    try:
        new_ticket(scene)
        batches.clear()  # the webhook's own lookup
        scene.pump()
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-parameter-build.dynamodb.BatchGetItem", seen)

    wanted = batches[0]["RequestItems"][Key.Meta.table_name]  # type: ignore[index]
    ticket = scene.ticket()
    assert wanted["ConsistentRead"] is True
    assert batches[0]["RequestItems"][Ticket.Meta.table_name] == {  # type: ignore[index]
        "Keys": [{"ticket_id": {"S": ticket.ticket_id}}],
        "ConsistentRead": True,
    }  # the ticket in the same call: it decides whether these keys matter
    olena = scene.team["olena"]["id"]
    assert sorted(key["key"]["S"] for key in wanted["Keys"]) == sorted(
        [
            keys.USUAL_SUMMARY,
            keys.suppressed(ticket.email),
            keys.sent(f"ack-{ticket.ticket_id}"),
            keys.roster(ticket.queue, staff.week_of(clock.now())),
            # the notices the offer may send Olena, on duty as intake read the roster
            *(keys.sent(f"offer-{ticket.ticket_id}#{olena}#{medium}") for medium in ("email", "slack", "telegram")),
        ]
    )
    assert batches[0]["RequestItems"][Agent.Meta.table_name]["Keys"] == [{"agent_id": {"S": olena}}]  # type: ignore[index]
    settled(scene)


def test_a_job_whose_names_went_stale_reads_what_the_ticket_needs_and_offers_it_rightly(scene, monkeypatch):
    """The job names the keys it reads from the ticket as intake wrote it. If the ticket moved to
    another queue before the job ran, the roster it named is the wrong one: the ticket as read
    decides, and the right roster is read on its own."""
    monkeypatch.setattr(outbox, "enqueue_many", lambda jobs: None)
    new_ticket(scene)
    monkeypatch.undo()
    ticket = scene.ticket()
    names = job_kinds.ticket_names(
        channel=ticket.channel,
        address=ticket.address,
        email=ticket.email,
        queue="billing",  # not the ticket's queue (general): nobody is on duty there
        acknowledge=True,
        offer=True,
    )
    outbox.enqueue_many(job_kinds.new_ticket(ticket.ticket_id, acknowledge=True, offer=True, names=names))

    settled(scene)  # acknowledged once, and offered to Olena, on duty for general


def test_the_roster_as_the_job_reads_it_decides_whom_the_ticket_is_offered_to(scene):
    """Intake names who was on duty, so the job reads them with the ticket; the lead changes the
    roster before the job runs: the job's own read of the roster decides, and the agent now on
    duty is read and told."""
    new_ticket(scene)  # queued naming Olena
    [job] = queued()
    assert job["names"]["on_duty"] == [scene.team["olena"]["id"]]  # type: ignore[index]
    taras = staff.create_agent(
        first_name="Taras", last_name="Bondar", email="taras@promptly.example", role="agent", queues=["general"]
    )
    staff.set_roster("general", staff.week_of(clock.now()), [taras.agent_id])

    scene.pump()

    assert scene.ticket().assignee == taras.agent_id
    assert len([s for s in scene.mail_to("taras@promptly.example") if s.startswith("[On duty]")]) == 1
    assert scene.mail_to("olena@promptly.example") == []
    assert Agent.get(taras.agent_id).open_load == 1
