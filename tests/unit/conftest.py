"""The unit layer: pure functions called directly, no moto, no HTTP, explicit datetimes.

One small desk serves every test here, written out below so each expectation can be checked by
hand: a UTC business calendar (Mon–Fri 09:00–18:00), a 24/7 one, three queues, three routing
rules and four SLA policies. November 2026: the 16th and 23rd are Mondays, the 20th a Friday.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from chalicelib import config, lifecycle
from chalicelib.models import Ticket

UNIT_DESK = """
[desk]
name = "Unit Desk"
sender = "desk@unit.example"
languages = ["en", "uk"]
timezone = "Europe/Kyiv"          # only the days facts are filed under; the calendars below are UTC

[calendars.default]               # Mon-Fri 09:00-18:00 UTC; Christmas Day 2026 (a Friday) closed
timezone = "UTC"
extra_closed = ["2026-12-25"]
[calendars.default.hours]
mon = ["09:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-18:00"]

[calendars.always]
timezone = "UTC"
[calendars.always.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]

[queues.general]
name = "General"
[queues.billing]
name = "Billing"
[queues.night]
name = "Night shift"
calendar = "always"

[routing]
default_queue = "general"
[[routing.rules]]                 # any channel
queue = "billing"
keywords = ["invoice", "оплат"]
[[routing.rules]]                 # every Telegram message, whatever it says
queue = "night"
channels = ["telegram"]
[[routing.rules]]                 # SMS about refunds only
queue = "billing"
channels = ["sms"]
keywords = ["Refund"]

[[sla]]                           # chat runs on the wall clock
channels = ["chat"]
first_response = "2 hours"
next_response = "1 hour"
resolution = "2 days"

[[sla]]
priorities = ["urgent"]
first_response = "1 business hour"
next_response = "2 business hours"
resolution = "8 business hours"
alert_at = [0.5, 0.75, 1.0]

[[sla]]                           # both must match
channels = ["form"]
priorities = ["high"]
first_response = "2 business hours"
next_response = "4 business hours"
resolution = "16 business hours"

[[sla]]
first_response = "4 business hours"
next_response = "8 business hours"
resolution = "40 business hours"
"""


@pytest.fixture
def unit_desk(tmp_path, monkeypatch) -> Iterator[config.Settings]:
    """The desk above, also as the process's `config.settings()` (lifecycle re-plans warnings
    with those), for this test only."""
    path = tmp_path / "desk.toml"
    path.write_text(UNIT_DESK, encoding="utf-8")
    monkeypatch.setenv("PROMPTLY_CONFIG", str(path))
    config.settings.cache_clear()
    yield config.settings()
    config.settings.cache_clear()


NewTicket = Callable[..., Ticket]


@pytest.fixture
def new_ticket(unit_desk) -> NewTicket:
    """A ticket as intake leaves it (clocks started), in memory only; never saved."""

    def make(
        created: datetime,
        *,
        channel: str = "email",
        priority: str = "normal",
        queue: str = "general",
        automated: str | None = None,
    ) -> Ticket:
        ticket = Ticket(
            "PR-UNIT1",
            customer_id="c1",
            channel=channel,
            address="ann@example.com",
            queue=queue,
            priority=priority,
            language="en",
            timezone="UTC",
            created_at=created,
            updated_at=created,
            last_message_at=created,
            automated=automated,
        )
        lifecycle.open_clocks(unit_desk, ticket)
        return ticket

    return make
