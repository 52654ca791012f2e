"""The adapter registry: each channel name finds its module, and every module it can find is
one that mypy checks against the contract (chalicelib/channels/conformance.py)."""

from __future__ import annotations

import pytest

from chalicelib import channels
from chalicelib.channels import conformance


def test_every_module_the_registry_names_is_checked_against_the_contract() -> None:
    assert set(channels.MODULES.values()) == set(conformance.ADAPTERS)


@pytest.mark.parametrize("channel, module", sorted(channels.MODULES.items()))
def test_a_channel_finds_its_adapter(channel: str, module: str) -> None:
    assert channels.adapter(channel) is conformance.ADAPTERS[module]


def test_a_channel_without_an_adapter_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no messaging adapter for channel 'email'"):
        channels.adapter("email")
