"""Render the KPI digest of any past desk-local day to a local file, to look at it.

    python -m tools.digest --local [--day 2026-11-23] [--out build/digest.html] [--language uk]
        the desk `make run` started here, whatever its ports; "yesterday" by its clock
    PROMPTLY_STAGE=prod python -m tools.digest --day 2026-11-23
        a deployed stage, with your own AWS credentials (reads only: facts, live tickets, agents)
    python -m tools.digest --demo
        a realistic seeded day (and the week before it) on an in-process embedded AWS

Writes the HTML (`--out`, default `build/digest-<day>.html`: build/ is ignored by git) beside a
`.txt` with the plain-text part and a `.json` with the figures, and prints the subject. Nothing
is sent or archived. The backlog is always "now" (live tickets as of running this), whatever
the day.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.kpi.figures import Figures  # plain dataclasses: no model, so the environment can still be set
from tools import local_desk

DEMO_DAY = "2026-11-23"
OUT = Path("build")  # beside the other build output, which git ignores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", help="desk-local day, YYYY-MM-DD (default: yesterday; with --demo, 2026-11-23)")
    parser.add_argument("--out", type=Path, help="HTML file to write (default: build/digest-<day>.html)")
    parser.add_argument("--language", help="reader's language (default: the desk's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="the running local desk (make run), on whatever ports")
    where.add_argument("--demo", action="store_true", help="a seeded sample day on an in-process embedded AWS")
    args = parser.parse_args()
    if args.day:
        date.fromisoformat(args.day)  # a wrong date fails here, with its own message

    if args.demo:
        day = args.day or DEMO_DAY
        figures = demo_figures(day)
    else:
        if args.local:
            local_desk.follow(local_desk.running())
        if "chalicelib.models" in sys.modules:
            raise SystemExit("set the environment before importing the models")
        from chalicelib.kpi import digest

        day = args.day or _yesterday()
        figures = digest.day_figures(day)
    out = args.out or OUT / f"digest-{day}.html"
    subject = write(figures, out, args.language)
    print(f"{subject}\nwrote {out}, {out.with_suffix('.txt')}, {out.with_suffix('.json')}")


def _yesterday() -> str:
    from chalicelib.config import settings

    return (clock.now().astimezone(ZoneInfo(settings().desk.timezone)).date() - timedelta(days=1)).isoformat()


def write(figures: Figures, out: Path, language: str | None = None) -> str:
    """The digest's HTML, text and JSON beside each other; returns the subject."""
    from chalicelib.config import settings
    from chalicelib.kpi.view import render_digest

    rendered = render_digest(figures, language or settings().desk.default_language)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered.html or "", encoding="utf-8")
    out.with_suffix(".txt").write_text(f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(figures.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return rendered.subject


# --- the demo desk -----------------------------------------------------------------------------
def start_embedded_aws() -> None:
    """moto in this process, with every table, queue and bucket the desk has."""
    import moto  # noqa: F401  (before any client exists)

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[name]
    os.environ.update(
        PROMPTLY_STAGE="local",
        AWS_DEFAULT_REGION="eu-central-1",
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    if "chalicelib.models" in sys.modules:
        raise SystemExit("set the environment before importing the models")
    from moto import mock_aws

    mock_aws().start()
    from infra.local import create_resources

    create_resources()


def demo_figures(day: str = DEMO_DAY, *, seed: int = 23) -> Figures:
    """Seed a busy, imperfect day and the week before it on an in-process moto; compute it."""
    start_embedded_aws()
    from chalicelib.kpi import digest

    now = seed_demo(day, seed=seed)
    return digest.day_figures(day, now=now)


SUBJECTS = [
    ("Where is the download link?", "general"),
    ("Cannot log in", "tech"),
    ("Password reset email never arrives", "tech"),
    ("Refund for my order", "billing"),
    ("Invoice has the wrong company name", "billing"),
    ("Payment failed with my card", "billing"),
    ("App crashes when I open settings", "tech"),
    ("How do I change my plan?", "general"),
    ("Delivery is late", "general"),
    ("Export to Excel is broken", "tech"),
    ("Оплата не проходить", "billing"),
    ("Не працює вхід у кабінет", "tech"),
    ("Где ссылка на скачивание?", "general"),
    ("Two-factor code does not come", "tech"),
    ("Cancel my subscription", "billing"),
]
CHANNELS = [
    ("email", 0.34, 5400),
    ("form", 0.16, 3600),
    ("chat", 0.2, 50),
    ("telegram", 0.15, 300),
    ("viber", 0.07, 400),
    ("sms", 0.04, 900),
    ("whatsapp", 0.04, 350),
]
TARGET = {"email": 12 * 3600, "form": 4 * 3600, "chat": 60, "telegram": 600, "viber": 600, "sms": 1800, "whatsapp": 600}
PEOPLE = [
    ("Olena", "Koval", "agent"),
    ("Taras", "Shevchuk", "agent"),
    ("Iryna", "Bondar", "agent"),
    ("Maksym", "Melnyk", "agent"),
    ("Sofia", "Tkachenko", "agent"),
    ("Dmytro", "Kravets", "agent"),
    ("Lev", "Lead", "lead"),
    ("Ada", "Admin", "admin"),
]
BAD_COMMENTS = [
    "Three days for a refund is too long.",
    "The answer did not solve anything, I had to write again.",
    "Nobody told me the link had moved.",
    "Полагодили, але чекати довелося цілий день.",
    "Agent closed the ticket without asking me.",
]


HOURS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3, 5, 6.5, 6, 4.5, 4, 5.5, 5, 4, 3, 2, 1.5, 1.2, 1, 0.6, 0.3]


class Demo(NamedTuple):
    """A seeded ticket: what each of its facts repeats."""

    ticket: str
    channel: str
    queue: str


class DemoFacts:
    """Facts as the desk writes them (chalicelib/facts.py): day = the desk-local date."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.rows: list[Any] = []  # chalicelib.models.Fact, imported once the environment is set

    def add(self, at: datetime, of: Demo, kind: str, **data: Any) -> None:
        from chalicelib.models import Fact

        key = f"{clock.iso(at)}#{of.ticket}#{kind}"
        day = at.astimezone(self.tz).date().isoformat()
        self.rows.append(
            Fact(day, key, kind=kind, ticket_id=of.ticket, channel=of.channel, queue=of.queue, at=at, data=data)
        )

    def write(self) -> None:
        from chalicelib.models import Fact

        with Fact.batch_write() as batch:
            for item in self.rows:
                batch.save(item)


def seed_demo(day: str, *, seed: int = 23, volume: int = 180) -> datetime:
    """Facts of `day` and the 7 days before, live tickets and agents; returns the sending time.
    The random draws come in a fixed order, so a seed always makes the same day."""
    from chalicelib.config import settings
    from chalicelib.models import Agent

    rng = random.Random(seed)
    tz = ZoneInfo(settings().desk.timezone)
    target_day = date.fromisoformat(day)
    queues = list(settings().queues)
    workers = _seed_people(queues)
    facts = DemoFacts(tz)
    for back in range(7, -1, -1):
        the_day = target_day - timedelta(days=back)
        today = back == 0
        count = int(volume * (1.0 if today else rng.uniform(0.7, 0.95)))
        for n in range(count):
            _seed_ticket(facts, rng, the_day, n, today=today, workers=workers)
        _seed_nps(facts, rng, the_day)
        _seed_automated(facts, rng, the_day)
    facts.write()
    now = datetime(target_day.year, target_day.month, target_day.day, 8, tzinfo=tz) + timedelta(days=1)
    _seed_live(rng, now, queues)
    for worker in workers:
        Agent.get(worker.agent_id).update(actions=[Agent.open_load.set(rng.randrange(2, 12))])
    return now.astimezone(UTC)


def _seed_people(queues: list[str]) -> list[Any]:
    """Everyone in PEOPLE; returns the agents (the leads and admins answer nothing)."""
    from chalicelib.agents import staff

    agents = [
        staff.create_agent(
            first_name=first, last_name=last, email=f"{first.lower()}@promptly.example", role=role, queues=queues
        )
        for first, last, role in PEOPLE
    ]
    return [agent for agent in agents if agent.role == "agent"]


def _seed_ticket(
    facts: DemoFacts, rng: random.Random, the_day: date, n: int, *, today: bool, workers: list[Any]
) -> None:
    """One ticket of `the_day`: created, maybe answered, solved and rated that day."""
    hour = rng.choices(range(24), weights=HOURS)[0]
    created = datetime(
        the_day.year, the_day.month, the_day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=facts.tz
    ).astimezone(UTC)
    channel = rng.choices([c for c, _, _ in CHANNELS], weights=[w for _, w, _ in CHANNELS])[0]
    subject, queue = rng.choice(SUBJECTS)
    if today and queue == "billing" and rng.random() < 0.6:
        subject = rng.choice(["Refund for my order", "Payment failed with my card", "Оплата не проходить"])
    if not today and queue == "billing" and rng.random() < 0.5:
        queue = "general"  # billing rises today: a campaign's payments broke
    of = Demo(f"PR-{the_day.strftime('%m%d')}{n:04d}", channel, queue)
    due = created + timedelta(seconds=TARGET[channel])
    promised = clock.iso(due) if channel not in ("chat",) else None
    facts.add(created, of, "created", priority="normal", subject=subject, promised_at=promised, automated=None)
    typical = {c: t for c, _, t in CHANNELS}[channel]
    seconds = int(rng.lognormvariate(0, 0.9) * typical)
    answered = created + timedelta(seconds=seconds)
    agent = rng.choice(workers).agent_id
    if answered.astimezone(facts.tz).date() == the_day:
        _seed_answer(facts, of, agent, answered, seconds, due, promised)
    if rng.random() < 0.55:
        solved = answered + timedelta(seconds=int(rng.lognormvariate(0, 1.0) * 3 * 3600))
        if solved.astimezone(facts.tz).date() == the_day:
            _seed_solved(facts, rng, of, agent, created, solved)


def _seed_answer(
    facts: DemoFacts, of: Demo, agent: str, answered: datetime, seconds: int, due: datetime, promised: str | None
) -> None:
    """The first answer, and its breach when it came more than a minute late."""
    facts.add(answered, of, "answered", agent=agent)
    facts.add(
        answered,
        of,
        "first_response",
        agent=agent,
        seconds=seconds,
        due=clock.iso(due),
        met=answered <= due,
        promised_at=promised,
    )
    if answered > due + timedelta(seconds=60):
        late = due + timedelta(seconds=60)
        facts.add(late, of, "breached", target="first_response", due=clock.iso(due), late_seconds=60)


def _seed_solved(
    facts: DemoFacts, rng: random.Random, of: Demo, agent: str, created: datetime, solved: datetime
) -> None:
    """A solve, and now and then the customer's vote on it."""
    resolution_due = created + timedelta(hours=16)
    seconds = int((solved - created).total_seconds())
    facts.add(
        solved, of, "solved", agent=agent, seconds=seconds, due=clock.iso(resolution_due), met=solved <= resolution_due
    )
    if rng.random() < 0.35:
        vote = solved + timedelta(minutes=rng.randrange(5, 120))
        bad = rng.random() < 0.09
        comment = rng.choice(BAD_COMMENTS) if bad and rng.random() < 0.8 else ""
        facts.add(vote, of, "rated", rating="bad" if bad else "good", comment=comment, agent=agent)


def _seed_nps(facts: DemoFacts, rng: random.Random, the_day: date) -> None:
    for n in range(int(rng.uniform(6, 14))):
        score = rng.choices(range(11), weights=[1, 0.5, 0.5, 1, 1, 1, 2, 4, 8, 10, 12])[0]
        at = datetime(the_day.year, the_day.month, the_day.day, 19, n, tzinfo=facts.tz)
        comment = "Answers take too long on weekends." if score <= 6 and n % 2 else ""
        facts.add(
            at, Demo(f"NPS-{the_day.strftime('%m%d')}{n}", "email", "general"), "nps", score=score, comment=comment
        )


def _seed_automated(facts: DemoFacts, rng: random.Random, the_day: date) -> None:
    """Out-of-office replies: counted apart, not in the volume."""
    for n in range(rng.randrange(2, 5)):
        at = datetime(the_day.year, the_day.month, the_day.day, rng.randrange(24), rng.randrange(60), tzinfo=facts.tz)
        facts.add(
            at,
            Demo(f"AUTO-{the_day.strftime('%m%d')}{n}", "email", "general"),
            "created",
            priority="normal",
            subject="Automatic reply: out of office",
            promised_at=None,
            automated="auto-reply",
        )


def _seed_live(rng: random.Random, now: datetime, queues: list[str]) -> None:
    """46 live tickets of every age, for the backlog."""
    from chalicelib.models import Ticket

    for n in range(46):
        age = timedelta(minutes=int(rng.lognormvariate(5.5, 1.4)))
        created = now - age
        queue = rng.choice(queues)
        status = rng.choices(["new", "open", "pending"], weights=[2, 5, 2])[0]
        Ticket(
            f"PR-LIVE{n:04d}",
            customer_id="C-demo",
            channel="email",
            address="c@example.com",
            status=status,
            queue=queue,
            language="en",
            timezone=str(now.tzinfo),
            created_at=created,
            updated_at=created,
            last_message_at=created,
            open_queue=queue,
            due_key="~",
        ).save()


if __name__ == "__main__":
    main()
