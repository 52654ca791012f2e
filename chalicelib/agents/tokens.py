"""Personal API tokens: `pt_<id>_<secret>`, shown once, stored as a SHA-256 digest, revocable.

The id part finds the stored digest with one GetItem; the secret is compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib.agents.access import Actor
from chalicelib.errors import NotFound, Unauthorized
from chalicelib.models import Agent, Key

PREFIX = "pt"


def issue(agent_id: str) -> tuple[str, str]:
    """A new token for `agent_id`: (token id, the token itself — shown once, never stored)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    Key(f"token#{token_id}", owner=agent_id, digest=_digest(secret)).save(
        condition=Key.key.does_not_exist())
    return token_id, f"{PREFIX}_{token_id}_{secret}"


def peek_owner(token_id: str) -> str:
    """The agent a token belongs to (404 if unknown), to decide who may revoke it."""
    try:
        return Key.get(f"token#{token_id}").owner or ""
    except Key.DoesNotExist:
        raise NotFound(f"no token {token_id}") from None


def revoke(token_id: str) -> str:
    """Delete a token; returns the agent it belonged to."""
    try:
        key = Key.get(f"token#{token_id}")
    except Key.DoesNotExist:
        raise NotFound(f"no token {token_id}") from None
    key.delete()
    return key.owner or ""


def authenticate(header: str | None) -> Actor:
    """`Authorization: Bearer pt_…` → the active agent it belongs to, or Unauthorized."""
    if not header:
        raise Unauthorized("missing Authorization header: send 'Bearer <your personal token>'")
    scheme, _, token = header.strip().partition(" ")
    parts = token.strip().split("_", 2)
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("Authorization must be 'Bearer pt_<id>_<secret>'")
    try:
        key = Key.get(f"token#{parts[1]}")
    except Key.DoesNotExist:
        raise Unauthorized("unknown or revoked token") from None
    if not hmac.compare_digest((key.digest or "").encode(), _digest(parts[2]).encode()):
        raise Unauthorized("unknown or revoked token")
    try:
        agent = Agent.get(key.owner or "")
    except Agent.DoesNotExist:
        raise Unauthorized("the token's agent no longer exists") from None
    if not agent.active:
        raise Unauthorized("this agent is deactivated")
    return Actor.of(agent)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
