"""chalicelib/already_read.py: one consistent BatchGetItem across the tables a job reads.

No AWS: a fake connection answers BatchGetItem as DynamoDB does — items by table, at most 100 keys
a call, and keys it did not get to under UnprocessedKeys (when throttled)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import already_read, models, transient
from chalicelib.models import Agent, Key, Message, Ticket

MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)


class FakeDynamo:
    """Holds raw items per table; leaves the first `unread` keys of each call unprocessed, `rounds` times."""

    def __init__(self, items: dict[str, list[dict[str, Any]]], unread: int = 0, rounds: int = 0) -> None:
        self.items = items
        self.unread, self.rounds = unread, rounds
        self.calls: list[dict[str, Any]] = []

    def dispatch(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        assert operation == "BatchGetItem"
        asked = kwargs["RequestItems"]
        self.calls.append(asked)
        assert sum(len(wanted["Keys"]) for wanted in asked.values()) <= 100
        responses: dict[str, list[dict[str, Any]]] = {}
        unprocessed: dict[str, dict[str, Any]] = {}
        skip = self.unread if self.rounds > 0 else 0
        self.rounds -= 1
        for table, wanted in asked.items():
            assert wanted["ConsistentRead"] is True  # some of these decide a send
            for key in wanted["Keys"]:
                if skip:
                    skip -= 1
                    unprocessed.setdefault(table, {"Keys": []})["Keys"].append(key)
                    continue
                found = [item for item in self.items.get(table, []) if all(item[k] == v for k, v in key.items())]
                responses.setdefault(table, []).extend(found)
        return {"Responses": responses, "UnprocessedKeys": unprocessed}


@pytest.fixture
def fake(monkeypatch):
    def install(dynamo: FakeDynamo) -> FakeDynamo:
        monkeypatch.setattr(models, "connection", lambda: dynamo)
        monkeypatch.setattr(transient, "pause", lambda seconds: None)
        return dynamo

    return install


def ticket_item(ticket_id: str) -> dict[str, Any]:
    return Ticket(
        ticket_id,
        customer_id="C-1",
        channel="form",
        address="ann@example.com",
        queue="general",
        language="en",
        timezone="UTC",
        created_at=MONDAY,
        updated_at=MONDAY,
        last_message_at=MONDAY,
        ack_state="pending",
    ).serialize()


def test_the_ticket_the_keys_and_the_agents_come_in_one_call_and_absent_keys_are_known_absent(fake):
    dynamo = fake(
        FakeDynamo(
            {
                Ticket.Meta.table_name: [ticket_item("PR-1")],
                Key.Meta.table_name: [{"key": {"S": "sent#ack-PR-1"}, "ticket_id": {"S": "PR-1"}}],
                Agent.Meta.table_name: [],
            }
        )
    )

    read = already_read.read(["sent#ack-PR-1", "suppress#email#ann@example.com"], ticket_id="PR-1", agents=["A-1"])

    assert len(dynamo.calls) == 1
    assert read.ticket is not None and read.ticket.ack_state == "pending"
    assert read.knows("suppress#email#ann@example.com") and read.item("suppress#email#ann@example.com") is None
    assert read.item("sent#ack-PR-1") is not None and read.item("sent#ack-PR-1").ticket_id == "PR-1"  # type: ignore[union-attr]
    assert not read.knows("usual#summary")  # not asked: read as ever by whoever needs it
    assert read.knows_agents(["A-1"]) and read.agents_of(["A-1"]) == []  # asked, and there is no such agent


def test_more_than_a_hundred_keys_go_in_as_many_calls_as_it_takes(fake):
    wanted = [f"sent#step-{n}" for n in range(230)]
    dynamo = fake(FakeDynamo({Key.Meta.table_name: [{"key": {"S": key}} for key in wanted[::2]]}))

    read = already_read.read(wanted)

    assert len(dynamo.calls) == 3
    assert sorted(read.found) == sorted(wanted[::2])


def test_keys_dynamodb_left_unread_are_asked_again(fake):
    dynamo = fake(FakeDynamo({Key.Meta.table_name: [{"key": {"S": "a"}}, {"key": {"S": "b"}}]}, unread=1, rounds=2))

    read = already_read.read(["a", "b"])

    assert len(dynamo.calls) == 3
    assert sorted(read.found) == ["a", "b"]


def test_keys_left_unread_for_good_fail_the_try_as_busy_not_as_absent(fake):
    fake(FakeDynamo({Key.Meta.table_name: [{"key": {"S": "sent#x"}}]}, unread=1, rounds=100))

    with pytest.raises(transient.TransientError):
        already_read.read(["sent#x"])  # an unread marker must never read as "not sent"


def test_a_ticket_or_message_asked_for_and_missing_is_does_not_exist(fake):
    fake(FakeDynamo({}))

    with pytest.raises(Ticket.DoesNotExist):
        already_read.read([], ticket_id="PR-GONE")
    with pytest.raises(Message.DoesNotExist):
        already_read.read([], message=("PR-1", "2026-11-23T08:00:00.000Z#M-1"))


def test_two_reads_together_know_what_either_asked(fake):
    fake(FakeDynamo({Key.Meta.table_name: [{"key": {"S": "a"}}]}))

    read = already_read.read(["a"]).plus(already_read.read(["b"], agents=["A-1"]))

    assert read.knows("a") and read.knows("b") and read.item("a") is not None and read.knows_agents(["A-1"])


def test_a_later_read_wins_for_what_both_asked_even_when_it_found_nothing(fake):
    dynamo = fake(FakeDynamo({Key.Meta.table_name: [{"key": {"S": "a"}}]}))
    first = already_read.read(["a"])
    dynamo.items = {}  # gone since

    read = first.plus(already_read.read(["a"]))

    assert read.knows("a") and read.item("a") is None
