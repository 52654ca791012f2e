"""HMAC signatures of webhook bodies, always compared in constant time.

Timestamped signatures (the Stripe/Slack scheme, used by the website's form and chat and by
the desk's chat replies): the sender puts the current unix time in a header and signs
`<timestamp>.<raw body>`. The receiver refuses a timestamp more than TIMESTAMP_TOLERANCE from
its own clock, so a captured request cannot be replayed later, and the signature covers the
timestamp, so it cannot be moved to a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from chalicelib.errors import Unauthorized


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def require_sha256_header(header: str | None, secret: str, body: bytes, *, name: str, covers: str = "the body") -> None:
    """Check a GitHub-style `sha256=<hex>` signature header; raise Unauthorized otherwise.
    `covers` says what the HMAC is of, for the refusal message."""
    if not header:
        raise Unauthorized(f"missing {name} header")
    scheme, _, signature = header.strip().partition("=")
    if scheme != "sha256" or not signature:
        raise Unauthorized(f"{name} must look like 'sha256=<hex HMAC-SHA256 of {covers}>'")
    # compare bytes: compare_digest refuses non-ASCII str, and a header is the sender's to fill
    if not hmac.compare_digest(signature.lower().encode("utf-8", "replace"), hmac_hex(secret, body).encode()):
        raise Unauthorized(f"{name} does not match {covers}")


# Timestamped signatures ----------------------------------------------------------------------
TIMESTAMP_TOLERANCE = timedelta(minutes=5)  # either way: the sender's clock may run ahead
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only; 12 is far beyond any real time


def timestamped(timestamp: str, body: bytes) -> bytes:
    """What a timestamped signature is an HMAC of: `<timestamp>.<raw body>`."""
    return timestamp.encode() + b"." + body


def unix_seconds(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def sign_timestamped(secret: str, body: bytes, now: datetime) -> tuple[str, str]:
    """(timestamp, `sha256=<hex>`) for a message sent at `now`."""
    timestamp = unix_seconds(now)
    return timestamp, "sha256=" + hmac_hex(secret, timestamped(timestamp, body))


def require_timestamped_sha256(
    signature: str | None,
    timestamp: str | None,
    secret: str,
    body: bytes,
    *,
    now: datetime,
    signature_name: str,
    timestamp_name: str,
) -> None:
    """Check a timestamped signature; raise Unauthorized saying which part is wrong.

    The signature is checked before the age, so only a sender who holds the secret learns that
    its clock is off (anyone else hears only that the signature does not match)."""
    if not timestamp or not timestamp.strip():
        raise Unauthorized(f"missing {timestamp_name} header (unix seconds; the signature covers it)")
    value = timestamp.strip()
    if not _UNIX_SECONDS.fullmatch(value):
        raise Unauthorized(f"{timestamp_name} must be unix seconds (digits only), not {value[:20]!r}")
    require_sha256_header(
        signature, secret, timestamped(value, body), name=signature_name, covers=f"'<{timestamp_name}>.<body>'"
    )
    skew = abs(now.timestamp() - int(value))
    if skew > TIMESTAMP_TOLERANCE.total_seconds():
        limit = int(TIMESTAMP_TOLERANCE.total_seconds())
        raise Unauthorized(
            f"{timestamp_name} is {int(skew)} s away from the desk's clock; a signed message is "
            f"accepted within {limit} s of being sent (a replay, or the sender's clock is wrong)"
        )
