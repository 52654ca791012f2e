"""Console sessions: the one way a console request is tied to an agent.

A session is a keys-table row `session#<SHA-256 of the token>` (keys.session): the token itself
lives only in the agent's cookie. The row names the agent (`owner`), when it was last seen
(`last_used_at`) and when it ends whatever happens (`until`, sign-in + `[console]
session_lifetime`); its TTL (`expires`) is the nearer of the idle end and `until`, so DynamoDB
forgets it by itself. Why the keys table and not a table of its own: it is one more exact-key
lookup (a GetItem by the whole key, like API tokens), the table already has a TTL attribute and
every function that needs it is granted it, and nothing ever lists sessions.

`current(request)` is the console's access function: cookie → one TransactGetItems of the session
and the agent together (the cookie is `<agent id>.<token>`, so both keys are known before either
is read: one call, not two, on every page; the agent id in it is no secret, and a cookie whose id
is not the session's owner is no session); the idle expiry is pushed on at most once per REFRESH_EVERY (at most one write per
request). A deactivated agent's session is deleted the first time it is used, so deactivation
ends every session on its next request. The JSON API never reads this cookie, and this module
never reads a bearer token.

CSRF: every state-changing console request carries `csrf_token(session)`, an HMAC of the
session's digest under the stage's link secret (no extra storage, and it dies with the session),
and passes `same_origin(request)`: `Sec-Fetch-Site: same-origin`, or, from a browser that does not
send it, an `Origin` that is the desk's public URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as token_bytes
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from chalice.app import Request
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import _ModelFuture
from pynamodb.transactions import TransactGet

from chalicelib import clock, keys, log, secrets, stage, writes
from chalicelib.agents.access import MAX_ID, Actor
from chalicelib.config import settings
from chalicelib.http import headers
from chalicelib.models import Agent, Key, connection

M = TypeVar("M", Key, Agent)
REFRESH_EVERY = timedelta(minutes=5)  # the idle expiry moves on at most this often (one write)
SECURE_NAME = "__Host-promptly_session"  # https: Secure, no Domain, Path=/ — the browser enforces it
PLAIN_NAME = "promptly_session"  # the local desk over http only, where Secure cookies are not kept
DOOR_SECURE_NAME = "__Host-promptly_door"  # the sign-in forms' CSRF cookie (see door)
DOOR_PLAIN_NAME = "promptly_door"
DOOR_FIELD = "door"
DOOR_LIFETIME = timedelta(days=1)
DOOR_VALUE = re.compile(r"[A-Za-z0-9_-]{32}")
CSRF_FIELD = "csrf"  # the hidden form field
CSRF_HEADER = "x-csrf-token"  # or the header (htmx)


@dataclass(frozen=True)
class Session:
    """A signed-in console request: who, and the session's digest (what its CSRF token signs)."""

    agent: Agent
    digest: str

    @property
    def actor(self) -> Actor:
        return Actor.of(self.agent)


def secure() -> bool:
    """Secure cookies, except on the local stage served over plain http."""
    return not (stage.is_local() and stage.public_url().startswith("http://"))


def cookie_name() -> str:
    return SECURE_NAME if secure() else PLAIN_NAME


def _cookie(value: str, max_age: int, name: str | None = None) -> str:
    flags = "; Secure" if secure() else ""
    return f"{name or cookie_name()}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{flags}"


def door(request: Request) -> tuple[str, str | None]:
    """The sign-in forms' CSRF token (before any session: login CSRF, where another site signs
    the browser in as someone else): an HMAC of a random value kept in its own cookie. Returns the
    form's token and, when the browser has no such cookie yet, the Set-Cookie line that gives it."""
    values = cookie_values(headers(request).get("cookie") or "", _door_name())
    if len(values) == 1 and DOOR_VALUE.fullmatch(values[0]):
        return _door_token(values[0]), None
    value = token_bytes.token_urlsafe(24)
    return _door_token(value), _cookie(value, int(DOOR_LIFETIME.total_seconds()), _door_name())


def door_ok(request: Request, form: dict[str, str]) -> bool:
    """A sign-in form post carries the token of the browser's own door cookie."""
    values = cookie_values(headers(request).get("cookie") or "", _door_name())
    if len(values) != 1 or not DOOR_VALUE.fullmatch(values[0]):
        return False
    return hmac.compare_digest(form.get(DOOR_FIELD, "").encode("utf-8", "replace"), _door_token(values[0]).encode())


def _door_name() -> str:
    return DOOR_SECURE_NAME if secure() else DOOR_PLAIN_NAME


def _door_token(value: str) -> str:
    return hmac.new(secrets.get("link_secret").encode(), b"console-door:" + value.encode(), hashlib.sha256).hexdigest()


def clear_cookie() -> str:
    """The Set-Cookie line that makes the browser forget the session cookie."""
    return _cookie("", 0)


def begin(agent: Agent, now: datetime) -> str:
    """A new session for `agent` (a fresh token at every sign-in); returns its Set-Cookie line."""
    console = settings().console
    token = token_bytes.token_urlsafe(32)
    until = now + console.lifetime_span
    Key(
        keys.session(_digest(token)),
        owner=agent.agent_id,
        issued_at=now,
        last_used_at=now,
        until=until,
        expires=min(now + console.idle_span, until),
    ).save(condition=Key.key.does_not_exist())
    log.info("console session begun", agent_id=agent.agent_id)
    return _cookie(f"{agent.agent_id}.{token}", int(console.lifetime_span.total_seconds()))


def presented(request: Request) -> str | None:
    """The session token the request's cookie carries: the value of the one cookie with the
    session's name, or None. Parsed by hand, strictly (`name=value` pairs split on `;`): a cookie
    planted by a sibling host can hide in quoting or spaces for a lenient parser and shadow the
    real one, and a name sent twice is refused (which one is ours cannot be told)."""
    values = cookie_values(headers(request).get("cookie") or "", cookie_name())
    return values[0] if len(values) == 1 and values[0] else None


def cookie_values(header: str, name: str) -> list[str]:
    """Every value the Cookie header gives `name` (RFC 6265: `a=1; b=2`), unquoted nothing."""
    found = []
    for pair in header.split(";"):
        key, equals, value = pair.strip().partition("=")
        if equals and key == name:
            found.append(value.strip())
    return found


def current(request: Request) -> Session | None:
    """The request's live session and its active agent, or None (signed out)."""
    agent_id, _, token = (presented(request) or "").rpartition(".")
    if not agent_id or not token or len(agent_id) > MAX_ID or len(token) > MAX_ID:
        return None
    digest = _digest(token)
    record, agent = _read(digest, agent_id)
    if record is None or record.owner != agent_id:
        return None
    now, idle = clock.now(), settings().console.idle_span
    last_seen = record.last_used_at or now
    if (record.until is not None and now >= record.until) or now >= last_seen + idle:
        writes.delete_if(record, Key.key.exists())  # before DynamoDB's TTL gets to it
        return None
    if agent is None or not agent.active:
        writes.delete_if(record, Key.key.exists())
        log.info("console session ended: agent deactivated or gone", agent_id=record.owner)
        return None
    if now - last_seen >= REFRESH_EVERY:
        _refresh(record, last_seen, now, idle)
    return Session(agent, digest)


def _read(digest: str, agent_id: str) -> tuple[Key | None, Agent | None]:
    """The session row and the agent it claims, in one call."""
    with TransactGet(connection=connection()) as both:
        row, person = both.get(Key, keys.session(digest)), both.get(Agent, agent_id)
    return _found(row), _found(person)


def _found(future: _ModelFuture[M]) -> M | None:
    try:
        return future.get()
    except DoesNotExist:
        return None


def _refresh(record: Key, last_seen: datetime, now: datetime, idle: timedelta) -> None:
    """Move the idle end on. Conditional on the row being the one read: of concurrent requests one
    writes, and a session signed out meanwhile is never brought back (an update would create it)."""
    until = record.until or now + idle
    unchanged = Key.key.exists() & (Key.last_used_at == last_seen)
    writes.update_if(record, [Key.last_used_at.set(now), Key.expires.set(min(now + idle, until))], unchanged)


def end(session: Session) -> None:
    """Sign out: the session's row is deleted; the cookie, if ever sent again, finds nothing."""
    writes.delete_if(Key(keys.session(session.digest)), Key.key.exists())
    log.info("console session ended", agent_id=session.agent.agent_id)


def csrf_token(session: Session) -> str:
    return hmac.new(
        secrets.get("link_secret").encode(), b"console-csrf:" + session.digest.encode(), hashlib.sha256
    ).hexdigest()


def csrf_ok(request: Request, session: Session, form: dict[str, str]) -> bool:
    """The token from the form field or the header matches the session's, compared in constant time."""
    given = form.get(CSRF_FIELD) or headers(request).get(CSRF_HEADER) or ""
    return hmac.compare_digest(given.encode("utf-8", "replace"), csrf_token(session).encode())


def same_origin(request: Request) -> bool:
    """A browser sent this from one of the desk's own pages. `Sec-Fetch-Site` decides when the
    browser sends it; else the `Origin` must be the desk's public URL; a request with neither is
    refused (every browser that runs the console sends one of them on a POST)."""
    sent = headers(request)
    site = sent.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() == "same-origin"
    origin = sent.get("origin")
    return origin is not None and origin.strip().rstrip("/").lower() in _origins()


def _origins() -> set[str]:
    return {f"{part.scheme}://{part.netloc}".lower() for part in map(urlsplit, stage.public_urls())}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
