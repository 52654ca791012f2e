"""Rate limits on acknowledgements by email (desk.toml `[limits]`): per recipient domain and
overall, per clock hour (UTC); and on the console's sign-in (desk.toml `[console]`): codes asked
for per address and per source per hour (`admit_sign_in_code`), and codes typed per address and
per source per day, whichever code they were (`admit_sign_in_try`: a new code resets its own five
tries, so without a daily cap a patient guesser would never be stopped). A source is an IPv4
address or an IPv6 /64 (`source_of`): one host holds a whole /64.

Counted in the keys table, one item per window: `ackrate#domain#<domain>#<hour>` and
`ackrate#all#<hour>`, each a number ADDed under the condition that it is still below its cap,
plus a marker `ackrate#job#<step>` so a retried job (SES throttled after the count) is not
counted twice. The three writes are one TransactWriteItems: all or nothing, no read first, no
scan, and two concurrent acknowledgements can never both take the last place. An acknowledgement
to an email channel writes its cooldown hold in the same transaction (`hold_and_admit_ack_email`):
one write before the send instead of two. The items
expire (TTL) two hours after their window.

A fixed window lets a burst of up to twice a cap straddle the turn of an hour; for a cap whose
job is to stop hundreds of mails, that is close enough and costs one write.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.expressions.condition import Condition

from chalicelib import keys, writes
from chalicelib.config import settings
from chalicelib.errors import ConditionFailed
from chalicelib.models import Key

WINDOW = timedelta(hours=1)
KEEP = timedelta(hours=2)  # counters and markers outlive their window, then DynamoDB deletes them


@dataclass(frozen=True)
class Refusal:
    """Which cap an acknowledgement hit."""

    scope: str  # "domain" | "overall"
    cap: int

    @property
    def reason(self) -> str:
        """For the ticket's event, read by an agent (no address: the domain is enough)."""
        if self.scope == "domain":
            return f"more than {self.cap} acknowledgements to this email domain in an hour"
        return f"more than {self.cap} acknowledgements by email in an hour"


@dataclass(frozen=True)
class Admission:
    """What `hold_and_admit_ack_email` found: whether the caller's hold is its own now, and the
    cap the acknowledgement would break (None: it may go, and was counted)."""

    held: bool
    refusal: Refusal | None = None


def admit_ack_email(step: str, address: str, now: datetime) -> Refusal | None:
    """Count one acknowledgement by email to `address` (the job's step, once); None if it may
    go, else the cap it would break (then nothing is counted)."""
    return _admit_ack_email(step, address, now, None).refusal


def hold_and_admit_ack_email(hold: tuple[Key, Condition], step: str, address: str, now: datetime) -> Admission:
    """`admit_ack_email` with a hold the acknowledgement takes before it is sent (its cooldown,
    outbox.hold) written in the same transaction: one write before the send, not two. If someone
    else holds it, nothing is counted (`held` False). When the transaction is refused for the
    count's sake (a cap, or a count by an earlier try of the job), the hold is written on its own,
    as it was before the count: those are the rare paths."""
    return _admit_ack_email(step, address, now, hold)


def _admit_ack_email(step: str, address: str, now: datetime, hold: tuple[Key, Condition] | None) -> Admission:
    caps = settings().limits
    hour = _window(now)
    expires = hour + WINDOW + KEEP
    domain = address.rsplit("@", 1)[-1].lower()
    counters = [
        ("domain", keys.ack_rate_domain(domain, hour), caps.acks_per_domain_per_hour),
        ("overall", keys.ack_rate_all(hour), caps.acks_per_hour),
    ]
    try:
        with writes.transaction() as transaction:
            if hold is not None:
                transaction.save(hold[0], condition=hold[1])
            transaction.save(Key(keys.ack_rate_job(step), expires=expires), condition=Key.key.does_not_exist())
            for _, key, cap in counters:
                transaction.update(
                    Key(key),
                    actions=[Key.tally.add(1), Key.expires.set(expires)],
                    condition=Key.tally.does_not_exist() | (Key.tally < cap),
                )
    except ConditionFailed as refused:  # anything else (a throttle, an outage) the outbox retries
        failed = refused.failed
        if hold is not None:
            if failed[0]:
                return Admission(held=False)  # someone else holds it: nothing counted
            failed = failed[1:]
        held = hold is None or writes.put_if(*hold)
        if failed[0]:
            return Admission(held)  # this step was counted (and admitted) by an earlier try of the job
        scope, _, cap = next(counter for counter, hit in zip(counters, failed[1:]) if hit)
        return Admission(held, Refusal(scope, cap))
    return Admission(held=True)


def admit_sign_in_code(address: str, source: str, now: datetime) -> str | None:
    """Count one request for a sign-in code to `address` from `source` (an IP): None if it may
    be answered, else the scope whose cap it hits ("address" or "source"; nothing counted then).
    Counted for every address asked for, an agent's or not: the answer must not tell them apart."""
    caps = settings().console
    hour = _window(now)
    counters = [
        ("address", keys.sign_in_rate_address(address, hour), caps.codes_per_address_per_hour),
        ("source", keys.sign_in_rate_source(source_of(source), hour), caps.codes_per_source_per_hour),
    ]
    return _admit(counters, hour + WINDOW + KEEP)


def admit_sign_in_try(address: str, source: str, now: datetime) -> str | None:
    """Count one typed code for `address` from `source`, before it is checked: None if it may be
    checked, else the scope whose daily cap it hits ("address" or "source")."""
    caps = settings().console
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    counters = [
        ("address", keys.sign_in_tries_address(address, day), caps.tries_per_address_per_day),
        ("source", keys.sign_in_tries_source(source_of(source), day), caps.tries_per_source_per_day),
    ]
    return _admit(counters, day + timedelta(days=1) + KEEP)


def _admit(counters: list[tuple[str, str, int]], expires: datetime) -> str | None:
    """ADD one to each counter if every one is below its cap, in one transaction: None, or the
    scope of the first counter at its cap (then nothing is counted)."""
    try:
        with writes.transaction() as transaction:
            for _, key, cap in counters:
                transaction.update(
                    Key(key),
                    actions=[Key.tally.add(1), Key.expires.set(expires)],
                    condition=Key.tally.does_not_exist() | (Key.tally < cap),
                )
    except ConditionFailed as refused:
        return next(scope for (scope, _, _), hit in zip(counters, refused.failed) if hit)
    return None


def source_of(ip: str) -> str:
    """The unit a per-source cap counts: the IPv4 address, or the IPv6 /64 it is in (a single
    host is routinely given a whole /64, so counting addresses would not limit it)."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _window(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
