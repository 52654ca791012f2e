"""One pass of the SLA watch over a large history, in-process on moto.

    python -m bench.sla_watch [--background N] [--due M] [--baseline B]

Seeds the tickets table directly (PynamoDB batch writes, 25 items a call) with N background
tickets (default 100,000) and M due ones (default 500), times ONE `watch.run(now)`, then repeats
with B background tickets (default 1,000) and the same M due ones. Background tickets are 90%
closed history (no alert shard: not in the sparse by_alert index) and 10% live tickets that
were answered and whose next warning (resolution at 75%) is days away: in the index, but past
the Query's `next_alert_at <= now`. Due tickets are unanswered and opened so that, at `now`,
a third are due their 75% first-response warning, a third their 90% one (75% sent), a third
the breach (90% sent; the watch also writes a Fact). Tickets are built the way intake builds
them (a new Ticket, `lifecycle.open_clocks`, then `agent_answered` / `change_status`);
background tickets are cloned from 96 such prototypes (planning a ticket's warning costs about
a millisecond of calendar arithmetic), each with its own id and alert shard.

Counted during the run only, by botocore hooks on every client: DynamoDB Query calls and the
sums of their responses' ScannedCount and Count (target: scanned <= 1.1 x due), all AWS
calls by operation, DynamoDB items written and SQS messages sent.

Two things are moto's, not DynamoDB's, and the benchmark says which:
- moto answers a Query on a GSI by sorting and walking the whole table, so the time inside
  the Query calls grows with history on moto (DynamoDB reads only the index's key range:
  that is what ScannedCount measures). The table shows the Query time apart, and the rest.
- moto backs up every table a TransactWriteItems touches with `copy.deepcopy(table)` so it can
  roll back a cancelled transaction: about 1.7 s per transaction at 10,000 tickets, hours for
  500 moves at 100,000. While the benchmark runs, `lean_moto_transactions` backs up only the
  items the transaction touches instead (the same rollback, for what the transaction can change).

Timing: each scenario is a fresh moto; a small unreported scenario runs first, because the
first run in a process is slower all through whatever the size. Wall time on a shared
2-core machine swings with other load, so the run's CPU time (moto runs in this process, so
it includes moto's) is shown too. The closing lines compare the two runs: whole, and without
the time inside moto's Query; "the same within noise" means within 15%.

Seeding 100,000 tickets takes about two and a half minutes here; the whole script about 3.5.
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import sys
import time
import types
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Self
from unittest import mock

from bench.common import CallCounter, table

LIVE_SHARE = 0.1  # of background tickets: live, far from due; the rest is closed history
PROTOTYPES = 48  # per kind of background ticket
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
NOISE = 0.15  # two run times this close are "the same within noise"


# --- seeding -------------------------------------------------------------------------------


def _ticket(
    desk: Any, created: datetime, channel: str, queue: str, number: int, sent: dict[str, float] | None = None
) -> Any:
    """A new ticket as intake makes it (see intake._new_ticket), clocks opened. `sent`: the
    warnings earlier runs of the watch sent."""
    from chalicelib import lifecycle
    from chalicelib.intake import new_ticket_id
    from chalicelib.models import Ticket

    email = f"c{number}@example.com"
    ticket = Ticket(
        new_ticket_id(desk.desk.ticket_prefix),
        customer_id=f"C-{number:016x}",
        customer_name="Bench",
        channel=channel,
        address=email,
        email=email,
        subject=f"Question {number}",
        status="new",
        priority="normal",
        queue=queue,
        language="en",
        timezone=desk.desk.timezone,
        created_at=created,
        updated_at=created,
        last_message_at=created,
        ack_state="sent",
        message_count=1,
        alerts_sent=dict(sent or {}),
        version=1,
    )
    lifecycle.open_clocks(desk, ticket)
    ticket.promised_at = ticket.first_response_due
    return ticket


def _prototypes(desk: Any, now: datetime) -> tuple[list[Any], list[Any]]:
    """(closed, live) background prototypes."""
    from chalicelib import lifecycle

    rng = random.Random(7)
    closed, live = [], []
    for index in range(PROTOTYPES):
        created = now - timedelta(days=rng.uniform(10, 365))
        ticket = _ticket(
            desk,
            created,
            ["email", "form", "chat", "telegram"][index % 4],
            ["general", "billing", "tech"][index % 3],
            index,
        )
        lifecycle.agent_answered(desk, ticket, created + timedelta(hours=2))
        lifecycle.change_status(desk, ticket, "solved", created + timedelta(days=1))
        lifecycle.change_status(desk, ticket, "closed", created + timedelta(days=5))
        assert ticket.alert_shard is None and ticket.open_queue is None
        closed.append(ticket)

        created = now - timedelta(minutes=rng.uniform(0, 60))
        ticket = _ticket(desk, created, ["email", "form"][index % 2], ["general", "billing", "tech"][index % 3], index)
        lifecycle.agent_answered(desk, ticket, created + timedelta(minutes=5))
        assert ticket.alert_shard and ticket.next_alert_at > now + timedelta(hours=12), ticket.next_alert_at
        live.append(ticket)
    return closed, live


def _clone(prototype: Any, number: int) -> Any:
    from chalicelib.intake import new_ticket_id
    from chalicelib.models import Ticket
    from chalicelib.sla.alerts import shard_of

    values = {name: value for name, value in prototype.attribute_values.items() if name != "ticket_id"}
    values["customer_id"] = f"C-{number:016x}"
    ticket = Ticket(new_ticket_id("PR"), **values)
    if prototype.alert_shard:
        ticket.alert_shard = shard_of(ticket.ticket_id)
    return ticket


DUE_SHARES = ((0.75, 0.76, 0.89), (0.9, 0.91, 0.99), (1.0, 1.05, 2.0))  # (share due, used from, to)


def _due_tickets(desk: Any, now: datetime, count: int) -> tuple[list[Any], int]:
    """Never answered, opened so that, at `now`, a third have used 76-89% of their first-response
    time (the 75% warning is due), a third 91-99% (90% due, 75% sent) and a third 105-200%
    (the breach due, 90% sent). Returns them and how many breach."""
    from chalicelib.sla.alerts import before

    rng = random.Random(11)
    tickets, breaches = [], 0
    for number in range(count):
        channel, queue = ["email", "form"][number % 2], ["general", "billing", "tech"][number % 3]
        share, low, high = DUE_SHARES[number % 3]
        previous = [step for step, _, _ in DUE_SHARES if step < share]
        span = desk.policy_for(channel, "normal").target("first_response")
        used = span.length * rng.uniform(low, high)
        created = before(desk.calendar_for(queue), now, used) if span.business else now - used
        ticket = _ticket(
            desk, created, channel, queue, 10_000_000 + number, {"first_response#0": previous[-1]} if previous else None
        )
        alert = ticket.next_alert or {}
        assert ticket.next_alert_at <= now and alert.get("share") == share, (ticket.next_alert_at, alert)
        breaches += share == 1.0
        tickets.append(ticket)
    return tickets, breaches


def seed(background: int, due: int, now: datetime) -> int:
    """Write the tickets; returns how many of the due ones are due their breach."""
    from chalicelib.config import settings
    from chalicelib.models import Ticket

    desk = settings()
    closed, live = _prototypes(desk, now)
    started = time.perf_counter()
    seen: set[str] = set()
    written = 0
    with Ticket.batch_write() as batch:
        due_tickets, breaches = _due_tickets(desk, now, due)
        for ticket in due_tickets:
            seen.add(ticket.ticket_id)
            batch.save(ticket)
        step = max(1, round(1 / LIVE_SHARE))
        number = 0
        while written < background:
            prototype = live[number % len(live)] if number % step == 0 else closed[number % len(closed)]
            ticket = _clone(prototype, number)
            number += 1
            if ticket.ticket_id in seen:  # 40-bit random ids: a collision would overwrite a ticket
                continue
            seen.add(ticket.ticket_id)
            batch.save(ticket)
            written += 1
            if written % 10_000 == 0:
                rate = written / (time.perf_counter() - started)
                print(f"  seeded {written:,}/{background:,} background tickets ({rate:,.0f}/s)", file=sys.stderr)
    print(
        f"  seeded {background:,} background + {due} due tickets in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return breaches


# --- moto ------------------------------------------------------------------------------------


@contextmanager
def lean_moto_transactions() -> Iterator[None]:
    """Make moto back up only the items a TransactWriteItems touches, not every touched table
    whole (`copy.deepcopy(table)`: O(table) per transaction). A cancelled transaction is rolled
    back from that backup, as moto would; everything else moto does is unchanged."""
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    deepcopy = copy.deepcopy

    def keep_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else deepcopy(value, memo)

    def slot(table: Any, operation: dict[str, Any]) -> tuple[Any, Any]:
        keys = operation["Key"] if "Key" in operation else operation["Item"]
        hash_key = DynamoType(keys[table.hash_key_attr])
        return hash_key, DynamoType(keys[table.range_key_attr]) if table.range_key_attr else None

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = []
        try:
            for entry in transact_items:
                for operation in entry.values():
                    table = self.tables.get(operation.get("TableName"))
                    if table is not None:
                        hash_key, range_key = slot(table, operation)
                        item = (
                            table.items.get(hash_key, {}).get(range_key)
                            if table.range_key_attr
                            else table.items.get(hash_key)
                        )
                        backup.append((table, hash_key, range_key, deepcopy(item)))
        except (KeyError, TypeError, AttributeError):  # malformed: let moto say so, its own way
            with mock.patch.object(backend_module, "copy", copy):
                return original(self, transact_items)
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(backup):
                if table.range_key_attr:
                    if item is None:
                        table.items.get(hash_key, {}).pop(range_key, None)
                    else:
                        table.items[hash_key][range_key] = item
                elif item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            raise

    lean = types.SimpleNamespace(deepcopy=keep_tables, copy=copy.copy)
    with (
        mock.patch.object(backend_module, "copy", lean),
        mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items),
    ):
        yield


# --- measuring -------------------------------------------------------------------------------


def _clients() -> list[Any]:
    """Every botocore client the desk uses (as CallCounter.attach_all reaches them), once each."""
    from chalicelib import aws, models

    found: list[Any] = [aws.client(service) for service in ("sqs", "ses", "s3", "sns")]
    found += [models.connection().client] + [model._get_connection().connection.client for model in models.ALL_MODELS]
    return list({id(client): client for client in found}.values())


class Meter(CallCounter):
    """AWS calls by operation, plus what the Queries read, what was written and sent."""

    def __init__(self) -> None:
        super().__init__()
        self.scanned = self.returned = self.items_written = self.messages_sent = 0
        self.seconds: defaultdict[str, float] = defaultdict(float)  # inside the AWS calls (moto), by operation
        self._started = self._cpu_started = self.query_cpu_seconds = 0.0
        self._hooks = [
            ("before-call", self),
            ("after-call", self._call_done),
            ("after-call.dynamodb.Query", self._query_done),
            ("before-parameter-build.dynamodb", self._dynamodb_params),
            ("before-parameter-build.sqs", self._sqs_params),
        ]
        self._attached: list[Any] = []

    def __call__(self, event_name: str, **_: object) -> None:
        super().__call__(event_name)
        self._started, self._cpu_started = time.perf_counter(), time.process_time()

    def _call_done(self, event_name: str, **_: Any) -> None:
        operation = event_name.split(".", 1)[1]
        self.seconds[operation] += time.perf_counter() - self._started
        if operation == "dynamodb.Query":
            self.query_cpu_seconds += time.process_time() - self._cpu_started

    @property
    def query_seconds(self) -> float:
        return self.seconds["dynamodb.Query"]

    def _query_done(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += int(parsed.get("ScannedCount", 0))
        self.returned += int(parsed.get("Count", 0))

    def _dynamodb_params(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[1]
        if operation in WRITES:
            self.items_written += 1
        elif operation == "BatchWriteItem":
            self.items_written += sum(len(requests) for requests in params.get("RequestItems", {}).values())
        elif operation == "TransactWriteItems":
            self.items_written += sum(1 for entry in params.get("TransactItems", []) if "ConditionCheck" not in entry)

    def _sqs_params(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[1]
        if operation == "SendMessage":
            self.messages_sent += 1
        elif operation == "SendMessageBatch":
            self.messages_sent += len(params.get("Entries", []))

    def __enter__(self) -> Self:
        for client in _clients():
            for event, handler in self._hooks:
                client.meta.events.register(event, handler)
            self._attached.append(client)
        return self

    def __exit__(self, *_: object) -> None:
        for client in self._attached:
            for event, handler in self._hooks:
                client.meta.events.unregister(event, handler)
        self._attached.clear()


# --- the scenario ----------------------------------------------------------------------------


def scenario(background: int, due: int) -> dict[str, Any]:
    from moto import mock_aws

    from chalicelib import aws, clock, stage

    with mock_aws(), lean_moto_transactions():
        aws.reset()  # a fresh moto account: no client or queue URL from a previous scenario
        from infra.local import create_resources

        create_resources()
        from chalicelib.sla import watch

        now = clock.now()  # seeded relative to it, the watch runs at it: what is due is exact
        watch.run(now)  # warm: clients, settings, calendars; the table is still empty
        aws.queue_url(stage.outbox_queue())
        print(f"background {background:,}, due {due}:", file=sys.stderr)
        breaches = seed(background, due, now)
        gc.collect()
        gc.freeze()  # moto's table lives in this process; a Lambda's heap would not hold it
        try:
            with Meter() as meter:
                started, cpu_started = time.perf_counter(), time.process_time()
                result = watch.run(now)
                seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            gc.unfreeze()
    assert result == {"due": due, "queued": due, "moved_on": due}, result
    print(f"  watch: {seconds:.2f} s", file=sys.stderr)
    if meter.items_written != due + breaches:
        print(
            f"  note: {meter.items_written} items written, expected {due} tickets + {breaches} breach facts",
            file=sys.stderr,
        )
    return {
        "background": background,
        "due": due,
        "breaches": breaches,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "meter": meter,
    }


def report(runs: list[dict[str, Any]]) -> str:
    def row(name: str, cell: Any) -> tuple[str, str]:
        return name, "".join(f"{cell(run):>16}" for run in runs)

    def outside(run: dict[str, Any]) -> float:
        meter: Meter = run["meter"]
        return float(run["seconds"]) - sum(meter.seconds.values())

    operations = sorted({operation for run in runs for operation in run["meter"].calls})
    rows = [
        row("background tickets", lambda r: f"{r['background']:,}"),
        row("due tickets", lambda r: f"{r['due']:,}"),
        row("Query calls", lambda r: r["meter"].calls["dynamodb.Query"]),
        row("items scanned (ScannedCount)", lambda r: f"{r['meter'].scanned:,}"),
        row("items returned (Count)", lambda r: f"{r['meter'].returned:,}"),
        row("scanned/due (target <= 1.1)", lambda r: f"{r['meter'].scanned / max(r['due'], 1):.2f}"),
        row("run seconds (watch only)", lambda r: f"{r['seconds']:.2f}"),
        row("  of it CPU (this process)", lambda r: f"{r['cpu_seconds']:.2f}"),
        row("  inside moto's Query", lambda r: f"{r['meter'].query_seconds:.2f}"),
        row("  inside other AWS calls", lambda r: f"{sum(r['meter'].seconds.values()) - r['meter'].query_seconds:.2f}"),
        row("  outside AWS calls", lambda r: f"{outside(r):.2f}"),
        row("AWS calls (seconds inside)", lambda r: r["meter"].total()),
        *[
            row(f"  {operation}", lambda r, o=operation: f"{r['meter'].calls[o]} ({r['meter'].seconds[o]:.2f})")
            for operation in operations
        ],
        row("DynamoDB items written", lambda r: f"{r['meter'].items_written:,}"),
        row("  of which breach facts", lambda r: f"{r['breaches']:,}"),
        row("SQS messages sent", lambda r: f"{r['meter'].messages_sent:,}"),
    ]
    return table("SLA watch: one run, in-process moto", rows)


def compare(big: dict[str, Any], small: dict[str, Any]) -> str:
    def line(name: str, a: float, b: float) -> str:
        same = "the same within noise" if abs(a - b) <= NOISE * max(b, 0.05) else "NOT the same"
        return f"  {name:<22}{a:.2f} s vs {b:.2f} s ({a / b if b else float('nan'):.2f}x): {same}"

    def no_query(run: dict[str, Any]) -> float:
        meter: Meter = run["meter"]
        return float(run["seconds"]) - meter.query_seconds

    def cpu_query(run: dict[str, Any]) -> float:  # moto runs in this process: its wall time is CPU time
        meter: Meter = run["meter"]
        return meter.query_cpu_seconds

    return "\n".join(
        [
            (
                f"{big['background']:,} vs {small['background']:,} background tickets, {big['due']} due "
                f"(same within noise: within {NOISE:.0%}):"
            ),
            line("whole run", big["seconds"], small["seconds"]),
            line("all but moto's Query", no_query(big), no_query(small)),
            line("  its CPU time", big["cpu_seconds"] - cpu_query(big), small["cpu_seconds"] - cpu_query(small)),
            (
                f"  {'items scanned':<22}{big['meter'].scanned:,} vs {small['meter'].scanned:,}: "
                f"{'equal' if big['meter'].scanned == small['meter'].scanned else 'different'}"
            ),
            "  moto answers a GSI Query by sorting and walking the whole table, so its Query time grows",
            "  with history; DynamoDB reads the index's key range only: ScannedCount items.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--background", type=int, default=100_000, help="background tickets (default 100,000)")
    parser.add_argument("--due", type=int, default=500, help="tickets due a warning (default 500)")
    parser.add_argument("--baseline", type=int, default=1_000, help="background tickets of the repeat (default 1,000)")
    args = parser.parse_args()
    scenario(min(args.baseline, 200), min(args.due, 100))  # warm-up, not reported: the first run
    # in a process is slower all through (imports, caches, moto's first calls), whatever the size
    big = scenario(args.background, args.due)
    small = scenario(args.baseline, args.due)
    print(report([big, small]))
    print()
    print(compare(big, small))


if __name__ == "__main__":
    main()
