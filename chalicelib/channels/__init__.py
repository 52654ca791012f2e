"""Channel adapters: one module per channel, each turning a provider's payload into `Inbound`
and sending replies back (the contract is `base.ChannelAdapter`).

Adapters are imported on first use, so a cold start pays only for the channel it serves.
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from chalicelib.channels.base import ChannelAdapter

# channel (as stored on a ticket) → adapter module; Twilio carries both SMS and WhatsApp
MODULES = {
    "telegram": "telegram",
    "viber": "viber",
    "sms": "twilio",
    "whatsapp": "twilio",
    "twilio": "twilio",
    "chat": "chat",
}


def adapter(channel: str) -> ChannelAdapter:
    try:
        module = import_module(f"chalicelib.channels.{MODULES[channel]}")
    except KeyError:
        raise LookupError(f"no messaging adapter for channel {channel!r}") from None
    # A module is no type mypy can follow through import_module: that each one is a ChannelAdapter
    # is checked statically in channels/conformance.py.
    return cast(ChannelAdapter, module)
