"""Webhook signatures (chalicelib/signing.py): a body signed with the shared secret is accepted,
anything else is refused (401) with a message that says what is wrong, and a timestamped
signature is accepted only within five minutes of the desk's clock, either way.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import Unauthorized
from chalicelib.signing import (
    hmac_hex,
    require_sha256_header,
    require_timestamped_sha256,
    sign_timestamped,
    unix_seconds,
)

SECRET = "shared-secret"
BODY = '{"submission_id": "s1", "message": "Привіт"}'.encode()
GOOD = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


def test_hmac_hex_is_hmac_sha256_in_hex():
    assert hmac_hex(SECRET, BODY) == GOOD.removeprefix("sha256=")


@pytest.mark.parametrize(
    "header",
    [GOOD, GOOD.upper().replace("SHA256=", "sha256="), f"  {GOOD}\n"],  # hex in either case; spaces around
)
def test_a_body_signed_with_the_secret_is_accepted(header):
    require_sha256_header(header, SECRET, BODY, name="X-Signature")


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "missing X-Signature header"),
        ("", "missing X-Signature header"),
        (GOOD.removeprefix("sha256="), "must look like 'sha256=<hex HMAC-SHA256 of the body>'"),
        ("sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(), "must look like"),
        ("sha256=", "must look like"),
        ("sha256=" + hmac_hex("another secret", BODY), "X-Signature does not match the body"),
        ("sha256=" + hmac_hex(SECRET, BODY + b" "), "does not match"),  # the body changed on the way
        (GOOD[:-2], "does not match"),
        ("sha256=" + "é" * 64, "does not match"),  # non-ASCII is refused, not a crash
    ],
)
def test_anything_else_is_refused_saying_what_is_wrong(header, says):
    with pytest.raises(Unauthorized) as refused:
        require_sha256_header(header, SECRET, BODY, name="X-Signature")
    assert says in refused.value.message
    assert refused.value.status == 401


# --- Timestamped signatures: `<timestamp>.<body>`, five minutes either way -------------------


def check(signature: str | None, timestamp: str | None, *, now: datetime = NOW, body: bytes = BODY) -> None:
    require_timestamped_sha256(
        signature, timestamp, SECRET, body, now=now, signature_name="X-Sig", timestamp_name="X-Time"
    )


def test_a_timestamped_signature_round_trips():
    timestamp, signature = sign_timestamped(SECRET, BODY, NOW)
    assert timestamp == unix_seconds(NOW) == "1794819600"
    assert signature == "sha256=" + hmac_hex(SECRET, f"{timestamp}.".encode() + BODY)
    check(signature, timestamp)


@pytest.mark.parametrize(
    ("sent", "accepted"),
    [
        (NOW, True),
        (NOW - timedelta(minutes=5), True),
        (NOW + timedelta(minutes=5), True),  # the sender's clock may run ahead
        (NOW - timedelta(minutes=5, seconds=1), False),  # a replay of an old request
        (NOW + timedelta(minutes=5, seconds=1), False),
        (NOW - timedelta(days=1), False),
    ],
)
def test_a_timestamped_signature_is_accepted_within_five_minutes_either_way(sent, accepted):
    timestamp, signature = sign_timestamped(SECRET, BODY, sent)
    if accepted:
        check(signature, timestamp)
    else:
        with pytest.raises(Unauthorized, match=r"X-Time is \d+ s away from the desk's clock.*within 300 s"):
            check(signature, timestamp)


@pytest.mark.parametrize(
    ("timestamp", "says"),
    [
        (None, "missing X-Time header"),
        ("  ", "missing X-Time header"),
        ("2026-11-16T09:00:00Z", "X-Time must be unix seconds (digits only)"),
        ("-1794819600", "digits only"),
        ("1794819600.5", "digits only"),
        ("١٧٩٤٨١٩٦٠٠", "digits only"),  # Arabic-Indic digits: int() reads them, the signature must not
        ("1" * 13, "digits only"),
    ],
)
def test_a_timestamp_that_is_not_unix_seconds_is_refused(timestamp, says):
    _, signature = sign_timestamped(SECRET, BODY, NOW)
    with pytest.raises(Unauthorized) as refused:
        check(signature, timestamp)
    assert says in refused.value.message


def test_a_signature_cannot_be_moved_to_a_fresh_timestamp():
    _, signature = sign_timestamped(SECRET, BODY, NOW - timedelta(hours=1))
    with pytest.raises(Unauthorized, match="X-Sig does not match '<X-Time>.<body>'"):
        check(signature, unix_seconds(NOW))


def test_a_stranger_with_an_old_timestamp_hears_only_that_the_signature_is_wrong():
    """The signature is checked before the age: only a holder of the secret learns its clock is off."""
    timestamp = unix_seconds(NOW - timedelta(hours=1))
    with pytest.raises(Unauthorized, match="does not match"):
        check("sha256=" + hmac_hex("a guess", f"{timestamp}.".encode() + BODY), timestamp)
