"""Outbox jobs on the wire: every kind's constructor writes the same JSON the desk queued before
the jobs were typed (jobs already on the queue at a deploy are read by the new code), and the
queue worker refuses, by name, a kind it does not know or a job missing a key its handler needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import get_args

import pytest

from chalicelib import clock, job_kinds, jobs

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ISO = clock.iso(AT)

# What each producer queued before job_kinds.py, byte for byte (key order included).
WIRE = [
    (job_kinds.ack("PR-1"), '{"kind": "ack", "job_id": "ack-PR-1", "ticket_id": "PR-1"}'),
    (job_kinds.duty_offer("PR-1"), '{"kind": "offer", "job_id": "offer-PR-1", "ticket_id": "PR-1"}'),
    (
        job_kinds.answer("PR-1", "M-1", "2026-11-23T08:00:00.000Z#M-1", introduce=True),
        (
            '{"kind": "answer", "job_id": "M-1", "ticket_id": "PR-1", '
            '"message_key": "2026-11-23T08:00:00.000Z#M-1", "introduce": true}'
        ),
    ),
    (
        job_kinds.solved("PR-1", 4, "A-1"),
        '{"kind": "solved", "job_id": "solved-PR-1-4", "ticket_id": "PR-1", "agent_id": "A-1"}',
    ),
    (job_kinds.survey("PR-1"), '{"kind": "nps", "job_id": "nps-PR-1", "ticket_id": "PR-1"}'),
    (
        job_kinds.digest("2026-11-22", "A-1", "n0"),
        '{"kind": "digest", "job_id": "digest-2026-11-22-A-1", "nonce": "n0", "day": "2026-11-22", "agent_id": "A-1"}',
    ),
    (
        job_kinds.token_issued("t1", "A-1", "A-2", AT, AT),
        (
            '{"kind": "token_issued", "job_id": "token-issued-t1", "token_id": "t1", "holder": "A-1", '
            f'"issued_by": "A-2", "issued_at": "{ISO}", "expires_at": "{ISO}"}}'
        ),
    ),
]


@pytest.mark.parametrize("job, wire", WIRE, ids=[job["kind"] for job, _ in WIRE])
def test_each_kind_is_queued_exactly_as_before(job, wire):
    assert json.dumps(job) == wire


def test_jobs_with_a_nonce_of_their_own_keep_the_shape_they_had():
    rating = job_kinds.rating_alert("PR-1", 1764000000000000)
    assert list(rating) == ["kind", "job_id", "nonce", "ticket_id"]
    assert rating["job_id"] == "rated-bad-PR-1-1764000000000000" and len(rating["nonce"]) == 32

    alert = job_kinds.alert(
        "PR-1",
        target="first_response",
        cycle="0",
        share=0.75,
        due="2026-11-23T10:00:00.000Z",
        breach=False,
        recipients={"agents": ["A-1"], "team_email": None, "team_slack": None},
        already=[["A-1"]],
    )
    assert list(alert) == [
        "kind",
        "job_id",
        "nonce",
        "ticket_id",
        "target",
        "share",
        "due",
        "breach",
        "recipients",
        "already",
    ]
    assert alert["job_id"] == "alert-PR-1-first_response-0-0.75"


def test_every_kind_has_a_handler_that_reads_its_record():
    kinds = {get_args(record.__annotations__["kind"])[0]: record for record in get_args(job_kinds.Job)}
    assert set(jobs.HANDLERS) == set(kinds)
    for kind, route in jobs.HANDLERS.items():
        assert route.record is kinds[kind], kind


def test_an_unknown_kind_fails_the_job_by_name():
    with pytest.raises(jobs.MalformedJob, match="unknown outbox job kind 'acknowledge'"):
        jobs.dispatch({"kind": "acknowledge", "job_id": "x", "ticket_id": "PR-1"})


def test_a_job_missing_a_key_fails_before_its_handler_runs(monkeypatch):
    ran = []
    monkeypatch.setitem(jobs.HANDLERS, "solved", jobs.route(job_kinds.SolvedJob, ran.append))

    with pytest.raises(jobs.MalformedJob, match=r"'solved-PR-1-4' of kind 'solved' lacks \['agent_id'\]"):
        jobs.dispatch({"kind": "solved", "job_id": "solved-PR-1-4", "ticket_id": "PR-1"})
    assert ran == []


def test_keys_a_handler_reads_with_a_default_may_be_missing_as_in_older_jobs(monkeypatch):
    ran = []
    monkeypatch.setitem(jobs.HANDLERS, "answer", jobs.route(job_kinds.AnswerJob, ran.append))
    monkeypatch.setitem(jobs.HANDLERS, "offer", jobs.route(job_kinds.OfferJob, ran.append))

    jobs.dispatch({"kind": "answer", "job_id": "M-1", "ticket_id": "PR-1", "message_key": "k"})  # no "introduce"
    jobs.dispatch({"kind": "offer", "ticket_id": "PR-1"})  # the offer reads only its ticket
    assert [job["kind"] for job in ran] == ["answer", "offer"]
