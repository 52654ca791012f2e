"""Who else has a ticket open (chalicelib/console/presence.py), on moto with the desk's frozen clock;
DynamoDB calls counted through botocore's `before-call` event on the keys table's client."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import clock, keys
from chalicelib.console import presence
from chalicelib.console.presence import Viewer
from chalicelib.models import Key
from tools.moto_isolation import isolate_dynamodb

TICKET = "PR-7K3QX9M2"
OLENA = Viewer("A-olena", "Olena Koval", "viewing")
TARAS = Viewer("A-taras", "Taras Shevchuk", "viewing")


def beat(viewer: Viewer, ticket: str = TICKET) -> None:
    presence.beat(ticket, viewer.agent_id, viewer.name, viewer.mode, clock.now())


class Calls:
    """DynamoDB operations by name; `after[operation]` runs once after the next call of that
    operation ("*": of any), given the parsed answer to change."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.after: dict[str, Callable[[dict[str, Any]], None]] = {}

    def before(self, event_name: str, **_: object) -> None:
        self.calls[event_name.split(".", 2)[2]] += 1

    def after_call(self, event_name: str, parsed: dict[str, Any], **_: object) -> None:
        operation = event_name.split(".", 2)[2]
        hook = self.after.pop(operation, None) or self.after.pop("*", None)
        if hook is not None:
            hook(parsed)


@pytest.fixture
def calls(desk: Any) -> Iterator[Calls]:
    counted = Calls()
    client = Key._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb", counted.before)
    client.meta.events.register("after-call.dynamodb", counted.after_call)
    yield counted
    client.meta.events.unregister("before-call.dynamodb", counted.before)
    client.meta.events.unregister("after-call.dynamodb", counted.after_call)


def test_an_agent_appears_after_a_beat(desk: Any) -> None:
    assert presence.on_ticket(TICKET, clock.now()) == []
    beat(OLENA)
    assert presence.on_ticket(TICKET, clock.now()) == [OLENA]
    assert presence.on_tickets([TICKET, "PR-OTHER"], clock.now()) == {TICKET: [OLENA], "PR-OTHER": []}


def test_a_beat_changes_the_agents_mode_and_moves_the_rows_ttl(desk: Any) -> None:
    beat(OLENA)
    desk.advance(timedelta(seconds=10))
    beat(Viewer(OLENA.agent_id, OLENA.name, "replying"))
    assert presence.on_ticket(TICKET, clock.now()) == [Viewer(OLENA.agent_id, OLENA.name, "replying")]
    expires = Key.get(keys.presence(TICKET)).expires
    assert expires == clock.now() + presence.EXPIRES_AFTER + presence.TTL_MARGIN


def test_replying_comes_first_then_by_name(desk: Any) -> None:
    zed, ada = Viewer("A-zed", "Zed Zee", "replying"), Viewer("A-ada", "ada Admin", "viewing")
    for viewer in (TARAS, zed, OLENA, ada):
        beat(viewer)
    assert presence.on_ticket(TICKET, clock.now()) == [zed, ada, OLENA, TARAS]


def test_an_agent_who_stops_beating_is_gone_after_30_seconds(desk: Any) -> None:
    beat(OLENA)
    beat(TARAS)
    desk.advance(timedelta(seconds=20))
    beat(TARAS)
    desk.advance(timedelta(seconds=9))
    assert presence.on_ticket(TICKET, clock.now()) == [OLENA, TARAS]
    desk.advance(timedelta(seconds=1))  # 30 s after Olena's last beat; the row is still there
    assert presence.on_ticket(TICKET, clock.now()) == [TARAS]
    assert presence.on_tickets([TICKET], clock.now()) == {TICKET: [TARAS]}
    desk.advance(timedelta(seconds=20))
    assert presence.on_ticket(TICKET, clock.now()) == []


@pytest.mark.parametrize("fresh", [True, False], ids=["first beats on the ticket", "map already there"])
def test_an_agent_beating_between_anothers_calls_overwrites_nothing(desk: Any, calls: Calls, fresh: bool) -> None:
    """Taras's whole beat runs right after the first DynamoDB call of Olena's: whatever Olena read
    or was refused there, both end up present."""
    if not fresh:
        beat(Viewer("A-lev", "Lev Lead", "viewing"))
    calls.after["*"] = lambda _: beat(TARAS)
    beat(OLENA)
    assert [viewer.agent_id for viewer in presence.on_ticket(TICKET, clock.now())] == (
        ["A-lev"] * (not fresh) + [OLENA.agent_id, TARAS.agent_id]
    )


def test_agents_beating_at_the_same_moment_are_all_present(desk: Any) -> None:
    isolate_dynamodb()  # one request at a time, each atomic, as DynamoDB serves one item's writes
    agents = [Viewer(f"A-{n}", f"Agent {n:02}", "viewing") for n in range(8)]
    start = threading.Barrier(len(agents))

    def run(viewer: Viewer) -> None:
        start.wait()
        beat(viewer)

    threads = [threading.Thread(target=run, args=(viewer,)) for viewer in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert presence.on_ticket(TICKET, clock.now()) == agents


def test_a_beat_is_one_write_once_the_ticket_has_viewers(desk: Any, calls: Calls) -> None:
    beat(OLENA)
    assert calls.calls == {"UpdateItem": 2}  # the first beat ever on the ticket creates the map
    calls.calls.clear()
    beat(TARAS)
    assert calls.calls == {"UpdateItem": 1}
    calls.calls.clear()
    desk.advance(presence.BEAT_EVERY)
    beat(OLENA)
    assert calls.calls == {"UpdateItem": 1}


def test_150_tickets_cost_two_reads(desk: Any, calls: Calls) -> None:
    tickets = [f"PR-{n:03}" for n in range(150)]
    for ticket in (tickets[0], tickets[99], tickets[149]):
        beat(OLENA, ticket)
    calls.calls.clear()
    found = presence.on_tickets(tickets, clock.now())
    assert calls.calls == {"BatchGetItem": 2}
    assert list(found) == tickets
    assert {ticket for ticket, viewers in found.items() if viewers} == {tickets[0], tickets[99], tickets[149]}


def test_keys_dynamodb_hands_back_unprocessed_are_asked_again(desk: Any, calls: Calls) -> None:
    beat(OLENA, "PR-1")
    beat(TARAS, "PR-2")

    def leave_one_unprocessed(parsed: dict[str, Any]) -> None:
        (table, rows), *_ = parsed["Responses"].items()
        held = rows.pop()
        parsed["UnprocessedKeys"] = {table: {"Keys": [{"key": held["key"]}]}}

    calls.after["BatchGetItem"] = leave_one_unprocessed
    calls.calls.clear()
    assert presence.on_tickets(["PR-1", "PR-2"], clock.now()) == {"PR-1": [OLENA], "PR-2": [TARAS]}
    assert calls.calls == {"BatchGetItem": 2}


def test_the_agent_looking_is_left_out(desk: Any) -> None:
    beat(OLENA)
    beat(TARAS)
    assert presence.on_ticket(TICKET, clock.now(), exclude=OLENA.agent_id) == [TARAS]
    assert presence.on_tickets([TICKET], clock.now(), exclude=TARAS.agent_id) == {TICKET: [OLENA]}


def test_leaving_removes_only_that_agent(desk: Any) -> None:
    beat(OLENA)
    beat(TARAS)
    presence.leave(TICKET, OLENA.agent_id)
    assert presence.on_ticket(TICKET, clock.now()) == [TARAS]


def test_leaving_a_ticket_nobody_has_open_writes_nothing(desk: Any, caplog: pytest.LogCaptureFixture) -> None:
    presence.leave(TICKET, OLENA.agent_id)
    assert [record.getMessage() for record in caplog.records if record.levelname != "INFO"] == []
    with pytest.raises(Key.DoesNotExist):
        Key.get(keys.presence(TICKET))
