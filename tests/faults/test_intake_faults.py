"""Intake under faults. Each AWS call of the webhook path fails in turn — throttled, 5xx, timed
out, its answer lost after the write, a transaction conflict, a concurrent duplicate winning the
race. One failure is retried inside the request and the provider hears 200; AWS busy through
every retry is a 503, and the provider's redelivery then stores nothing twice and queues what
the first delivery could not. Either way: the message is stored once, the customer gets one
acknowledgement, and the agent on duty is offered the ticket."""

from __future__ import annotations

import json

import pytest

from tests.faults.injector import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    SERVER_ERROR,
    THROTTLING,
    TRANSACTION_CONFLICT,
    aws_error,
)
from tests.faults.scene import FORM, Call, Scene, calls_of, numbered

INTAKE = [
    Call("dynamodb.BatchGetItem", 1, "look-up"),  # delivery, contact and thread keys
    Call("dynamodb.TransactWriteItems", 1, "store"),  # ticket, message, keys, fact
    Call("sqs.SendMessageBatch", 1, "queue-jobs"),  # the acknowledgement and the offer to duty
]


def settled_once(scene: Scene) -> None:
    """What the customer and the desk see once everything has recovered."""
    scene.pump()
    ticket = scene.ticket()
    assert scene.stored(ticket) == [FORM["message"]]
    assert len(scene.acks_by_mail()) == 1
    assert ticket.ack_state == "sent"
    assert ticket.assignee == scene.team["olena"]["id"]  # offered to the agent on duty
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_these_are_the_calls_of_the_webhook_path(scene):
    """The list the other tests fail in turn: a new call on the path must join it."""
    since = len(scene.aws.order)
    scene.post_form()

    assert numbered(calls_of(scene.aws, since)) == [(call.operation, call.nth) for call in INTAKE]


@pytest.mark.parametrize("error", [THROTTLING, SERVER_ERROR, CONNECT_TIMEOUT], ids=lambda error: error.__name__)
@pytest.mark.parametrize("call", INTAKE, ids=str)
def test_one_failing_call_is_retried_inside_the_request(scene, call, error):
    scene.aws.fail(call.operation, error, nth=call.nth)

    response = scene.post_form()

    assert response.status_code == 200, response.body
    assert scene.aws.fired == [call.operation]
    settled_once(scene)


@pytest.mark.parametrize("call", INTAKE[1:], ids=str)
def test_a_write_that_happened_but_whose_answer_was_lost_is_not_done_twice(scene, call):
    scene.aws.fail(call.operation, READ_TIMEOUT, nth=call.nth, after=True)

    response = scene.post_form()

    assert response.status_code == 200, response.body
    settled_once(scene)


def test_an_error_no_retry_can_fix_is_not_retried(scene):
    """A request AWS refuses as malformed is a bug of ours: one try, then a 500 (never a 503,
    which tells the provider to come back)."""
    scene.aws.fail("dynamodb.TransactWriteItems", aws_error("ValidationException", 400), times=10)

    response = scene.post_form()

    assert response.status_code == 500
    assert scene.aws.fired == ["dynamodb.TransactWriteItems"]


def test_a_transaction_conflict_is_retried(scene):
    scene.aws.fail("dynamodb.TransactWriteItems", TRANSACTION_CONFLICT)

    assert scene.post_form().status_code == 200
    settled_once(scene)


def test_a_concurrent_redelivery_that_commits_first_leaves_one_ticket_and_one_acknowledgement(scene):
    """The provider's retry lands while the first delivery is still in flight: its transaction
    commits first, ours fails its condition, is looked up again and answers with that ticket."""
    from chalicelib import clock, intake
    from chalicelib.channels import form

    other: list[str] = []
    scene.aws.race(
        "dynamodb.TransactWriteItems",
        lambda: other.append(intake.receive(form.parse(json.dumps(FORM).encode(), clock.now())).ticket_id),
    )

    response = scene.post_form()

    assert response.status_code == 200
    assert response.json_body["ticket"] == other[0] and response.json_body["duplicate"] is True
    settled_once(scene)


@pytest.mark.parametrize("call", INTAKE, ids=str)
def test_aws_busy_through_every_retry_is_a_503_and_the_redelivery_completes_the_ticket(scene, call):
    """E.g. SQS down after the ticket was stored: the redelivery finds the ticket and queues
    both the acknowledgement and the offer to duty, which the first delivery never queued."""
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth, times=1000)

    first = scene.post_form()
    scene.aws.clear()
    again = scene.post_form()  # as the provider redelivers (Twilio: to its Fallback URL)

    assert first.status_code == 503 and first.json_body["Code"] == "ServiceUnavailable"
    assert again.status_code == 200
    settled_once(scene)


def test_an_sms_that_meets_a_throttled_moment_is_answered_200_not_lost(scene):
    """Twilio does not retry a messaging webhook that answers 5xx (without a Fallback URL)."""
    scene.aws.fail("dynamodb.TransactWriteItems", THROTTLING)
    params = {
        "MessageSid": "SM7001",
        "AccountSid": scene.desk.env["PROMPTLY_SECRET_TWILIO_ACCOUNT_SID"],
        "From": "+380501234567",
        "To": "+15005550006",
        "Body": "Where is my parcel?",
    }

    response = scene.desk.post_twilio(params)
    scene.pump()

    assert response.status_code == 200 and "<Response>" in response.body.decode()
    assert scene.stored(scene.ticket()) == ["Where is my parcel?"]
    assert [m["payload"]["To"] for m in scene.providers.messages("twilio")] == ["+380501234567"]
