"""Provider calls under faults, through the loopback fakes: each channel's acknowledgement and
each medium of an SLA warning meets a provider that answers 5xx, answers 429 with Retry-After,
never answers (the client times out), or accepts the message and drops the connection before
its answer. The message is delivered once — or, when the provider accepted it but we never
learned so, twice (the documented window, chalicelib/outbox.py) — and never lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import urllib3

from chalicelib import providers as provider_calls
from chalicelib.models import Agent
from tests.faults.scene import TELEGRAM, Scene, schedule
from tests.harness import KYIV

VIBER = {
    "event": "message",
    "timestamp": 1795420800000,
    "message_token": 4912661846655238145,
    "sender": {"id": "01234567890A=", "name": "John", "language": "en", "api_version": 1},
    "message": {"text": "Hi, where is my parcel?", "type": "text"},
    "silent": False,
}
SMS = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+380501234567",
    "To": "+15005550006",
    "Body": "My order has not arrived",
    "NumMedia": "0",
}
CHAT = {"message_id": "c-1", "visitor_id": "v-1", "text": "Is anyone there?"}

# channel → (how the customer writes in, the send API's path at the fake)
CUSTOMERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "telegram": (lambda desk: desk.post_telegram(TELEGRAM), "sendMessage"),
    "viber": (lambda desk: desk.post_viber(VIBER), "/pa/send_message"),
    "sms": (lambda desk: desk.post_twilio(SMS), "Messages.json"),
    "chat": (lambda desk: desk.post_chat(CHAT), "/chat/replies"),
}
RETRY_AFTER = 120


def answers_5xx(fake: Any, path: str) -> int:
    fake.fail(path, status=503, times=2)
    return 1


def answers_429_with_retry_after(fake: Any, path: str) -> int:
    fake.fail(path, status=429, retry_after=RETRY_AFTER)
    return 1


def never_answers(fake: Any, path: str) -> int:
    fake.hang(path, seconds=1.0)  # the client gives up after 0.2 s (`short_timeouts`)
    return 1


def accepts_then_drops(fake: Any, path: str) -> int:
    fake.accept_then_drop(path)
    return 2  # the documented window: accepted, never learned, sent again


MODES = [answers_5xx, answers_429_with_retry_after, never_answers, accepts_then_drops]


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    """The providers' read timeout (8 s) shortened, so a provider that never answers costs this
    suite a fraction of a second."""
    monkeypatch.setattr(provider_calls, "TIMEOUT", urllib3.Timeout(connect=1.0, read=0.2))
    provider_calls._pool.cache_clear()
    yield
    provider_calls._pool.cache_clear()


def deliveries(scene: Scene, path: str) -> int:
    return sum(path in message["path"] for message in scene.providers.sent)


def visible_jobs() -> int:
    from chalicelib import aws, stage

    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.queue_url(stage.outbox_queue()), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.__name__)
@pytest.mark.parametrize("channel", CUSTOMERS)
def test_the_acknowledgement_on_the_customers_channel(scene, channel, mode):
    write_in, path = CUSTOMERS[channel]
    expected = mode(scene.providers, path)

    assert write_in(scene.desk).status_code == 200
    scene.desk.pump(rounds=1)  # the first try meets the fault
    if mode is answers_429_with_retry_after:
        scene.desk.advance(timedelta(seconds=RETRY_AFTER - 10))
        # the ticket's one job waits out Retry-After; its offer to duty was made in the same try
        assert visible_jobs() == 0 and scene.ticket().assignee == scene.team["olena"]["id"]
    scene.pump()

    assert deliveries(scene, path) == expected
    assert scene.ticket().ack_state == "sent"
    assert scene.dead_letters() == [] and scene.backlog() == 0


# An SLA warning by Slack and by Telegram -------------------------------------------------------
ALERT_MEDIA = {"slack": "/slack/", "telegram": "sendMessage"}


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.__name__)
@pytest.mark.parametrize("medium", ALERT_MEDIA)
def test_an_sla_warning_to_the_agents_slack_and_telegram(scene, medium, mode):
    olena = Agent.get(scene.team["olena"]["id"])
    olena.update(
        actions=[Agent.slack_webhook.set(f"{scene.providers.base}/slack/T0/B0/olena"), Agent.telegram_chat.set("9001")]
    )
    assert scene.post_form().status_code == 200
    scene.pump()  # acknowledged by email, offered to Olena (due 14:00), and she was told so
    offered = {path: deliveries(scene, path) for path in ALERT_MEDIA.values()}
    assert offered == {path: 1 for path in ALERT_MEDIA.values()}
    scene.desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))
    expected = mode(scene.providers, ALERT_MEDIA[medium])

    schedule(scene.desk, "sla_watch")
    scene.pump()

    assert deliveries(scene, ALERT_MEDIA[medium]) - offered[ALERT_MEDIA[medium]] == expected
    others = {name: path for name, path in ALERT_MEDIA.items() if name != medium}
    assert all(deliveries(scene, path) - offered[path] == 1 for path in others.values())
    assert len([s for s in scene.mail_to("olena@promptly.example") if s.startswith("[SLA")]) == 1
    assert scene.dead_letters() == [] and scene.backlog() == 0
