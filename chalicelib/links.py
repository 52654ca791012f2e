"""Signed, expiring links for customers (confirm a solved ticket; later, rate it).

A token is `<base64url JSON payload>.<base64url HMAC-SHA256>` under the stage's `link_secret`:
nothing is stored, a forged token fails the signature, an old one fails its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib import secrets
from chalicelib.errors import Forbidden, PromptlyError


class Expired(PromptlyError):
    status = 410
    code = "Gone"


def sign(purpose: str, ticket_id: str, expires: datetime, **extra: Any) -> str:
    payload = {"p": purpose, "t": ticket_id, "e": int(expires.timestamp()), **extra}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(body))}"


def verify(token: str, purpose: str, now: datetime) -> dict[str, Any]:
    """The payload of a genuine, unexpired token for `purpose`; Forbidden or Expired otherwise."""
    body, _, signature = token.partition(".")
    try:  # the signature first: nothing a stranger wrote is parsed
        if not hmac.compare_digest(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), _mac(body)):
            raise ValueError("signature")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise Forbidden("this link is not one we sent") from None
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise Forbidden("this link is not one we sent")
    if not isinstance(payload.get("e"), int) or now.timestamp() > payload["e"]:
        raise Expired("this link has expired")
    return payload


def expiry(now: datetime, days: float) -> datetime:
    return now + timedelta(days=days)


def _mac(body: str) -> bytes:
    return hmac.new(secrets.get("link_secret").encode(), body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
