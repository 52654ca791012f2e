"""The morning digest for a very busy day, in-process on moto.

    python -m bench.digest [--tickets 100000] [--prior 10000] [--live 2000] [--agents 50]

Seeds the facts table with PynamoDB batch writes (25 items a call): a day with `--tickets`
tickets (default 100,000) and every fact they make that day — created, answered, first and
next responses, solved, closed, reopened, breaches, ratings, NPS answers, about 4.6 facts a
ticket — and each of the 7 days before it with `--prior` tickets (default 10,000, the same
mix); `--live` live tickets for the backlog and `--agents` people. Then:

1. times one `digest.compute(day)` (wall clock, and apart: the time inside the Query calls);
2. runs it again under tracemalloc for the peak of Python memory (slower: tracemalloc
   traces every allocation);
3. checks that the facts read are exactly the day's facts plus the 7 prior days', and that
   the tickets read for subjects are 0 (the facts carry them).

What is moto's, not DynamoDB's, and how the benchmark keeps it from drowning the figure:
moto answers every page of a Query by sorting the whole table and walking from its start to the
page's ExclusiveStartKey (O(table) per 1 MB page: O(n²) for a big day, hours at 100,000
tickets), projects each item through boto3's (de)serializer, and serializes the response value
by value against the API's shape (about a millisecond an item). While the benchmark runs,
`lean_moto_query` answers a plain key Query (no index, no sort-key condition, forward) from the
partition alone — sorted once, a bisection to the start key, 1 MB pages and LastEvaluatedKey
as moto computes them —, picks top-level projected attributes directly, and puts the page's
items (wire format already) into moto's own JSON body. The responses are identical to moto's
(compared page by page, by size and by Limit). moto also keeps every item object it ever
makes (a class-wide instance list, for its reset): the lean path's per-page copies are not
registered there, so tracemalloc's peak is the digest's and one page's, not a million copies.
DynamoDB itself reads a partition in key order; the time "inside Query calls" here is still an
in-process simulation, not network time.

Lambda's limits are 15 minutes and 10,240 MB; the table states the figure against them.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import random
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import table

DAY = "2026-11-23"
CHANNELS = (
    ("email", 0.35, 5400, 12 * 3600),
    ("form", 0.15, 3600, 4 * 3600),
    ("chat", 0.2, 50, 60),
    ("telegram", 0.15, 300, 600),
    ("viber", 0.07, 400, 600),
    ("sms", 0.04, 900, 1800),
    ("whatsapp", 0.04, 350, 600),
)
SUBJECTS = (
    "Where is the download link",
    "Cannot log in",
    "Refund for my order",
    "Invoice has the wrong name",
    "Payment failed",
    "App crashes on start",
    "How do I change my plan",
    "Delivery is late",
    "Оплата не проходить",
    "Не працює вхід",
    "Где ссылка на скачивание",
    "Two-factor code does not come",
)
HOURS = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3, 5, 6.5, 6, 4.5, 4, 5.5, 5, 4, 3, 2, 1.5, 1.2, 1, 0.6, 0.3)
PLAIN = {"S", "N", "BOOL", "NULL"}  # attribute types whose wire format is the value itself
LAMBDA_SECONDS = 900
LAMBDA_MB = 10240


# --- seeding -----------------------------------------------------------------------------------
def day_facts(day: date, tickets: int, agents: list[str], queues: list[str], rng: random.Random) -> list[Any]:
    """Every fact `tickets` tickets make on `day` (answers and solves that fall on the next day
    are left out, as the desk would write them under that day)."""
    from zoneinfo import ZoneInfo

    from chalicelib import clock
    from chalicelib.config import settings
    from chalicelib.models import Fact

    tz = ZoneInfo(settings().desk.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    out: list[Any] = []

    def add(at: datetime, ticket: str, kind: str, channel: str, queue: str, **data: Any) -> None:
        if at < end:
            out.append(
                Fact(
                    day.isoformat(),
                    f"{clock.iso(at)}#{ticket}#{kind}",
                    kind=kind,
                    ticket_id=ticket,
                    channel=channel,
                    queue=queue,
                    at=at,
                    data=data,
                )
            )

    names = [c[0] for c in CHANNELS]
    weights = [c[1] for c in CHANNELS]
    typical = {c[0]: c[2] for c in CHANNELS}
    target = {c[0]: c[3] for c in CHANNELS}
    hour_weights = list(HOURS)
    for n in range(tickets):
        ticket = f"PR-{day.strftime('%m%d')}{n:06d}"
        created = start + timedelta(hours=rng.choices(range(24), weights=hour_weights)[0], seconds=rng.randrange(3600))
        channel = rng.choices(names, weights=weights)[0]
        queue = queues[n % len(queues)]
        agent = agents[n % len(agents)]
        due = created + timedelta(seconds=target[channel])
        promised = clock.iso(due)
        automated = "auto-reply" if n % 50 == 0 else None
        add(
            created,
            ticket,
            "created",
            channel,
            queue,
            priority="normal",
            subject=SUBJECTS[n % len(SUBJECTS)],
            promised_at=None if automated else promised,
            automated=automated,
        )
        if automated:
            continue
        seconds = int(rng.lognormvariate(0, 0.9) * typical[channel])
        answered = created + timedelta(seconds=seconds)
        add(answered, ticket, "answered", channel, queue, agent=agent)
        add(
            answered,
            ticket,
            "first_response",
            channel,
            queue,
            agent=agent,
            seconds=seconds,
            due=promised,
            met=answered <= due,
            promised_at=promised,
        )
        if answered > due + timedelta(minutes=1):
            add(
                due + timedelta(minutes=1),
                ticket,
                "breached",
                channel,
                queue,
                target="first_response",
                due=promised,
                late_seconds=60,
            )
        if n % 5 == 0:  # the customer writes again; the agent answers
            again = answered + timedelta(minutes=rng.randrange(5, 90))
            next_due = again + timedelta(seconds=target[channel])
            replied = again + timedelta(seconds=int(rng.lognormvariate(0, 0.9) * typical[channel]))
            add(replied, ticket, "answered", channel, queue, agent=agent)
            add(
                replied,
                ticket,
                "next_response",
                channel,
                queue,
                agent=agent,
                seconds=int((replied - again).total_seconds()),
                due=clock.iso(next_due),
                met=replied <= next_due,
            )
        if n % 10 < 6:
            solved = answered + timedelta(seconds=int(rng.lognormvariate(0, 1.0) * 3 * 3600))
            resolution_due = created + timedelta(hours=16)
            add(
                solved,
                ticket,
                "solved",
                channel,
                queue,
                agent=agent,
                seconds=int((solved - created).total_seconds()),
                due=clock.iso(resolution_due),
                met=solved <= resolution_due,
            )
            if n % 10 < 3:
                add(solved + timedelta(minutes=30), ticket, "closed", channel, queue)
            if n % 7 == 0:
                bad = n % 11 == 0
                add(
                    solved + timedelta(minutes=10),
                    ticket,
                    "rated",
                    channel,
                    queue,
                    rating="bad" if bad else "good",
                    comment="It took too long." if bad else "",
                    agent=agent,
                )
            if n % 61 == 0:
                add(solved + timedelta(minutes=40), ticket, "reopened", channel, queue)
        if n % 40 == 0:
            add(created + timedelta(hours=2), f"NPS-{ticket}", "nps", channel, queue, score=n % 11, comment="")
    return out


def seed(tickets: int, prior: int, live: int, agent_count: int) -> dict[str, Any]:
    from chalicelib.agents import staff
    from chalicelib.config import settings
    from chalicelib.models import Agent, Fact, Ticket

    rng = random.Random(11)
    queues = list(settings().queues)
    agents = []
    for n in range(agent_count):
        role = "admin" if n == 0 else ("lead" if n < 3 else "agent")
        agent = staff.create_agent(
            first_name=f"Agent{n}", last_name="Bench", email=f"a{n}@promptly.example", role=role, queues=queues
        )
        Agent.get(agent.agent_id).update(actions=[Agent.open_load.set(n % 9)])
        agents.append(agent.agent_id)
    per_day: dict[str, int] = {}
    started = time.perf_counter()
    target = date.fromisoformat(DAY)
    for back in range(7, -1, -1):
        day = target - timedelta(days=back)
        facts = day_facts(day, tickets if back == 0 else prior, agents, queues, rng)
        with Fact.batch_write() as batch:
            for item in facts:
                batch.save(item)
        per_day[day.isoformat()] = len(facts)
        del facts
        gc.collect()
    seeded_in = time.perf_counter() - started
    now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    with Ticket.batch_write() as batch:
        for n in range(live):
            created = now - timedelta(minutes=rng.randrange(1, 6 * 24 * 60))
            queue = queues[n % len(queues)]
            batch.save(
                Ticket(
                    f"PR-LIVE{n:06d}",
                    customer_id="C-1",
                    channel="email",
                    address="c@example.com",
                    status=("new", "open", "open", "pending")[n % 4],
                    queue=queue,
                    language="en",
                    timezone="Europe/Kyiv",
                    created_at=created,
                    updated_at=created,
                    last_message_at=created,
                    open_queue=queue,
                    due_key="~",
                    version=1,
                )
            )
    return {"per_day": per_day, "seconds": seeded_in, "now": now, "agents": agent_count}


# --- moto ----------------------------------------------------------------------------------------
@contextmanager
def lean_moto_query() -> Iterator[None]:
    """Answer a plain key Query from its partition, sorted once per partition and size, with a
    bisection to ExclusiveStartKey; anything else goes to moto's own Query unchanged."""
    import copy

    from moto.core.responses import ActionResult
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    original = Table.query
    cache: dict[tuple[int, Any], tuple[int, list[Any], list[Any]]] = {}

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: Any = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: Any = None,
        range_key_conditions: Any = None,
        **filter_kwargs: Any,
    ) -> Any:
        if (
            index_name
            or range_comparison
            or range_key_conditions
            or filter_kwargs
            or scan_index_forward is False
            or not self.range_key_attr
        ):
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions,
                range_key_conditions,
                **filter_kwargs,
            )
        partition = self.items.get(hash_key, {})
        cached = cache.get((id(self), hash_key))
        if cached is None or cached[0] != len(partition):
            items = sorted(partition.values(), key=lambda item: item.range_key)
            cached = (len(partition), items, [item.range_key.value for item in items])
            cache[(id(self), hash_key)] = cached
        _, items, keys = cached
        first = 0
        if exclusive_start_key:
            first = bisect.bisect_right(keys, DynamoType(exclusive_start_key[self.range_key_attr]).value)
        results: list[Any] = []
        size, last_key = 0, None
        for item in items[first:]:
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last_key = self._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item.size()
        scanned = len(results)
        if projection_expressions and all(len(path) == 1 for path in projection_expressions):
            # top-level attribute names: the projected item is those attributes (moto's own
            # `project` round-trips every item through boto3's (de)serializer to do the same)
            names = {path[0] for path in projection_expressions}
            results = [_projected(item, names) for item in results]
            projection_expressions = None
        else:
            results = copy.deepcopy(results)
        if filter_expression is not None:  # as moto: after the page is cut (a FilterExpression-less Query
            results = [item for item in results if filter_expression.expr(item)]  # gets moto's "true")
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned, last_key

    def _projected(item: Any, names: set[str]) -> Any:
        # object.__new__: moto's models append every instance to a class-wide tracking list that
        # lives as long as the mock, so each page's copies would stay in memory to the end
        projected = object.__new__(Item)
        projected.hash_key, projected.range_key = item.hash_key, item.range_key
        projected.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(
            projected.attrs, {name: copy.deepcopy(value) for name, value in item.attrs.items() if name in names}
        )
        return projected

    serialize = ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        """A Query page's items are wire-format already ({"S": "..."}): put them into the body
        moto serialized for everything else, instead of walking the response shape per value."""
        result = self.result
        operation = context.operation_model
        items = result.get("Items") if isinstance(result, dict) else None
        if (
            operation.name != "Query"
            or operation.service_model.service_name != "dynamodb"
            or not items
            or not all(set(value) <= PLAIN for item in items for value in item.values())
        ):
            return serialize(self, context)
        self._result = {**result, "Items": []}
        try:
            status, headers, body = serialize(self, context)
        finally:
            self._result = result
        document = json.loads(body)
        document["Items"] = items
        return status, headers, json.dumps(document)

    Table.query = query  # type: ignore[method-assign]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]
        ActionResult.execute_result = serialize  # type: ignore[method-assign]


class QueryClock:
    """Wall time spent inside DynamoDB Query calls (moto's work + the wire format both ways)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._started = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb.Query", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after)

    def _before(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started
        self.calls += 1


# --- run -----------------------------------------------------------------------------------------
def run(tickets: int, prior: int, live: int, agent_count: int) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws(), lean_moto_query():
        from chalicelib import aws
        from chalicelib.models import ALL_MODELS
        from infra.local import create_resources

        aws.reset()
        create_resources()
        seeded = seed(tickets, prior, live, agent_count)
        from chalicelib.kpi import digest
        from chalicelib.kpi.reading import Reads

        clock_ = QueryClock()
        for model in ALL_MODELS:
            clock_.attach(model._get_connection().connection.client)
        gc.collect()
        reads = Reads()
        started = time.perf_counter()
        figures = digest.compute(DAY, now=seeded["now"], reads=reads)
        seconds = time.perf_counter() - started
        query_seconds, query_calls = clock_.seconds, clock_.calls

        gc.collect()
        tracemalloc.start()
        traced_started = time.perf_counter()
        digest.compute(DAY, now=seeded["now"])
        traced_seconds = time.perf_counter() - traced_started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "tickets": tickets,
        "prior": prior,
        "seeded": seeded,
        "seconds": seconds,
        "query_seconds": query_seconds,
        "query_calls": query_calls,
        "reads": reads,
        "figures": figures,
        "peak": peak,
        "traced_seconds": traced_seconds,
    }


def report(result: dict[str, Any]) -> str:
    seeded, reads, figures = result["seeded"], result["reads"], result["figures"]
    expected = sum(seeded["per_day"].values())
    day_facts_count = seeded["per_day"][DAY]
    exact = reads.items == expected and reads.per_day == seeded["per_day"]
    first = figures["first_response"]["all"]
    rows = [
        ("tickets on the day / each prior day", f"{result['tickets']:,} / {result['prior']:,}"),
        ("facts on the day", f"{day_facts_count:,}"),
        ("facts on the 7 prior days", f"{expected - day_facts_count:,}"),
        ("seeding (batch_write on moto)", f"{seeded['seconds']:.0f} s"),
        ("compute(day): wall clock", f"{result['seconds']:.1f} s"),
        ("  of which inside Query calls", f"{result['query_seconds']:.1f} s in {result['query_calls']} calls"),
        ("  of which the digest's own work", f"{result['seconds'] - result['query_seconds']:.1f} s"),
        (
            "peak Python memory (tracemalloc)",
            f"{result['peak'] / 2**20:.0f} MiB (traced run: {result['traced_seconds']:.1f} s)",
        ),
        ("facts read", f"{reads.items:,} in {reads.queries} Query pages over {len(reads.per_day)} days"),
        ("facts read == facts written per day", "yes" if exact else f"NO: {reads.per_day} vs {seeded['per_day']}"),
        ("tickets read for subjects", f"{figures['reads']['tickets_for_subjects']}"),
        (
            "agents read (named that day, holding a ticket, leaders)",
            f"{figures['reads']['agents']} of {seeded['agents']}, by BatchGetItem (no Scan)",
        ),
        (
            "Lambda: 900 s, 10,240 MB",
            (
                f"{result['seconds'] / LAMBDA_SECONDS:.1%} of the time,"
                f" {result['peak'] / 2**20 / LAMBDA_MB:.1%} of the memory"
            ),
        ),
        (
            "sanity: volume, first response median",
            f"{figures['volume']['total']:,}, {first['median']:.0f} s over {first['count']:,} answers",
        ),
    ]
    return table(f"digest.compute for one day ({result['tickets']:,} tickets)", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--prior", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=2_000)
    parser.add_argument("--agents", type=int, default=50)
    args = parser.parse_args()
    result = run(args.tickets, args.prior, args.live, args.agents)
    print(report(result))
    if result["reads"].items != sum(result["seeded"]["per_day"].values()):
        raise SystemExit("items read differ from the facts written")


if __name__ == "__main__":
    main()
