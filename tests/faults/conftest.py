"""The fault suite's fixtures: the desk with a team on duty, the provider fakes, and an AWS
fault injector hooked into every client. Retries inside a request do not wait here: the
faults are injected on purpose, so waiting for them proves nothing and costs minutes."""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.conftest import ROOT
from tests.faults.injector import AwsFaults
from tests.faults.scene import Scene
from tests.harness import Desk


@pytest.fixture
def desk():
    """The root `desk`, minus rebuilding the AWS clients each time: building them is most of its
    cost (botocore parses its service files per session), and moto intercepts a client made in
    an earlier `mock_aws` as well (PynamoDB's are never rebuilt either). A fresh embedded AWS
    all the same: every table, queue and bucket is new."""
    from chalicelib import aws
    from infra.local import create_resources

    with mock_aws():
        aws.queue_url.cache_clear()
        create_resources()
        with Desk(ROOT) as running:
            yield running


@pytest.fixture(autouse=True)
def instant_retries(monkeypatch):
    from chalicelib import transient

    monkeypatch.setattr(transient, "pause", lambda seconds: None)


@pytest.fixture
def aws(desk):
    from chalicelib import aws, stage
    from chalicelib.kpi import usual_wait

    usual_wait.forget()  # a summary cached by an earlier test would hide the outbox's read of it
    for queue in (stage.outbox_queue(), stage.resource("outbox-dlq")):
        aws.queue_url(queue)  # resolved once per process (a cold start), not on the paths failed here
    faults = AwsFaults().attach()
    yield faults
    faults.detach()


@pytest.fixture
def scene(desk, providers, aws):
    """Olena (an agent) is on duty for the general queue this week, Lev leads it; nothing has
    happened yet. (Lighter than the `team` fixture: this suite sets it up a hundred times.)"""
    from chalicelib import clock
    from chalicelib.agents import staff, tokens

    olena = staff.create_agent(
        first_name="Olena", last_name="Koval", email="olena@promptly.example", role="agent", queues=["general"]
    )
    lev = staff.create_agent(
        first_name="Lev", last_name="Lead", email="lev@promptly.example", role="lead", queues=["general"]
    )
    staff.set_roster("general", staff.week_of(clock.now()), [olena.agent_id])
    team = {"olena": {"id": olena.agent_id, "token": tokens.issue(olena.agent_id)[1]}, "lead": {"id": lev.agent_id}}
    return Scene(desk, team, providers, aws)
