"""The morning digest under faults. Each AWS call of the run and of the mailing job fails in
turn; the next hour's run and the job's retries recover, and the lead gets the digest once."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.faults.injector import READ_TIMEOUT, THROTTLING
from tests.faults.scene import Call, Scene, calls_of, numbered, runs, schedule
from tests.harness import KYIV

LEV = "lev@promptly.example"
DIGEST_RUN = [
    Call("dynamodb.GetItem", 1, "sent-today-marker"),
    Call("dynamodb.Query", 1, "facts-and-live-tickets"),  # one Query per day read, one per queue
    Call("dynamodb.GetItem", 2, "admins-and-leads"),
    Call("dynamodb.BatchGetItem", 1, "people"),
    Call("s3.PutObject", 1, "archive"),  # the JSON, then the HTML
    Call("dynamodb.PutItem", 1, "usual-wait-summary"),
    Call("sqs.SendMessageBatch", 1, "queue-the-mails"),
    Call("dynamodb.PutItem", 2, "sent-today-marker"),
]
DIGEST_JOB = [
    Call("dynamodb.PutItem", 1, "claim"),
    Call("dynamodb.GetItem", 1, "sent-marker"),
    Call("dynamodb.GetItem", 2, "reader"),
    Call("s3.GetObject", 1, "archived-figures"),
    Call("ses.SendRawEmail", 1, "the-digest"),
    Call("dynamodb.PutItem", 2, "mark-sent"),
]


def a_day_to_digest(scene: Scene) -> None:
    """Monday brought Olga's ticket; it is Tuesday 09:00 in Kyiv, past the digest hour."""
    assert scene.post_form().status_code == 200
    scene.pump()
    scene.desk.at(datetime(2026, 11, 24, 9, 0, tzinfo=KYIV))


def digest(scene: Scene) -> bool:
    try:
        schedule(scene.desk, "morning_digest")
    except Exception:  # noqa: BLE001 (any failure: EventBridge runs the schedule again)
        return False
    return True


def digested_once(scene: Scene) -> None:
    scene.desk.at(datetime(2026, 11, 24, 10, 0, tzinfo=KYIV))
    assert digest(scene)  # the next hour's run
    scene.pump()
    [mail] = scene.mail_to(LEV)
    assert "digest · Mon 23 Nov: 1 ticket" in mail
    assert scene.dead_letters() == [] and scene.backlog() == 0


def test_these_are_the_calls_of_a_digest_run_and_its_mail(scene):
    a_day_to_digest(scene)
    since = len(scene.aws.order)
    assert digest(scene)
    middle = len(scene.aws.order)
    scene.pump()

    assert runs(calls_of(scene.aws, since)[: middle - since]) == [(c.operation, c.nth) for c in DIGEST_RUN]
    assert numbered(calls_of(scene.aws, middle)) == [(c.operation, c.nth) for c in DIGEST_JOB]


@pytest.mark.parametrize("call", DIGEST_RUN, ids=str)
def test_a_failing_call_of_the_run_is_made_good_by_the_next_hours_run(scene, call):
    a_day_to_digest(scene)
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth)

    digest(scene)
    scene.pump()

    assert scene.aws.fired == [call.operation]
    digested_once(scene)


@pytest.mark.parametrize("call", [DIGEST_RUN[-2], DIGEST_RUN[-1]], ids=str)
def test_a_run_whose_last_write_was_done_but_its_answer_lost_mails_once(scene, call):
    """The mails are queued (or the marker written) and the run saw a timeout: the next run
    either finds the marker or queues again, and each mail's claim keeps it to one."""
    a_day_to_digest(scene)
    scene.aws.fail(call.operation, READ_TIMEOUT, nth=call.nth, after=True)

    assert not digest(scene)
    scene.pump()

    digested_once(scene)


@pytest.mark.parametrize("call", DIGEST_JOB, ids=str)
def test_a_failing_call_of_the_mailing_job_costs_a_retry_never_a_second_mail(scene, call):
    a_day_to_digest(scene)
    assert digest(scene)
    scene.aws.fail(call.operation, THROTTLING, nth=call.nth)

    scene.pump()

    assert scene.aws.fired == [call.operation]
    digested_once(scene)
