"""Three times the desk's peak against the running local desk (`make run`), then the counts
that must be zero: messages lost or stored twice, acknowledgements lost or sent twice.

    .venv/bin/python -m bench.load                        # 5 minutes at 3x the assumed peak
    .venv/bin/python -m bench.load --seconds 60           # a short run
    .venv/bin/python -m bench.load --agents 20 --rate 5   # another desk size, or a fixed rate

The peak assumed: `--agents` (50) people answering 250 tickets a day each (the top of what teams
report) is 12,500 tickets a day; the busiest hour carries 12 % of a day (about twice an average
hour of a 10-hour day): 0.42 messages/s. A campaign triples it (+200 %, the top of the peaks
teams see): 1.25 messages/s, each a new customer's first message, on a mix of the form, the
chat, Telegram, Viber and Twilio webhooks and email files dropped into local/inbox/. 10 % are
delivered again, 0–2 s later (providers are at-least-once; some arrive while the first is still
in flight). A delivery answered 5xx or not at all is retried twice a second apart, as providers
do. Halfway and at the end, two SLA watch runs are started at the same moment (beside the
desk's own, once a minute).

What it prints: webhook latency p50/p95/p99 (the round trip of each request); acknowledgement
latency p50/p95, from the message being stored to its acknowledgement being recorded as sent
(both times from the desk's records); and, once the outbox has drained, what was lost (a
message not stored, a ticket whose acknowledgement never went out) and what was doubled (a
message stored twice, a customer acknowledged twice, an SLA warning sent twice) — counted from
the store and from what was sent. What was sent is read where /dev/outbox reads it — the
embedded SES (moto's data dump) and the fake providers' log — once, at the end, and directly:
the dump grows with everything stored (seconds after a minute of this load), past the 5 s
/dev/outbox allows it, and polling it would load the desk being measured.

Loopback only (it refuses any other host) and bounded: the load stops after --seconds, the wait
for the outbox after --drain seconds, every request after 30 s. Warnings only fire while the
queue's calendar is open: at night, start the desk with a 24/7 calendar (PROMPTLY_CONFIG, the
same for both processes) to see them.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import ROOT, table  # first: it clears AWS_ENDPOINT_URL, which stage_environment sets

STAGE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
MIX = {"form": 20, "chat": 15, "telegram": 25, "viber": 10, "twilio": 15, "email": 15}  # % of messages
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PROVIDER_RETRIES = 2
REQUEST_SECONDS = 30.0


@dataclass(frozen=True)
class Peak:
    agents: int = 50
    tickets_per_agent_day: int = 250
    busiest_hour_share: float = 0.12
    factor: float = 3.0  # a campaign: +200 %

    def rate(self) -> float:
        """Messages per second at `factor` times the busiest hour."""
        return self.agents * self.tickets_per_agent_day * self.busiest_hour_share / 3600 * self.factor

    def describe(self) -> str:
        return (
            f"{self.factor:g}x a peak of {self.agents} agents x {self.tickets_per_agent_day} tickets/day "
            f"({self.busiest_hour_share:.0%} in the busiest hour)"
        )


@dataclass(order=True)
class Delivery:
    at: float  # seconds after the start
    order: int
    message: Any = field(compare=False)
    copy: int = field(compare=False, default=0)  # 0: the first delivery, 1: a redelivery


@dataclass
class Tally:
    """What happened on the wire, filled in by the senders' threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # channel → ms
    statuses: Counter[str] = field(default_factory=Counter)
    provider_retries: int = 0
    messages: dict[str, Any] = field(default_factory=dict)  # nonce → Message
    copies: int = 0

    def answered(self, channel: str, status: str, millis: float) -> None:
        with self.lock:
            self.latencies[channel].append(millis)
            self.statuses[status] += 1


# The run --------------------------------------------------------------------------------------
def schedule(traffic: Any, rate: float, seconds: float, duplicates: float, rng: random.Random) -> list[Delivery]:
    """Poisson arrivals at `rate` for `seconds`, channels drawn from MIX; the share `duplicates`
    of them (drawn at random) delivered again 0–2 s later."""
    channels, weights = zip(*MIX.items())
    firsts: list[Delivery] = []
    at = rng.expovariate(rate)
    while at < seconds:
        firsts.append(Delivery(at, len(firsts), traffic.message(rng.choices(channels, weights)[0], len(firsts))))
        at += rng.expovariate(rate)
    again = rng.sample(firsts, round(len(firsts) * duplicates))
    plan = firsts + [
        Delivery(first.at + rng.uniform(0, 2), len(firsts) + n, first.message, copy=1) for n, first in enumerate(again)
    ]
    heapq.heapify(plan)
    return plan


def send(http: Any, base: str, delivery: Delivery, inbox: Path, tally: Tally) -> None:
    import urllib3

    message = delivery.message
    if message.path is None:
        drop(inbox, message, delivery.copy)
        return
    for attempt in range(1 + PROVIDER_RETRIES):
        started = time.perf_counter()
        try:
            response = http.request("POST", base + message.path, body=message.body, headers=message.headers())
            status = f"{response.status}"
        except urllib3.exceptions.HTTPError as error:  # a timeout or a refused connection: the provider retries
            status = type(error).__name__
        tally.answered(message.channel, status, (time.perf_counter() - started) * 1000)
        if status.startswith(("2", "4")):
            return  # 4xx: refused for good (none expected: it would be a bug in this benchmark)
        with tally.lock:
            tally.provider_retries += 1
        time.sleep(1)


def drop(inbox: Path, message: Any, copy: int) -> None:
    """What SES does for the local desk: the raw mail into local/inbox/ (written aside, then
    renamed, so the desk never reads half a file)."""
    name = f"{message.nonce}-{copy}.eml"
    partial = inbox / f".{name}.part"
    partial.write_bytes(message.body)
    os.replace(partial, inbox / name)


def run_load(
    plan: list[Delivery], base: str, inbox: Path, workers: int, tally: Tally, halfway: threading.Event, seconds: float
) -> None:
    import urllib3

    http = urllib3.PoolManager(
        maxsize=workers, block=True, retries=False, timeout=urllib3.Timeout(connect=2.0, read=REQUEST_SECONDS)
    )
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provider") as pool:
        while plan:
            delivery = heapq.heappop(plan)
            wait = delivery.at - (time.monotonic() - start)
            if wait > 0:
                time.sleep(wait)
            if not halfway.is_set() and time.monotonic() - start >= seconds / 2:
                halfway.set()
            tally.messages[delivery.message.nonce] = delivery.message
            tally.copies += delivery.copy
            pool.submit(send, http, base, delivery, inbox, tally)
    halfway.set()


def overlapping_watch_runs() -> list[dict[str, Any]]:
    """Two SLA watch runs started at the same moment, as two overlapping schedules would."""
    from chalicelib import clock
    from chalicelib.sla import watch

    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def one() -> None:
        barrier.wait()
        try:
            results.append(watch.run(clock.now()))
        except Exception as error:  # noqa: BLE001 (whatever a run raises is reported, by name)
            results.append({"error": type(error).__name__})

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def drain(inbox: Path, seconds: float) -> float:
    """Wait until the outbox queue and the inbox are empty (twice in a row); the seconds waited."""
    from chalicelib import aws, stage

    started = time.monotonic()
    sqs = aws.client("sqs")
    url = aws.queue_url(stage.outbox_queue())
    quiet = 0
    while time.monotonic() - started < seconds and quiet < 2:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        waiting = sum(
            int(attributes[name]) for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        )
        quiet = quiet + 1 if waiting == 0 and not list(inbox.glob("*.eml")) else 0
        time.sleep(1)
    return time.monotonic() - started


# What came of it ------------------------------------------------------------------------------
@dataclass
class Findings:
    stored: dict[str, list[Any]]  # nonce → the inbound records carrying it
    tickets: dict[str, Any]  # ticket id → Ticket
    ack_seconds: list[float]  # per ticket: message stored → acknowledgement recorded as sent
    received: Counter[str]  # recipient → acknowledgements /dev/outbox shows went out
    warnings: Counter[str]  # "recipient subject" of an SLA warning → times sent


def sent_mail(aws: str, http: Any) -> list[tuple[str, str]]:
    """(recipient, subject) of every mail the embedded SES sent."""
    from email import message_from_bytes, policy

    data = json.loads(http.request("GET", f"{aws}/moto-api/data.json", timeout=600).data)
    raw = data.get("ses", {}).get("RawMessage", [])
    if isinstance(raw, dict):  # some moto versions group sends by account/region
        raw = [item for items in raw.values() for item in items]
    mails = [message_from_bytes(item["raw_data"].encode(), policy=policy.default) for item in raw]
    return [(parseaddr(str(mail["To"]))[1], str(mail["Subject"])) for mail in mails]


def sent_messages(providers: str, http: Any) -> list[str]:
    """The recipient of every message the fake Telegram, Viber, Twilio and chat APIs took: a
    Telegram chat_id, a Viber receiver, a Twilio To, a chat visitor_id."""
    sent = json.loads(http.request("GET", f"{providers}/sent").data)["messages"]
    names = ("chat_id", "receiver", "To", "visitor_id")
    return [str(next((m["payload"][n] for n in names if m["payload"].get(n)), "")) for m in sent]


def findings(aws: str, providers: str, run_prefix: str, http: Any) -> Findings:
    from chalicelib.models import Message, Ticket

    stored: dict[str, list[Any]] = defaultdict(list)
    acks: dict[str, Any] = {}
    for record in Message.scan():  # a benchmark's export, not a desk path
        body = record.body or ""
        if record.direction == "in" and body.startswith(run_prefix):
            stored[body.split(":", 1)[0]].append(record)
        elif record.direction == "out" and record.message_id == f"ack-{record.ticket_id}":
            acks[record.ticket_id] = record
    first = {records[0].ticket_id: records[0] for records in stored.values()}
    tickets = {ticket.ticket_id: ticket for ticket in Ticket.batch_get(list(first))}
    seconds = [(acks[t].created_at - first[t].created_at).total_seconds() for t in first if t in acks]
    received: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for recipient, subject in sent_mail(aws, http):
        if subject.startswith("[SLA"):
            warnings[f"{recipient} {subject}"] += 1
        elif "We received your request" in subject:
            received[recipient] += 1
    received.update(sent_messages(providers, http))  # nothing else goes to customers here: no agent answers
    return Findings(stored, tickets, sorted(seconds), received, warnings)


@dataclass
class Verdict:
    """Per customer (one first message each): what was lost, doubled or withheld on purpose."""

    lost_messages: int = 0
    lost_acks: int = 0
    doubled_messages: int = 0
    doubled_acks: int = 0
    withheld_acks: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, messages: dict[str, Any], found: Findings) -> Verdict:
        verdict = cls()
        for nonce, message in messages.items():
            records = found.stored.get(nonce, [])
            if not records:
                verdict.lost_messages += 1
                continue
            verdict.doubled_messages += len(records) > 1
            state = found.tickets[records[0].ticket_id].ack_state
            acknowledged = found.received[message.recipient]
            if state == "sent":
                verdict.lost_acks += acknowledged == 0
                verdict.doubled_acks += acknowledged > 1
            elif state == "pending":  # never settled: lost, whatever the reason
                verdict.lost_acks += 1
            else:  # suppressed by a limit or a cooldown, refused for good: counted apart
                verdict.withheld_acks[state] += 1
        return verdict


def ms(values: list[float], p: int) -> str:
    from chalicelib.kpi.stats import percentile

    value = percentile(values, p)
    return "-" if value is None else f"{value:.0f} ms"


def secs(values: list[float], p: int) -> str:
    from chalicelib.kpi.stats import percentile

    value = percentile(values, p)
    return "-" if value is None else f"{value:.2f} s"


def table_rows(
    load: str, tally: Tally, found: Findings, watches: list[dict[str, Any]], drained: float
) -> tuple[list[tuple[str, str]], int]:
    """The printed rows, and how many things were lost or doubled (the exit status)."""
    every = sorted(value for values in tally.latencies.values() for value in values)
    by_channel = Counter(message.channel for message in tally.messages.values())
    verdict = Verdict.of(tally.messages, found)
    doubled_warnings = sum(count - 1 for count in found.warnings.values())
    rows = [
        ("load", load),
        ("messages", f"{len(tally.messages)}: " + ", ".join(f"{c} {by_channel[c]}" for c in MIX)),
        ("redelivered duplicates", f"{tally.copies} ({tally.copies / max(len(tally.messages), 1):.0%})"),
        (
            "webhook requests",
            f"{len(every)}; "
            + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
            + f"; retried as providers do: {tally.provider_retries}",
        ),
        ("webhook latency p50 / p95 / p99", " / ".join(ms(every, p) for p in (50, 95, 99))),
        *(
            (f"  {channel} p50 / p95", f"{ms(sorted(v), 50)} / {ms(sorted(v), 95)}")
            for channel, v in sorted(tally.latencies.items())
        ),
        (
            "ack latency p50 / p95",
            (
                f"{secs(found.ack_seconds, 50)} / {secs(found.ack_seconds, 95)}"
                "  (message stored -> ack sent, from the desk's records)"
            ),
        ),
        ("acks withheld on purpose", ", ".join(f"{k} {v}" for k, v in verdict.withheld_acks.items()) or "0"),
        (
            "SLA watch: 2 runs at once, twice",
            "; ".join(
                f"error {w['error']}"
                if "error" in w
                else f"due {w['due']}, queued {w['queued']}, moved on {w['moved_on']}"
                for w in watches
            ),
        ),
        ("SLA warnings sent", str(sum(found.warnings.values()))),
        ("outbox drained after the load in", f"{drained:.0f} s"),
        ("LOST: messages / acks", f"{verdict.lost_messages} / {verdict.lost_acks}"),
        (
            "DUPLICATED: messages / acks / warnings",
            f"{verdict.doubled_messages} / {verdict.doubled_acks} / {doubled_warnings}",
        ),
    ]
    bad = verdict.lost_messages + verdict.lost_acks + verdict.doubled_messages + verdict.doubled_acks + doubled_warnings
    return rows, bad


# Command line ---------------------------------------------------------------------------------
def loopback(url: str, what: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"bench.load: {what} must be on this machine (127.0.0.1), not {host!r}")
    return url.rstrip("/")


def stage_environment(aws: str) -> None:
    """The local stage as the desk runs it, pointed at its embedded AWS: to read the store and
    run the SLA watch from here. Set before chalicelib.models is imported (it names the tables)."""
    os.environ.update(
        {
            **STAGE,
            "AWS_ENDPOINT_URL": aws,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the local desk's API")
    parser.add_argument("--aws", default="http://127.0.0.1:8001", help="the local desk's embedded AWS")
    parser.add_argument("--providers", default="http://127.0.0.1:8002", help="the local desk's fake providers")
    parser.add_argument("--inbox", type=Path, default=ROOT / "local" / "inbox", help="the desk's local/inbox/")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--agents", type=int, default=Peak.agents)
    parser.add_argument("--rate", type=float, help="messages/s, instead of 3x the agents' peak")
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--drain", type=float, default=120, help="at most this long waiting for the outbox")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    base, aws, providers = (
        loopback(args.base, "--base"),
        loopback(args.aws, "--aws"),
        loopback(args.providers, "--providers"),
    )
    stage_environment(aws)

    import urllib3

    from bench.traffic import Secrets, Traffic

    http = urllib3.PoolManager(retries=False, timeout=REQUEST_SECONDS)
    try:
        http.request("GET", f"{providers}/sent", timeout=5)
        http.request("GET", f"{base}/api/me", timeout=5)  # any answer: the desk is up
    except urllib3.exceptions.HTTPError:
        raise SystemExit(f"bench.load: no desk answers at {base}; start it with `make run`") from None
    args.inbox.mkdir(parents=True, exist_ok=True)
    peak = Peak(agents=args.agents)
    rate = args.rate or peak.rate()
    rng = random.Random(args.seed)
    run = int(time.time()) % 100_000
    plan = schedule(Traffic(run, Secrets.of_stage(STAGE), base), rate, args.seconds, args.duplicates, rng)
    tally, halfway, watches = Tally(), threading.Event(), []
    loader = threading.Thread(
        target=run_load, args=(plan, base, args.inbox, args.workers, tally, halfway, args.seconds), name="load"
    )
    loader.start()
    halfway.wait(timeout=args.seconds + 60)
    watches += overlapping_watch_runs()
    loader.join(timeout=args.seconds + 60 + REQUEST_SECONDS * (1 + PROVIDER_RETRIES))
    watches += overlapping_watch_runs()
    drained = drain(args.inbox, args.drain)
    load = (
        f"{peak.describe()}: {rate:.2f} messages/s for {args.seconds:g} s"
        if not args.rate
        else f"{rate:.2f} messages/s for {args.seconds:g} s"
    )
    rows, bad = table_rows(load, tally, findings(aws, providers, f"load-{run}-", http), watches, drained)
    print(table(f"Load against the local desk at {base}", rows))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
