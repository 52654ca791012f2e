"""The agents' console under load, in-process on moto: the queue page with 1,000 live tickets in
the agent's queue over 100,000 closed ones, and a ticket page with a 200-message thread.

    python -m bench.console [--live N] [--closed N] [--thread N] [--runs N]

Prints, per page: DynamoDB calls (targets: queue page at most 3; ticket page at most 3, plus 1 per
older page), server milliseconds (median of the runs: our own, with the time spent inside moto
taken out, and all told), and HTML bytes (target under 60 KB); then the JavaScript a
console page loads (target under 20 KB gzipped). The closed tickets are written straight to the
table in batches (they are history: no index a console page reads holds them).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.common import ROOT, CallCounter, table

QUEUE = "general"


def seed_tickets(live: int, closed: int) -> list[str]:
    """`live` open tickets due a minute apart and `closed` finished ones, as intake and the
    lifecycle would leave them; the live ones' ids, soonest due first."""
    from chalicelib import clock, lifecycle
    from chalicelib.config import settings
    from chalicelib.models import Ticket

    desk, now = settings(), clock.now()
    made = []
    with Ticket.batch_write() as batch:
        for n in range(live + closed):
            created = now - timedelta(days=30) + timedelta(seconds=n) if n >= live else now + timedelta(minutes=n)
            ticket = Ticket(
                f"PR-B{n:07d}",
                customer_id=f"C-{n}",
                customer_name=f"Customer {n}",
                channel="form",
                address=f"c{n}@example.com",
                email=f"c{n}@example.com",
                subject=f"Question {n} about the invoice and the delivery date",
                queue=QUEUE,
                language="en",
                timezone="Europe/Kyiv",
                created_at=created,
                updated_at=created,
                last_message_at=created,
            )
            lifecycle.open_clocks(desk, ticket)
            if n >= live:
                ticket.status, ticket.solved_at, ticket.done_at = "closed", created, created
                ticket.done_queue = QUEUE
            lifecycle.refresh_index(ticket, now)
            batch.save(ticket)
            if n < live:
                made.append(ticket.ticket_id)
    return made


def seed_thread(ticket_id: str, length: int) -> None:
    """A conversation of `length` entries: the customer, our answers, notes and events in turn."""
    from chalicelib import clock, tickets
    from chalicelib.models import Message, Ticket

    ticket = Ticket.get(ticket_id)
    start = clock.now() - timedelta(days=10)
    kinds = [
        ("in", "message", "customer"),
        ("out", "answer", "agent"),
        ("note", "note", "agent"),
        ("event", "status", "agent"),
    ]
    with Message.batch_write() as batch:
        for n in range(length):
            direction, kind, author = kinds[n % len(kinds)]
            body = f"Message {n}: " + "the parcel has not arrived and the tracking page says nothing. " * 3
            batch.save(
                tickets.message(
                    ticket, start + timedelta(minutes=n), direction=direction, kind=kind, author=author, body=body
                )
            )
    ticket.update(actions=[Ticket.message_count.set(length)])


class MotoTime:
    """Seconds spent inside moto (the stand-in for DynamoDB), to take out of a request's time."""

    def __init__(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self.spent = 0.0
        original = BotocoreStubber.__call__

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, *args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign,assignment]  # a stand-in that times the real one


def measure(fetch: Callable[[], Any], counter: CallCounter, moto: MotoTime, runs: int) -> tuple[int, float, float, int]:
    """(DynamoDB calls of one request, median ms all told, median ms outside moto, HTML bytes)."""
    fetch()  # warm: templates compiled, clients made
    timings, ours = [], []
    for _ in range(runs):
        counter.calls.clear()
        moto.spent = 0.0
        started = time.perf_counter()
        response = fetch()
        elapsed = time.perf_counter() - started
        timings.append(elapsed * 1000)
        ours.append((elapsed - moto.spent) * 1000)
        assert response.status_code == 200, (response.status_code, response.body[:300])
    calls = sum(count for operation, count in counter.calls.items() if operation.startswith("dynamodb."))
    return calls, statistics.median(timings), statistics.median(ours), len(response.body)


def _row(name: str, figures: tuple[int, float, float, int]) -> tuple[str, str]:
    calls, total, ours, size = figures
    return name, f"{calls} DynamoDB calls · {ours:.1f} ms ours ({total:.0f} ms with moto) · {size / 1024:.1f} KB HTML"


def run(live: int, closed: int, thread: int, runs: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from infra.local import create_resources

        create_resources()
        import app as app_module
        from chalicelib import assets, clock
        from chalicelib.agents import staff
        from chalicelib.console import session

        agent = staff.create_agent(
            first_name="Olena", last_name="Koval", email="olena@example.com", role="agent", queues=[QUEUE]
        )
        lead = staff.create_agent(
            first_name="Lev", last_name="Lead", email="lev@example.com", role="lead", queues=[QUEUE]
        )
        started = time.perf_counter()
        made = seed_tickets(live, closed)
        seed_thread(made[0], thread)
        seeded = time.perf_counter() - started
        cookies = {who.agent_id: session.begin(who, clock.now()).split(";")[0] for who in (agent, lead)}
        counter = CallCounter()
        counter.attach_all()
        moto = MotoTime()
        rows: list[tuple[str, str]] = []
        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:

            def get(path: str, who: str) -> Callable[[], Any]:
                return lambda: client.http.get(path, headers={"Cookie": cookies[who]})

            pages = [
                ("queue: Unassigned (agent, 1 queue)", "/console/queue?view=unassigned", agent.agent_id),
                ("queue: Breaching soon (agent)", "/console/queue?view=breaching", agent.agent_id),
                ("queue: All open (lead)", "/console/queue?view=all", lead.agent_id),
                (f"ticket: {thread} messages, newest page", f"/console/t/{made[0]}", agent.agent_id),
            ]
            for name, path, who in pages:
                rows.append(_row(name, measure(get(path, who), counter, moto, runs)))
            first = client.http.get(f"/console/t/{made[0]}", headers={"Cookie": cookies[agent.agent_id]})
            older = _older_link(first.body)
            if older:
                rows.append(_row("ticket: one older page", measure(get(older, agent.agent_id), counter, moto, runs)))
            shipped = {name: client.http.get(assets.path(name)).body for name in (assets.HTMX, assets.JS)}
    scripts = [
        (name, f"{len(body) / 1024:.1f} KB, {len(gzip.compress(body, 9)) / 1024:.1f} KB gzipped")
        for name, body in shipped.items()
    ]
    total = sum(len(gzip.compress(body, 9)) for body in shipped.values())
    scripts.append(("JavaScript a page loads", f"{total / 1024:.1f} KB gzipped (target < 20 KB)"))
    rows.insert(
        0, ("seeded", f"{live:,} live + {closed:,} closed tickets, a {thread}-message thread, in {seeded:.0f} s")
    )
    return rows, scripts


def _older_link(html: bytes) -> str | None:
    """The ticket page's "load older" address, as the browser would follow it."""
    from selectolax.lexbor import LexborHTMLParser

    found = LexborHTMLParser(html.decode()).css_first("[hx-get*='/messages']")
    if found is None:
        return None
    link = str(found.attributes.get("hx-get") or "")
    return link.split("127.0.0.1:8000", 1)[-1] if link else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=1000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--thread", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    pages, scripts = run(args.live, args.closed, args.thread, args.runs)
    print(table("Console pages (in-process moto)", pages))
    print()
    print(table("Console JavaScript", scripts))
