"""Which SLA policy applies to a ticket, and when its clock runs out (chalicelib/sla/policy.py,
`Settings.policy_for`): the first policy matching both channel and priority wins; business
targets run on the queue's calendar, the others on the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import config
from chalicelib.sla.policy import due_at


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "priority", "first_response"),
    [
        ("chat", "normal", "2 hours"),
        ("chat", "urgent", "2 hours"),  # the chat policy comes first: it wins over the urgent one
        ("email", "urgent", "1 business hour"),
        ("form", "urgent", "1 business hour"),
        ("form", "high", "2 business hours"),  # channel and priority both match
        ("form", "normal", "4 business hours"),  # the channel alone is not enough
        ("email", "high", "4 business hours"),  # nor the priority alone
        ("telegram", "low", "4 business hours"),
    ],
)
def test_the_first_policy_matching_channel_and_priority_applies(unit_desk, channel, priority, first_response):
    assert unit_desk.policy_for(channel, priority).first_response == first_response


# The shipped desk.toml: what a desk gets out of the box.
SHIPPED = [
    ("chat", "normal", ("1 business minute", "2 business minutes", "8 business hours")),
    ("chat", "urgent", ("1 business minute", "2 business minutes", "8 business hours")),
    ("telegram", "low", ("10 business minutes", "10 business minutes", "16 business hours")),
    ("viber", "high", ("10 business minutes", "10 business minutes", "16 business hours")),
    ("whatsapp", "urgent", ("10 business minutes", "10 business minutes", "16 business hours")),
    ("sms", "urgent", ("30 business minutes", "30 business minutes", "16 business hours")),
    ("email", "urgent", ("1 business hour", "2 business hours", "8 business hours")),
    ("form", "urgent", ("1 business hour", "2 business hours", "8 business hours")),
    ("form", "normal", ("4 business hours", "8 business hours", "24 business hours")),
    ("form", "low", ("4 business hours", "8 business hours", "24 business hours")),
    ("email", "high", ("12 business hours", "12 business hours", "40 business hours")),
    ("email", "low", ("12 business hours", "12 business hours", "40 business hours")),
]


@pytest.mark.parametrize(("channel", "priority", "targets"), SHIPPED)
def test_the_shipped_desk_promises(channel, priority, targets):
    policy = config.load(config.CONFIG_PATH).policy_for(channel, priority)
    assert (policy.first_response, policy.next_response, policy.resolution) == targets


def test_the_shipped_desk_escalates_urgent_mail_sooner():
    shipped = config.load(config.CONFIG_PATH)
    assert shipped.policy_for("email", "urgent").alert_at == (0.5, 0.75, 1.0)
    assert shipped.policy_for("email", "normal").alert_at == (0.75, 0.9, 1.0)


@pytest.mark.parametrize(
    ("queue", "channel", "priority", "target", "start", "due"),
    [
        ("general", "email", "normal", "first_response", utc(2026, 11, 16, 10), utc(2026, 11, 16, 14)),
        ("general", "email", "normal", "first_response", utc(2026, 11, 20, 17), utc(2026, 11, 23, 12)),  # Friday
        ("general", "email", "normal", "first_response", utc(2026, 11, 21, 10), utc(2026, 11, 23, 13)),  # Saturday
        ("general", "email", "normal", "first_response", utc(2026, 12, 24, 16), utc(2026, 12, 28, 11)),  # Christmas
        ("general", "email", "normal", "next_response", utc(2026, 11, 16, 15), utc(2026, 11, 17, 14)),
        ("general", "email", "normal", "resolution", utc(2026, 11, 16, 9), utc(2026, 11, 20, 13)),
        ("general", "email", "urgent", "first_response", utc(2026, 11, 16, 17, 30), utc(2026, 11, 17, 9, 30)),
        ("night", "email", "normal", "first_response", utc(2026, 11, 20, 17), utc(2026, 11, 20, 21)),  # 24/7 queue
        ("general", "chat", "normal", "first_response", utc(2026, 11, 20, 17), utc(2026, 11, 20, 19)),  # wall clock
        ("general", "chat", "normal", "resolution", utc(2026, 11, 20, 17), utc(2026, 11, 22, 17)),
    ],
)
def test_a_target_is_due_after_its_length_on_the_right_clock(unit_desk, queue, channel, priority, target, start, due):
    assert due_at(unit_desk, queue=queue, channel=channel, priority=priority, target=target, start=start) == due
