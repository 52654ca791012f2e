"""A new ticket's whole journey, and an agent's answer, measured per ticket.

    python -m bench.pipeline [N]        (N new tickets, default 50)

Each ticket goes the real way: the signed form through the webhook handler (Chalice's test
client), then every outbox job it queues — the acknowledgement and the duty offer — pulled from
SQS and handed to the app's `outbox_worker` as Lambda's poller would; then one agent answers each
ticket (POST /api/tickets/{id}/reply) and its answer job runs the same way. A roster for this week
puts the agent on duty in every queue, so the offer assigns.

The embedded AWS (moto server) runs in a separate process, reached through AWS_ENDPOINT_URL as
tools/local.py does, so `time.process_time()` of this process counts the desk's own CPU (request
signing, serialization, rendering, its logic) and not moto's service time. The poller's own SQS
receive/delete calls go through a client of their own: neither counted nor timed.

Printed per ticket:
- AWS calls by operation (bench.common.CallCounter on every client the desk uses);
- CPU ms by function: the webhook, each kind of outbox job, the reply API (Chalice's test client
  building the request is inside the webhook's and the reply's figure: a few tenths of a ms);
- DynamoDB write units, *estimated* from item sizes, since moto reports none. Around each write
  (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) the item is read before
  and after with a separate, uncounted client (its CPU is subtracted from the timings). An item
  costs ceil(size / 1 KB) of the larger of its before and after image (DynamoDB's rule for
  updates), sized by DynamoDB's documented rules (attribute names plus values; numbers about
  half their digits; maps and lists 3 bytes plus 1 per element). Inside a transaction each item
  costs double, a ConditionCheck too. Each GSI of the table is then costed from the same two
  images: an item entering or leaving the index costs one write of its projected item (keys
  only, INCLUDE's attributes, or ALL), a change of the index key costs two (delete + put), a
  change of a projected attribute one, anything else nothing. Not counted: writes that fail their
  condition (DynamoDB charges them; the journey here has none), LSIs (the desk has none), and
  the after-image of an item written twice in one transaction (the desk does not).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from functools import partial
from typing import Any

from bench.common import ROOT, CallCounter, table  # first: it sets the bench environment
from tools.local import FakeContext, sqs_event

TARGETS = {"calls": 8, "wcu": 24, "cpu": 10.0}  # issue 16, per new ticket end to end
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


# Item sizes ------------------------------------------------------------------------------------
def value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (wire format, e.g. {"S": "..."})."""
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode()) for item in data)
    if kind == "NS":
        return sum(value_size({"N": item}) for item in data)
    if kind == "BS":
        return sum(len(item) for item in data)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(item) + 1 for name, item in data.items())
    if kind == "L":
        return 3 + sum(value_size(item) + 1 for item in data)
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None, names: set[str] | None = None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items() if names is None or name in names)


def units(size: int) -> int:
    return math.ceil(size / 1024) if size else 0


class Schema:
    """A table's keys and its GSIs' keys and projections, read once from the embedded AWS."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.keys = [key["AttributeName"] for key in description["KeySchema"]]
        self.indexes: list[tuple[list[str], set[str] | None]] = []
        for index in description.get("GlobalSecondaryIndexes", []):
            index_keys = [key["AttributeName"] for key in index["KeySchema"]]
            projection = index["Projection"]
            kind = projection["ProjectionType"]
            names: set[str] | None = None
            if kind == "KEYS_ONLY":
                names = set(self.keys + index_keys)
            elif kind == "INCLUDE":
                names = set(self.keys + index_keys + projection.get("NonKeyAttributes", []))
            self.indexes.append((index_keys, names))


class WriteUnits:
    """Estimates the write units of every DynamoDB write the desk makes (see the module docstring)."""

    def __init__(self, dynamodb: Any, schemas: dict[str, Schema]) -> None:
        self.dynamodb = dynamodb  # uncounted
        self.schemas = schemas
        self.units: Counter[str] = Counter()  # "Table" / "Table GSI" → units
        self.pending: list[tuple[str, dict[str, Any], int, dict[str, Any] | None]] = []
        self.excluded = 0.0  # CPU seconds spent here, to subtract from the desk's

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self.before)
        client.meta.events.register("after-call.dynamodb", self.after)

    def _get(self, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def _key(self, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.schemas[table_name].keys}

    def before(self, params: dict[str, Any], model: Any, **_: object) -> None:
        if model.name not in WRITES:
            return
        started = time.process_time()
        targets: list[tuple[str, dict[str, Any], int]] = []
        if model.name == "PutItem":
            targets.append((params["TableName"], self._key(params["TableName"], params["Item"]), 1))
        elif model.name in ("UpdateItem", "DeleteItem"):
            targets.append((params["TableName"], params["Key"], 1))
        elif model.name == "BatchWriteItem":
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    put = request.get("PutRequest")
                    key = self._key(table_name, put["Item"]) if put else request["DeleteRequest"]["Key"]
                    targets.append((table_name, key, 1))
        else:
            for entry in params["TransactItems"]:
                (action, body), *_ = entry.items()
                key = self._key(body["TableName"], body["Item"]) if action == "Put" else body["Key"]
                # a ConditionCheck writes nothing: costed as a transactional item, no image change
                targets.append((body["TableName"], key, 2 if action != "ConditionCheck" else -2))
        self.pending = [(name, key, factor, self._get(name, key)) for name, key, factor in targets]
        self.excluded += time.process_time() - started

    def after(self, model: Any, **_: object) -> None:
        if model.name not in WRITES:
            return
        started = time.process_time()
        for table_name, key, factor, old in self.pending:
            new = self._get(table_name, key) if factor > 0 else old
            self._charge(table_name, abs(factor), old, new)
        self.pending = []
        self.excluded += time.process_time() - started

    def _charge(self, table_name: str, factor: int, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        short = table_name.rsplit("-", 1)[-1]
        self.units[short] += factor * max(units(item_size(old)), units(item_size(new)), 1)
        for index_keys, names in self.schemas[table_name].indexes:
            was = old is not None and all(name in old for name in index_keys)
            now = new is not None and all(name in new for name in index_keys)
            label = f"{short} GSI {index_keys[0]}"
            if not was and not now:
                continue
            if was and not now:
                self.units[label] += units(item_size(old, names))
            elif now and not was:
                self.units[label] += units(item_size(new, names))
            else:
                assert old is not None and new is not None
                if any(old[name] != new[name] for name in index_keys):
                    self.units[label] += units(item_size(old, names)) + units(item_size(new, names))
                elif any(
                    old.get(name) != new.get(name) for name in (names if names is not None else set(old) | set(new))
                ):
                    self.units[label] += units(item_size(new, names))


# The embedded AWS in its own process ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("bench.pipeline: the moto server did not start")


# The journey ----------------------------------------------------------------------------------
def run(count: int) -> list[tuple[str, str]]:
    from tools.local_desk import stage_environment

    port = free_port()
    server = start_moto(port)
    try:
        os.environ.update(stage_environment("local"))
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            POWERTOOLS_LOG_LEVEL="ERROR",
        )
        return Journey(count).run()
    finally:
        server.terminate()
        server.wait(timeout=10)


class Journey:
    def __init__(self, count: int) -> None:
        self.count = count
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.runs: Counter[str] = Counter()

    def run(self) -> list[tuple[str, str]]:
        import boto3
        from chalice.test import Client

        from chalicelib import aws, clock, models, stage
        from chalicelib.agents import staff, tokens
        from chalicelib.config import settings
        from chalicelib.signing import sign_timestamped
        from infra.local import create_resources

        create_resources()
        import app as app_module

        self.app = app_module
        own = boto3.session.Session()  # the poller's and the estimator's: never counted
        self.sqs = own.client("sqs", region_name="eu-central-1")
        dynamodb = own.client("dynamodb", region_name="eu-central-1")
        self.queue = self.sqs.get_queue_url(QueueName=stage.outbox_queue())["QueueUrl"]
        schemas = {
            model.Meta.table_name: Schema(dynamodb.describe_table(TableName=model.Meta.table_name)["Table"])
            for model in models.ALL_MODELS
        }

        queues = list(settings().queues)
        agent = staff.create_agent(
            first_name="Bench", last_name="Agent", email="bench.agent@promptly.example", role="agent", queues=queues
        )
        token = tokens.issue(agent.agent_id)[1]
        week = staff.week_of(clock.now())
        for queue in queues:
            staff.set_roster(queue, week, [agent.agent_id])
        secret = os.environ["PROMPTLY_SECRET_FORM_SECRET"]

        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:

            def form(number: int) -> str:
                body = json.dumps(
                    {
                        "submission_id": f"pipeline-{number}",
                        "email": f"p{number}@customer{number}.example.com",  # one domain each: no rate limit
                        "name": "Bench",
                        "subject": f"Question {number}",
                        "message": "How do I change the delivery address of my order?",
                    }
                ).encode()
                timestamp, signature = sign_timestamped(secret, body, clock.now())
                headers = {
                    "Content-Type": "application/json",
                    "X-Promptly-Timestamp": timestamp,
                    "X-Promptly-Signature": signature,
                }
                response = self.timed("webhook", lambda: client.http.post("/webhooks/form", body=body, headers=headers))
                assert response.status_code == 200, response.body
                return str(json.loads(response.body)["ticket"])

            def answer(ticket_id: str) -> None:
                headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
                body = json.dumps({"text": "Open the order, then Change address."})
                response = self.timed(
                    "reply API", lambda: client.http.post(f"/api/tickets/{ticket_id}/reply", body=body, headers=headers)
                )
                assert response.status_code in (200, 201), response.body

            # warm: clients, queue URLs, config, calendars, templates (not measured)
            answer(form(-1))
            self.pump()
            self.cpu.clear()
            self.runs.clear()

            new = CallCounter()
            reply = CallCounter()
            self.writes = WriteUnits(dynamodb, schemas)
            for counter in (new, self.writes):
                self._attach(counter, aws, models)
            tickets = []
            for number in range(self.count):
                tickets.append(form(number))
                self.pump()
            new_units = Counter(self.writes.units)
            new_cpu = dict(self.cpu)
            new_runs = Counter(self.runs)
            # counted before the bench reads the tickets to check them: those reads are not the desk's
            new_calls = Counter(new.calls)
            new.calls.clear()
            self._detach(new, aws, models)
            assigned = sum(1 for ticket_id in tickets if models.Ticket.get(ticket_id).assignee == agent.agent_id)
            self._attach(reply, aws, models)
            self.writes.units.clear()
            self.cpu.clear()
            self.runs.clear()
            for ticket_id in tickets:
                answer(ticket_id)
                self.pump()
            reply_units = Counter(self.writes.units)

        return self.rows(new_calls, new_units, new_cpu, new_runs, assigned, reply.calls, reply_units)

    @staticmethod
    def _clients(aws: Any, models: Any) -> list[Any]:
        found = [aws.client(service) for service in ("sqs", "ses", "s3", "sns")]
        found.append(models.connection().client)
        found += [model._get_connection().connection.client for model in models.ALL_MODELS]
        unique: dict[int, Any] = {id(client): client for client in found}
        return list(unique.values())

    def _attach(self, counter: Any, aws: Any, models: Any) -> None:
        for client in self._clients(aws, models):
            counter.attach(client)

    def _detach(self, counter: CallCounter, aws: Any, models: Any) -> None:
        for client in self._clients(aws, models):
            client.meta.events.unregister("before-call", counter)

    def timed(self, name: str, work: Any) -> Any:
        excluded = self.writes.excluded if hasattr(self, "writes") else 0.0
        started = time.process_time()
        result = work()
        spent = time.process_time() - started
        if hasattr(self, "writes"):
            spent -= self.writes.excluded - excluded
        self.cpu[name] += spent
        self.runs[name] += 1
        return result

    def pump(self) -> None:
        """Lambda's SQS poller: receive, invoke the outbox worker, delete; until the queue is empty."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1, AttributeNames=["All"]).get(
                "Messages", []
            )
            if not messages:
                return
            message = messages[0]
            kind = json.loads(message["Body"]).get("kind", "?")
            self.timed(f"{kind} job", partial(self.app.outbox_worker, sqs_event(message), FakeContext()))
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def rows(
        self,
        new_calls: Counter[str],
        new_units: Counter[str],
        new_cpu: dict[str, float],
        new_runs: Counter[str],
        assigned: int,
        reply_calls: Counter[str],
        reply_units: Counter[str],
    ) -> list[tuple[str, str]]:
        n = self.count

        def per(value: float) -> str:
            return f"{value / n:.2f}"

        def verdict(value: float, target: float) -> str:
            return f"(target <= {target:g}: {'met' if value <= target else 'NOT met'})"

        calls = sum(new_calls.values()) / n
        wcu = sum(new_units.values()) / n
        cpu = sum(new_cpu.values()) * 1000 / n
        rows = [
            ("NEW TICKET (per ticket)", f"{n} tickets, {assigned} assigned by the duty offer"),
            ("AWS calls", f"{calls:.2f}  {verdict(calls, TARGETS['calls'])}"),
        ]
        rows += [(f"  {operation}", per(value)) for operation, value in sorted(new_calls.items())]
        rows.append(("DynamoDB write units (est.)", f"{wcu:.2f}  {verdict(wcu, TARGETS['wcu'])}"))
        rows += [(f"  {where}", per(value)) for where, value in sorted(new_units.items())]
        rows.append(("CPU ms", f"{cpu:.2f}  {verdict(cpu, TARGETS['cpu'])}"))
        rows += [
            (f"  {name}", f"{per(seconds * 1000)}  ({new_runs[name] / n:.2f} runs)")
            for name, seconds in sorted(new_cpu.items())
        ]
        rows += [
            ("AGENT'S ANSWER (per answer)", ""),
            ("AWS calls", per(sum(reply_calls.values()))),
        ]
        rows += [(f"  {operation}", per(value)) for operation, value in sorted(reply_calls.items())]
        rows.append(("DynamoDB write units (est.)", per(sum(reply_units.values()))))
        rows += [(f"  {where}", per(value)) for where, value in sorted(reply_units.items())]
        rows.append(("CPU ms", per(sum(self.cpu.values()) * 1000)))
        rows += [
            (f"  {name}", f"{per(seconds * 1000)}  ({self.runs[name] / n:.2f} runs)")
            for name, seconds in sorted(self.cpu.items())
        ]
        return rows


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    started = time.perf_counter()
    rows = run(n)
    print(table(f"Pipeline: {n} new tickets through webhook -> outbox jobs, moto in another process", rows))
    print(f"\n({time.perf_counter() - started:.0f} s wall)")
