"""Personal API tokens: `pt_<id>_<secret>`, shown once, stored as a SHA-256 digest, revocable, and
expiring (`[tokens] lifetime` in desk.toml, 90 days unless the desk says otherwise).

The id part finds the stored record with one GetItem; the secret is compared in constant time.
The record (a `token#<id>` key) names its holder (`owner`), who issued it and when, when it stops
working (`until`) and when it was last used. Each agent's token ids are also in a `tokens#<agent>`
set, changed in the same transaction as the record, so listing an agent's tokens is a GetItem and
a BatchGetItem rather than a Scan of the keys table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pynamodb.exceptions import UpdateError

from chalicelib import clock, job_kinds, keys, log, outbox, writes
from chalicelib.agents import staff
from chalicelib.agents.access import Actor, require
from chalicelib.config import settings
from chalicelib.errors import NotFound, Unauthorized
from chalicelib.models import Agent, Key

PREFIX = "pt"
# A script may call many times a minute: its last use is written at most this often per token.
USE_RECORDED_EVERY = timedelta(minutes=5)
# An expired token is answered "expired" (and listed) this long, then DynamoDB forgets it (TTL).
KEEP_EXPIRED = timedelta(days=30)
_NEVER = datetime.min.replace(tzinfo=UTC)


class Issued(NamedTuple):
    token_id: str
    token: str  # the token itself: shown once, never stored
    expires_at: datetime


def issue(agent_id: str, *, issued_by: str | None = None) -> Issued:
    """A new token for `agent_id`, issued by `issued_by` (the holder themselves when None).

    A token issued for someone else acts as them without their knowing, so they are told by
    email, and it is logged as a warning: production logs from that level up."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    issuer, now = issued_by or agent_id, clock.now()
    until = now + settings().tokens.lifetime_span
    record = Key(
        keys.token(token_id),
        owner=agent_id,
        digest=_digest(secret),
        issued_by=issuer,
        issued_at=now,
        until=until,
        expires=until + KEEP_EXPIRED,
    )
    with writes.transaction() as transaction:
        transaction.save(record, condition=Key.key.does_not_exist())
        transaction.update(Key(keys.tokens_held(agent_id)), actions=[Key.members.add({token_id})])
    audit = {"token_id": token_id, "holder": agent_id, "issued_by": issuer, "expires_at": clock.iso(until)}
    if issuer == agent_id:
        log.info("token issued", **audit)
    else:
        log.warning("token issued for another agent", **audit)
        outbox.enqueue(job_kinds.token_issued(token_id, agent_id, issuer, now, until))
    return Issued(token_id, f"{PREFIX}_{token_id}_{secret}", until)


def held_by(agent_id: str) -> list[Key]:
    """The agent's token records, newest first. Ids whose record is gone (revoked, or expired
    long enough ago for DynamoDB to forget it) are skipped."""
    try:
        ids = Key.get(keys.tokens_held(agent_id)).members or set()
    except Key.DoesNotExist:
        return []
    if not ids:
        return []
    records = [
        key for key in Key.batch_get([keys.token(token_id) for token_id in sorted(ids)]) if key.owner == agent_id
    ]
    return sorted(records, key=lambda key: key.issued_at or _NEVER, reverse=True)


def token_id_of(record: Key) -> str:
    return record.key.removeprefix(keys.TOKEN_PREFIX)


def peek_owner(token_id: str) -> str:
    """The agent a token belongs to (404 if unknown), to decide who may revoke it."""
    try:
        return Key.get(keys.token(token_id)).owner or ""
    except Key.DoesNotExist:
        raise NotFound(f"no token {token_id}") from None


def revoke(token_id: str) -> str:
    """Delete a token, and its id from its holder's set; returns the agent it belonged to."""
    try:
        key = Key.get(keys.token(token_id))
    except Key.DoesNotExist:
        raise NotFound(f"no token {token_id}") from None
    owner = key.owner or ""
    with writes.transaction() as transaction:
        transaction.delete(key)
        transaction.update(Key(keys.tokens_held(owner)), actions=[Key.members.delete({token_id})])
    return owner


# --- who may: the rules the JSON API and the console both call -------------------------------------
def issue_by(actor: Actor, agent_id: str) -> Issued:
    """A token for `agent_id` issued by the actor: their own, or (admins) anyone's."""
    _own_or_admin(actor, agent_id)
    staff.get_agent(agent_id)
    return issue(agent_id, issued_by=actor.agent_id)


def held_for(actor: Actor, agent_id: str) -> list[Key]:
    """An agent's token records (never a secret): the actor's own, or (admins) anyone's."""
    _own_or_admin(actor, agent_id)
    staff.get_agent(agent_id)
    return held_by(agent_id)


def revoke_by(actor: Actor, token_id: str) -> str:
    """Revoke a token of the actor's own, or (admins) anyone's; returns its holder. Someone
    else's token is a 404 to an agent: whether it exists is not theirs to learn."""
    owner = peek_owner(token_id)
    if owner != actor.agent_id and actor.role != "admin":
        raise NotFound(f"no token {token_id}")
    revoke(token_id)
    return owner


def _own_or_admin(actor: Actor, agent_id: str) -> None:
    if agent_id != actor.agent_id:
        require(actor, "admin")


def authenticate(header: str | None) -> Actor:
    """`Authorization: Bearer pt_…` → the active agent it belongs to, or Unauthorized."""
    if not header:
        raise Unauthorized("missing Authorization header: send 'Bearer <your personal token>'")
    scheme, _, token = header.strip().partition(" ")
    parts = token.strip().split("_", 2)
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("Authorization must be 'Bearer pt_<id>_<secret>'")
    try:
        key = Key.get(keys.token(parts[1]))
    except Key.DoesNotExist:
        raise Unauthorized("unknown or revoked token") from None
    if not hmac.compare_digest((key.digest or "").encode(), _digest(parts[2]).encode()):
        raise Unauthorized("unknown or revoked token")
    now = clock.now()
    if key.until is not None and now >= key.until:  # said only to whoever knows the secret
        raise Unauthorized(
            f"this token expired at {clock.iso(key.until)}: issue a new one with another "
            "of your tokens, or ask an admin"
        )
    try:
        agent = Agent.get(key.owner or "")
    except Agent.DoesNotExist:
        raise Unauthorized("the token's agent no longer exists") from None
    if not agent.active:
        raise Unauthorized("this agent is deactivated")
    _record_use(key, now)
    return Actor.of(agent)


def _record_use(key: Key, now: datetime) -> None:
    """Write `last_used_at`, at most once per USE_RECORDED_EVERY per token. The condition lets one
    of several concurrent calls write, and never brings back a token revoked meanwhile (an update
    would create the item). Best effort: a call is not refused because its bookkeeping failed."""
    if key.last_used_at is not None and now - key.last_used_at < USE_RECORDED_EVERY:
        return
    actions = [Key.last_used_at.set(now)]
    if key.until is None:  # issued before tokens expired: its lifetime starts at its first use since
        until = now + settings().tokens.lifetime_span  # type: ignore[unreachable]  # null=True: typed as never None
        actions += [Key.until.set(until), Key.expires.set(until + KEEP_EXPIRED)]
    fresh = Key.last_used_at.does_not_exist() | (Key.last_used_at <= now - USE_RECORDED_EVERY)
    try:
        writes.update_if(key, actions, Key.key.exists() & fresh)
    except UpdateError as error:
        log.warning("token use not recorded", token_id=token_id_of(key), reason=error.cause_response_code)


def reindex_tokens() -> int:
    """Rebuild every agent's `tokens#<agent>` set from the token records: once, by an operator, on
    a stage whose tokens predate the sets (a Scan of the keys table, with the operator's
    credentials). Returns how many tokens were found."""
    found = 0
    for key in Key.scan(Key.key.startswith(keys.TOKEN_PREFIX)):
        Key(keys.tokens_held(key.owner or "")).update(actions=[Key.members.add({token_id_of(key)})])
        found += 1
    return found


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
