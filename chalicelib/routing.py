"""Topic routing at intake: the first rule whose channel and keywords match picks the queue."""

from __future__ import annotations

from chalicelib.channels.base import Inbound
from chalicelib.config import Settings


def queue_for(settings: Settings, message: Inbound) -> str:
    text = f"{message.subject}\n{message.body}".casefold()
    for rule in settings.routing.rules:
        if rule.channels and message.channel not in rule.channels:
            continue
        if not rule.keywords or any(word.casefold() in text for word in rule.keywords):
            return rule.queue
    return settings.routing.default_queue
