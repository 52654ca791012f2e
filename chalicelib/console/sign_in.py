"""Console sign-in by a one-time code sent by email.

An agent types their address. The web request does the same work for every address that passes
the rate limits (limits.admit_sign_in_code: per address and per source IP, per clock hour): it
queues a "code wanted for <address>" job and answers the same page, so neither the answer nor its
timing tells anyone who works here. The outbox handler (agents.notices.send_sign_in_code) looks
the address up, drops the job for an unknown or deactivated one, and for an active agent makes
the code (`issue_code`) and mails it. No code travels through the queue.

The code is stored as an HMAC under the stage's link secret (`signincode#<address>`, one live
code per address: asking again replaces it), works CODE_LIFETIME from the request, and MAX_TRIES
typed codes: each try is spent by one conditional ADD before the code is compared (in constant
time), so concurrent guesses cannot get more tries than that; and every typed code counts against
a daily cap per address and per source (limits.admit_sign_in_try), since a new code brings five
new tries. The right code is marked used (its tries set to USED, never deleted: a redelivered
mail job must find it spent and mail nothing, not make it live again). The code is derived from the job's random id under the link secret, so a redelivered job
mails the same code again, never a second one (whoever holds the link secret could already try
the million codes against a stored digest: the derivation exposes nothing more).
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from chalicelib import job_kinds, keys, limits, log, outbox, secrets, writes
from chalicelib.agents import staff
from chalicelib.models import Agent, Key
from chalicelib.signing import hmac_hex

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
USED = 1_000  # the tries of a code that signed someone in: above any try, so it never works again
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
    outbox.enqueue(job_kinds.sign_in_code(email, now))
    log.info("sign-in code asked for")
    return None


def issue_code(job_id: str, email: str, asked_at: datetime, now: datetime) -> tuple[Agent, str] | None:
    """For the job: the active agent of `email` and the code to mail them, stored (hashed) as the
    address's one live code; None when nothing is to be mailed (no active agent has the address,
    the code's lifetime passed while the job waited, or a newer request's code has replaced it).
    A redelivered job gets the same code and leaves the stored one (and its tries) alone."""
    agent = staff.agent_by_email(email)
    if agent is None or not agent.active:
        log.info("sign-in code not sent: no active agent has the address")
        return None
    until = asked_at + CODE_LIFETIME
    if until <= now:
        log.info("sign-in code not sent: expired while queued", agent_id=agent.agent_id)
        return None
    code = _code(job_id)
    digest = _digest(email, code)
    row = Key(keys.sign_in_code(email), owner=agent.agent_id, digest=digest, until=until, tally=0, expires=until + KEEP)
    newer = (Key.until < until) | ((Key.until == until) & (Key.digest != digest))  # not a redelivery
    if not writes.put_if(row, Key.key.does_not_exist() | newer):
        try:
            stored = Key.get(keys.sign_in_code(email), consistent_read=True)
        except Key.DoesNotExist:
            return None  # expired and forgotten by DynamoDB meanwhile
        if stored.digest != digest:
            log.info("sign-in code not sent: a newer one replaced it", agent_id=agent.agent_id)
            return None
        if int(stored.tally or 0) >= MAX_TRIES:
            log.info("sign-in code not sent again: used or out of tries", agent_id=agent.agent_id)
            return None
    return agent, code


def verify(email: str, typed: str, source: str, now: datetime) -> Agent | None:
    """The active agent the code signs in, or None (wrong, expired, used up, never sent, or over
    the day's tries for the address or source: one answer for all). A right code is used up."""
    code = re.sub(r"\s", "", typed)
    if not CODE.fullmatch(code):
        return None  # not a code at all: no try spent
    if limits.admit_sign_in_try(email, source, now) is not None:
        log.info("sign-in code refused: daily tries used")
        return None
    record = Key(keys.sign_in_code(email))
    live = Key.key.exists() & (Key.tally < MAX_TRIES) & (Key.until > now)
    if not writes.update_if(record, [Key.tally.add(1)], live):
        log.info("sign-in code refused: none live, expired or out of tries")
        return None
    if not hmac.compare_digest((record.digest or "").encode(), _digest(email, code).encode()):
        log.info("sign-in code refused: wrong", agent_id=record.owner, tries=record.tally)
        return None
    if not writes.update_if(record, [Key.tally.set(USED)], (Key.digest == record.digest) & (Key.tally < USED)):
        return None  # used by a concurrent request a moment ago
    try:
        agent = Agent.get(record.owner or "", consistent_read=True)
    except Agent.DoesNotExist:
        return None
    return agent if agent.active else None


def _code(job_id: str) -> str:
    """Six digits from the job's random id under the link secret: the same for every delivery."""
    number = int(hmac_hex(secrets.get("link_secret"), f"console-sign-in-code:{job_id}".encode()), 16)
    return f"{number % 1_000_000:06d}"


def _digest(email: str, code: str) -> str:
    """Keyed: a million codes are quick to try against a plain hash of a leaked row."""
    return hmac_hex(secrets.get("link_secret"), f"console-sign-in:{email}:{code}".encode())
