"""Console sign-in by a one-time code sent by email.

An agent types their address; if it is an active agent's, a 6-digit code goes out through the
outbox (agents.notices.send_sign_in_code). Whoever types an address gets the same answer, an
agent's address or not, and requests are counted against the same limits either way
(limits.admit_sign_in_code: per address and per source IP, per clock hour), so the page tells no
one who works here.

The code is stored as an HMAC under the stage's link secret (`signincode#<address>`, one live
code per address: asking again replaces it), works CODE_LIFETIME, and MAX_TRIES typed codes: each
try is spent by one conditional ADD before the code is compared (in constant time), so
concurrent guesses cannot get more tries than that. The right code is deleted as it is used.
"""

from __future__ import annotations

import hmac
import re
import secrets as random
from datetime import datetime, timedelta

from chalicelib import job_kinds, keys, limits, log, outbox, secrets, writes
from chalicelib.agents import staff
from chalicelib.models import Agent, Key
from chalicelib.signing import hmac_hex

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
KEEP = timedelta(hours=1)  # a dead code's row stays this long after it stops working, then TTL
CODE = re.compile(r"[0-9]{6}")
EMAIL = re.compile(r"[^@\s<>]{1,64}@[^@\s<>]{1,189}\.[^@\s<>.]{1,63}")


def address(raw: str) -> str | None:
    """The typed address, trimmed and lower-cased, or None when it cannot be an address."""
    email = raw.strip().lower()
    return email if len(email) <= 254 and EMAIL.fullmatch(email) else None


def request_code(email: str, source: str, now: datetime) -> str | None:
    """Count the request; None when it may be answered (a code went out if `email` is an active
    agent's), else the scope whose limit it hit ("address" or "source")."""
    refused = limits.admit_sign_in_code(email, source, now)
    if refused is not None:
        log.info("sign-in code refused: rate limit", scope=refused)
        return refused
    agent = staff.agent_by_email(email)
    if agent is None or not agent.active:
        log.info("sign-in code not sent: no active agent has the address")
        return None
    code = f"{random.randbelow(1_000_000):06d}"
    until = now + CODE_LIFETIME
    Key(
        keys.sign_in_code(email),
        owner=agent.agent_id,
        digest=_digest(email, code),
        until=until,
        tally=0,
        expires=until + KEEP,
    ).save()
    outbox.enqueue(job_kinds.sign_in_code(agent.agent_id, code, until))
    log.info("sign-in code queued", agent_id=agent.agent_id)
    return None


def verify(email: str, typed: str, now: datetime) -> Agent | None:
    """The active agent the code signs in, or None (wrong, expired, used up, or never sent:
    one answer for all). A right code is used up."""
    code = re.sub(r"\s", "", typed)
    if not CODE.fullmatch(code):
        return None  # not a code at all: no try spent
    record = Key(keys.sign_in_code(email))
    live = Key.key.exists() & (Key.tally < MAX_TRIES) & (Key.until > now)
    if not writes.update_if(record, [Key.tally.add(1)], live):
        log.info("sign-in code refused: none live, expired or out of tries")
        return None
    if not hmac.compare_digest((record.digest or "").encode(), _digest(email, code).encode()):
        log.info("sign-in code refused: wrong", agent_id=record.owner, tries=record.tally)
        return None
    if not writes.delete_if(record, Key.key.exists() & (Key.digest == record.digest)):
        return None  # used by a concurrent request a moment ago
    try:
        agent = Agent.get(record.owner or "")
    except Agent.DoesNotExist:
        return None
    return agent if agent.active else None


def _digest(email: str, code: str) -> str:
    """Keyed: a million codes are quick to try against a plain hash of a leaked row."""
    return hmac_hex(secrets.get("link_secret"), f"console-sign-in:{email}:{code}".encode())
