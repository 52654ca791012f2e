"""The SLA watch under faults. Each AWS call of the minute's run and of the warning's job fails
in turn; the next minute's run (EventBridge's) and the job's retries recover, and the agent
gets each warning exactly once — also when two runs overlap."""

from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.models import Ticket
from tests.faults.injector import READ_TIMEOUT, THROTTLING
from tests.faults.scene import Call, Scene, calls_of, numbered, runs, schedule
from tests.harness import KYIV

OLENA = "olena@promptly.example"
WATCH_RUN = [
    Call("dynamodb.Query", 1, "due-tickets-by-shard"),  # one Query per shard of the sparse index
    Call("dynamodb.BatchGetItem", 1, "the-due-tickets"),  # by_alert holds keys only
    Call("sqs.SendMessageBatch", 1, "queue-warnings"),
    Call("dynamodb.TransactWriteItems", 1, "move-the-ticket-on"),
]
WARNING_JOB = [
    Call("dynamodb.PutItem", 1, "claim-the-warning"),
    Call("dynamodb.GetItem", 1, "ticket"),
    Call("dynamodb.BatchGetItem", 1, "recipients"),
    Call("dynamodb.GetItem", 2, "sent-marker"),
    Call("ses.SendRawEmail", 1, "the-warning"),
    Call("dynamodb.PutItem", 2, "mark-sent"),
]


def due_for_a_warning(scene: Scene) -> str:
    """Olga's Monday 10:00 form ticket, offered to Olena (due 14:00); the clock at 13:00, when
    its 75 % warning is due. Returns the ticket id."""
    assert scene.post_form().status_code == 200
    scene.pump()
    scene.desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    return scene.ticket().ticket_id


def watch(scene: Scene) -> bool:
    """One run of the schedule; False if it failed (EventBridge runs it again a minute later)."""
    try:
        schedule(scene.desk, "sla_watch")
    except Exception:  # noqa: BLE001 (any failure: EventBridge runs it again a minute later)
        return False
    return True


def warnings(scene: Scene) -> list[str]:
    return [subject for subject in scene.mail_to(OLENA) if subject.startswith("[SLA")]


def warned_once(scene: Scene, ticket_id: str) -> None:
    scene.desk.at(datetime(2026, 11, 23, 13, 1, tzinfo=KYIV))
    assert watch(scene)  # the next minute's run
    scene.pump()
    [warning] = warnings(scene)
    assert warning.startswith("[SLA 75%]")
    assert "first_response#0" in (Ticket.get(ticket_id).alerts_sent or {})  # moved on to the next warning
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_these_are_the_calls_of_a_watch_run_and_its_warning(scene):
    due_for_a_warning(scene)
    since = len(scene.aws.order)
    assert watch(scene)
    middle = len(scene.aws.order)
    scene.pump()

    assert runs(calls_of(scene.aws, since)[: middle - since]) == [(c.operation, c.nth) for c in WATCH_RUN]
    assert numbered(calls_of(scene.aws, middle)) == [(c.operation, c.nth) for c in WARNING_JOB]


@pytest.mark.parametrize("call", WATCH_RUN, ids=str)
def test_a_failing_call_of_the_run_is_made_good_by_the_next_minutes_run(scene, call):
    ticket_id = due_for_a_warning(scene)
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth)

    watch(scene)
    scene.pump()

    assert scene.aws.fired == [call.operation]
    warned_once(scene, ticket_id)


def test_queued_warnings_whose_answer_was_lost_are_sent_once(scene):
    """SQS took the batch, the run saw a timeout and stopped before moving the ticket on: the
    next run queues the warning again, and the claim keeps it to one email."""
    ticket_id = due_for_a_warning(scene)
    scene.aws.fail("sqs.SendMessageBatch", READ_TIMEOUT, after=True)

    assert not watch(scene)
    scene.pump()

    warned_once(scene, ticket_id)


def test_two_overlapping_runs_warn_once(scene):
    """A second run starts while the first is between queueing and moving the ticket on."""
    ticket_id = due_for_a_warning(scene)
    scene.aws.race("dynamodb.TransactWriteItems", lambda: schedule(scene.desk, "sla_watch"))

    assert watch(scene)
    scene.pump()

    warned_once(scene, ticket_id)


@pytest.mark.parametrize("call", WARNING_JOB, ids=str)
def test_a_failing_call_of_the_warning_job_costs_a_retry_never_a_second_email(scene, call):
    ticket_id = due_for_a_warning(scene)
    assert watch(scene)
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth)

    scene.pump()

    assert scene.aws.fired == [call.operation]
    warned_once(scene, ticket_id)


def test_a_mark_whose_answer_was_lost_does_not_send_the_warning_again(scene):
    ticket_id = due_for_a_warning(scene)
    assert watch(scene)
    scene.aws.fail("dynamodb.PutItem", READ_TIMEOUT, nth=2, after=True)

    scene.pump()

    warned_once(scene, ticket_id)
