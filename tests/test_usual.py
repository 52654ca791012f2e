""" "We usually answer within 7 minutes": the acknowledgement says what the last 7 days say —
only when there were enough first responses on the ticket's channel and priority, the desk is
open, and the usual wait is meaningfully sooner than the promise, which stays in the message.
The figure comes from a summary the digest writes; the webhook never reads it; the digest
reports how often the "usually" held.

The seeded week: first responses on 17–23 November 2026 (the 23rd is the digest's day, sent
Tuesday 24th 08:00 Kyiv); form tickets are promised 4 business hours (10:00 → 14:00).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import aws, clock, keys, models
from chalicelib.kpi import digest, mailing, usual_wait
from chalicelib.kpi.reading import day_rows
from chalicelib.kpi.tally import Tally
from chalicelib.models import Fact, Key, Ticket
from tests.harness import KYIV

DAY = "2026-11-23"
SENT_AT = datetime(2026, 11, 24, 8, 0, tzinfo=KYIV)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=KYIV)
SEVEN_MINUTES = [120] * 10 + [420] + [3600] * 10  # 21 values: nearest-rank median is the 11th, 420 s


def kyiv(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KYIV)


def first_responses(channel: str, priority: str | None, seconds: list[int], days: range = range(17, 24)) -> None:
    """First-response facts as the desk writes them, spread over `days` of November."""
    with Fact.batch_write() as batch:
        for n, value in enumerate(seconds):
            at = kyiv(days[n % len(days)], 11, n % 60)
            ticket = f"S-{channel}-{priority}-{days[0]}-{n}"
            data: dict[str, Any] = {"agent": "A-1", "seconds": value, "due": None, "met": None, "promised_at": None}
            if priority is not None:  # facts from before the lane was recorded carry no priority
                data |= {"priority": priority, "usual_by": None}
            batch.save(
                Fact(
                    at.date().isoformat(),
                    f"{clock.iso(at)}#{ticket}#first_response",
                    kind="first_response",
                    ticket_id=ticket,
                    channel=channel,
                    queue="general",
                    at=at,
                    data=data,
                )
            )


def send_digest(desk, day: str = DAY) -> None:
    desk.at(SENT_AT)
    mailing.send(day, now=SENT_AT)


def form(desk, n: int = 1, **overrides: str) -> str:
    payload = {
        "submission_id": f"sub-{n}",
        "email": f"c{n}@example.com",
        "name": "Olena",
        "subject": "Cannot log in",
        "message": "Hello, I cannot log in.",
        "locale": "en-GB",
        **overrides,
    }
    response = desk.post_form(payload)
    assert response.status_code == 200, response.body
    return str(response.json_body["ticket"])


def ack_to(desk, n: int = 1) -> dict[str, Any]:
    [mail] = [m for m in desk.sent_mail() if m["to"].endswith(f"<c{n}@example.com>")]
    return mail


@pytest.fixture
def fresh(desk) -> Iterator[Any]:
    """A desk whose process has not read a summary yet (the cache outlives moto's state)."""
    usual_wait.forget()
    yield desk
    usual_wait.forget()


class Calls:
    """AWS API calls by operation, and the DynamoDB GetItems of the summary, through botocore's
    `before-call` event on every client the desk uses (as bench/intake.py counts them)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.summary_reads = 0

    def __call__(self, event_name: str, params: dict[str, Any] | None = None, **_: object) -> None:
        operation = event_name.split(".", 2)[2]
        self.calls[operation] += 1
        body = (params or {}).get("body") or b""
        self.summary_reads += operation in ("GetItem", "BatchGetItem") and keys.USUAL_SUMMARY.encode() in (
            body if isinstance(body, bytes) else body.encode()
        )

    def attach(self) -> Calls:
        clients = [aws.client(name) for name in ("sqs", "ses", "s3", "sns")] + [models.connection().client]
        clients += [model._get_connection().connection.client for model in models.ALL_MODELS]
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("before-call", self)
        return self

    def total(self) -> int:
        return sum(self.calls.values())


# --- the sentence and its rules ------------------------------------------------------------------
def test_a_form_ticket_in_business_hours_hears_the_usual_wait_beside_the_promise(fresh):
    first_responses("form", "normal", SEVEN_MINUTES)
    first_responses("form", "normal", [60] * 30, days=range(16, 17))  # read by the digest, outside the 7 days
    first_responses("form", None, [60] * 30)  # older facts without a priority belong to no lane
    send_digest(fresh)

    summary = Key.get(keys.USUAL_SUMMARY).data
    assert summary["days"] == ["2026-11-17", DAY]
    assert summary["lanes"] == {"form#normal": {"median": 420, "count": 21}}
    fresh.at(TUESDAY_10)
    ticket_id = form(fresh)
    fresh.pump()

    mail = ack_to(fresh)
    assert "A person from our team will answer by Tuesday 24 November, 14:00 (Kyiv" in mail["text"]
    assert "We usually answer within 7 minutes." in mail["text"]
    assert "We usually answer within <strong" in mail["html"] and "7 minutes</strong>" in mail["html"]
    assert Ticket.get(ticket_id).usual_by == kyiv(24, 10, 7)


@pytest.mark.parametrize(
    "lanes, at, said",
    [
        ({("form", "normal"): [420] * 19}, TUESDAY_10, None),  # 19 < min_samples (20)
        ({("form", "normal"): [7201] * 21}, TUESDAY_10, None),  # 2 h 00 min 01 s > half of the 4 h promise
        ({("form", "normal"): [7200] * 21}, TUESDAY_10, "2 hours"),  # exactly half: still meaningfully sooner
        ({("form", "normal"): SEVEN_MINUTES}, kyiv(24, 19), None),  # the desk closed at 18:00
        ({("form", "normal"): SEVEN_MINUTES}, kyiv(24, 8, 50), None),  # 10 min before opening: 17 min, not 7
        ({("form", "normal"): SEVEN_MINUTES}, kyiv(28, 11), None),  # Saturday
        ({("form", "high"): SEVEN_MINUTES, ("email", "normal"): SEVEN_MINUTES}, TUESDAY_10, None),  # other lanes
        ({("form", "normal"): SEVEN_MINUTES}, kyiv(24, 17, 55), None),  # 7 minutes would end after closing (18:00)
        ({("form", "normal"): SEVEN_MINUTES}, kyiv(24, 17, 53), "7 minutes"),  # ...these end at 18:00 exactly
    ],
    ids=[
        "too-few",
        "not-sooner",
        "exactly-half",
        "night",
        "before-opening",
        "weekend",
        "other-lanes",
        "closes-first",
        "just-in-time",
    ],
)
def test_the_sentence_appears_only_when_true_and_worth_saying(fresh, lanes, at, said):
    for (channel, priority), seconds in lanes.items():
        first_responses(channel, priority, seconds)
    send_digest(fresh)
    fresh.at(at)

    ticket_id = form(fresh)
    fresh.pump()

    text = ack_to(fresh)["text"]
    assert "A person from our team will answer by" in text  # the promise is always there
    if said is None:
        assert "usually" not in text and Ticket.get(ticket_id).usual_by is None
    else:
        assert f"We usually answer within {said}." in text and Ticket.get(ticket_id).usual_by is not None


def test_an_acknowledgement_delayed_past_the_usual_time_does_not_announce_it(fresh):
    first_responses("form", "normal", SEVEN_MINUTES)
    send_digest(fresh)
    fresh.at(TUESDAY_10)
    ticket_id = form(fresh)

    fresh.advance(timedelta(minutes=8))  # the ack job ran late (retries): 10:07 is gone
    fresh.pump()

    assert "usually" not in ack_to(fresh)["text"] and Ticket.get(ticket_id).usual_by is None


def test_ukrainian_and_russian_say_it_in_a_form_that_fits_every_number(fresh):
    first_responses("form", "normal", SEVEN_MINUTES)
    send_digest(fresh)
    fresh.at(TUESDAY_10)

    form(fresh, 1, locale="uk-UA")
    form(fresh, 2, locale="ru-RU")
    fresh.pump()

    # a dash and the nominative: "протягом 7 хвилин" would need the genitive, which Babel does
    # not give for 1, 2–4, 21… ("протягом 2 хвилини", "в течение 21 минута" are wrong)
    uk, ru = ack_to(fresh, 1), ack_to(fresh, 2)
    assert "Зазвичай ми відповідаємо швидше: типовий час очікування — 7 хвилин." in uk["text"]
    assert "Термін відповіді: вівторок 24 листопада, 14:00" in uk["text"]
    assert "Обычно мы отвечаем быстрее: типичное время ожидания — 7 минут." in ru["text"]
    assert "Срок ответа: вторник 24 ноября, 14:00" in ru["text"]
    assert "типовий час очікування — <strong" in uk["html"]


# --- where it is read and written ---------------------------------------------------------------------
def test_the_webhook_never_reads_the_summary_and_the_ack_job_reads_it_once_per_five_minutes(fresh):
    first_responses("form", "normal", SEVEN_MINUTES)
    send_digest(fresh)
    fresh.at(TUESDAY_10)
    form(fresh, 0)  # warm: clients, queue URL, config
    fresh.pump()
    calls = Calls().attach()

    form(fresh, 1)
    form(fresh, 2)
    webhook = calls.total()
    fresh.pump()
    fresh.advance(timedelta(minutes=6))
    form(fresh, 3)
    fresh.pump()

    assert webhook == 2 * 3  # BatchGetItem, TransactWriteItems, SendMessageBatch per new ticket
    assert calls.summary_reads == 1  # read at 10:00 for ticket 0 (before counting), again at 10:06 only
    assert all("usually" in ack_to(fresh, n)["text"] for n in (1, 2, 3))


def test_re_sending_an_older_digest_keeps_the_newer_summary(fresh):
    first_responses("form", "normal", SEVEN_MINUTES)
    send_digest(fresh)

    mailing.send("2026-11-16", now=SENT_AT)  # a week earlier: none of these facts in its 7 days

    summary = Key.get(keys.USUAL_SUMMARY).data
    assert summary["days"] == ["2026-11-17", DAY] and summary["lanes"]["form#normal"]["count"] == 21


def test_the_first_response_carries_usual_by_and_the_digest_counts_how_often_it_held(fresh, team):
    first_responses("form", "normal", SEVEN_MINUTES)
    send_digest(fresh)
    olena = team["olena"]["token"]
    fresh.at(kyiv(24, 8, 30))  # before opening: no "usually" to hold
    early = form(fresh, 1)
    fresh.pump()
    fresh.at(TUESDAY_10)
    held, missed = form(fresh, 2), form(fresh, 3)  # both told "within 7 minutes": by 10:07
    fresh.pump()

    for at, ticket_id in ((kyiv(24, 10, 5), held), (kyiv(24, 10, 20), missed), (kyiv(24, 10, 30), early)):
        fresh.at(at)
        assert fresh.api("POST", f"/api/tickets/{ticket_id}/reply", olena, {"text": "Hello!"}).status_code == 201

    facts = {f.ticket_id: f.data for f in Fact.query("2026-11-24") if f.kind == "first_response"}
    assert facts[held]["usual_by"] == facts[missed]["usual_by"] == clock.iso(kyiv(24, 10, 7))
    assert facts[early]["usual_by"] is None and {d["priority"] for d in facts.values()} == {"normal"}
    figures = digest.compute("2026-11-24", now=kyiv(25, 8))
    assert figures["usual"] == {"kept": 1, "total": 2, "share": pytest.approx(0.5)}  # held 10:05; 10:20 > 10:07
    assert figures["promises"]["kept"] == figures["promises"]["total"] == 3  # all by the 4-hour promise


def test_a_ticket_written_at_night_counts_its_business_wait_not_the_night(fresh, team):
    olena = team["olena"]["token"]
    fresh.at(kyiv(23, 7, 0))  # Monday before opening (09:00)
    night = form(fresh, 1)
    fresh.at(kyiv(23, 9, 5))
    assert fresh.api("POST", f"/api/tickets/{night}/reply", olena, {"text": "Morning!"}).status_code == 201

    [fact] = [f for f in Fact.query(DAY) if f.kind == "first_response"]
    tally = Tally(DAY, KYIV)
    for row in day_rows(DAY):
        tally.add(row)

    assert (fact.data["seconds"], fact.data["business_seconds"]) == (7500, 300)  # 2 h 5 min waited, 5 min ours
    assert tally.first_by_lane == {"form#normal": [300.0]}
    assert tally.first_response["form"] == [7500.0]  # the digest's own figures stay the customer's wall clock


@pytest.mark.parametrize(
    "median, said",
    [
        (timedelta(seconds=1), timedelta(minutes=1)),
        (timedelta(minutes=7, seconds=1), timedelta(minutes=8)),
        (timedelta(minutes=60), timedelta(hours=1)),
        (timedelta(hours=2, minutes=29), timedelta(hours=3)),
        (timedelta(hours=24), timedelta(days=1)),
        (timedelta(days=6, hours=1), timedelta(days=7)),
        (timedelta(days=7), None),
    ],
)
def test_the_wait_said_is_the_median_rounded_up_to_its_unit(median, said):
    assert usual_wait.shown(median) == said
