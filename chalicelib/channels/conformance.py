"""Proof, for mypy, that every messaging adapter module fulfils `base.ChannelAdapter`.

`channels.adapter()` imports adapters lazily by name, which a type checker cannot follow; here
each module is assigned to the Protocol, so a missing name or a changed signature fails
`mypy chalicelib`. Nothing imports this at run time (it would load every adapter on every cold
start); tests/channels/test_adapters.py checks that it lists every module `channels.MODULES` names.
"""

from __future__ import annotations

from chalicelib.channels import chat, telegram, twilio, viber
from chalicelib.channels.base import ChannelAdapter

ADAPTERS: dict[str, ChannelAdapter] = {"chat": chat, "telegram": telegram, "twilio": twilio, "viber": viber}
