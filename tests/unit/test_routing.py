"""Which queue a new ticket lands in (chalicelib/routing.py): the first rule whose channels and
keywords match, else the default queue.

The unit desk's rules (tests/unit/conftest.py), in order: "invoice" or "оплат" → billing (any
channel); every Telegram message → night; SMS mentioning "Refund" → billing; else general.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import config
from chalicelib.channels.base import Inbound
from chalicelib.routing import queue_for


def message(channel: str, body: str, subject: str = "") -> Inbound:
    return Inbound(
        channel=channel,
        provider_id="p1",
        received_at=datetime(2026, 11, 16, 9, tzinfo=UTC),
        address="someone",
        body=body,
        subject=subject,
    )


@pytest.mark.parametrize(
    ("channel", "subject", "body", "queue"),
    [
        ("email", "Invoice 42", "Hello", "billing"),  # keyword in the subject
        ("email", "Hello", "where is my invoice?", "billing"),  # or in the body
        ("email", "", "INVOICE attached", "billing"),  # whatever the case
        ("form", "", "Не пройшла ОПЛАТА", "billing"),  # Cyrillic upper case too
        ("email", "", "Як оплатити?", "billing"),  # a keyword is a stem: it matches inside a word
        ("telegram", "", "hello", "night"),  # a rule without keywords takes the whole channel
        ("telegram", "", "my invoice is wrong", "billing"),  # ...after the rules above it
        ("sms", "", "refund please", "billing"),  # the rule's keyword "Refund", case-folded too
        ("sms", "", "hello", "general"),  # its channel, but not its keyword
        ("email", "", "refund please", "general"),  # its keyword, but not its channel
        ("chat", "", "", "general"),
        ("viber", "Question", "Is the shop open on Sunday?", "general"),
    ],
)
def test_the_first_matching_rule_picks_the_queue(unit_desk, channel, subject, body, queue):
    assert queue_for(unit_desk, message(channel, body, subject)) == queue


def test_a_keyword_does_not_span_the_subject_and_the_body(unit_desk):
    """They are read as two lines, not one run of text."""
    assert queue_for(unit_desk, message("email", "invo", "ice")) == "general"


@pytest.mark.parametrize(
    ("subject", "body", "queue"),
    [
        ("Refund", "Please return my payment", "billing"),
        ("Рахунок", "Де мій рахунок?", "billing"),
        ("Ошибка", "Приложение не работает", "tech"),
        ("App", "It is not working since the update", "tech"),
        ("Payment error", "", "billing"),  # both lists match: billing is listed first
        ("Hello", "Can I change my delivery address?", "general"),
    ],
)
def test_the_shipped_desk_routes_money_to_billing_and_faults_to_tech(subject, body, queue):
    assert queue_for(config.load(config.CONFIG_PATH), message("email", body, subject)) == queue
