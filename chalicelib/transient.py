"""Failures a retry can fix — throttling, transaction conflicts, 5xx, timeouts — and retrying
them inside the current invocation, with jittered backoff, until a deadline.

Why in-process: a webhook that answers 5xx is lost when the provider does not retry (Twilio
without a Fallback URL), and a send whose record fails is repeated to the customer when the
outbox job is retried. Botocore's own retries (PynamoDB: 3, standard mode) come first; this is
the layer above them, for what is left, and for errors botocore never retries (a
TransactionConflict inside a cancelled transaction, a timeout after its last attempt).

The pauses grow (doubling from `FIRST_PAUSE` up to `MAX_PAUSE`) with "equal jitter" — half the
step fixed, half random — so concurrent writers that collided spread apart, and a retry never
starts once the deadline would pass. Nothing here decides what a caller does when retries run
out: intake answers 503, the outbox lets SQS retry the job later.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsUnreachable

from chalicelib import log

T = TypeVar("T")

FIRST_PAUSE = 0.05
MAX_PAUSE = 1.0
MAX_ATTEMPTS = 8

# Error codes AWS answers when it is busy, not when the request is wrong.
THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
    }
)
BUSY = frozenset(
    {
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
# Why DynamoDB cancelled a transaction, when the cause was load, not a condition: retry it whole.
BUSY_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class TransientError(Exception):
    """A failure of ours a retry may fix (e.g. SQS refused some entries of a batch for load)."""


class Deadline:
    """A point in (monotonic) time after which no new attempt starts."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        return self.ends - time.monotonic()


def pause(seconds: float) -> None:
    """Wait between attempts (tests replace it: faults are injected, not waited for)."""
    time.sleep(seconds)


def is_transient(error: BaseException) -> bool:
    """True if `error` — a botocore error, or a PynamoDB error wrapping one — says AWS was busy,
    slow or unreachable, so the same request may succeed later. A failed condition is not
    transient: it is an answer (someone else wrote first), for the caller to act on."""
    for cause in _causes(error):
        if isinstance(cause, (TransientError, HTTPClientError, AwsUnreachable)):  # timeouts, dropped connections
            return True
        if isinstance(cause, ClientError):
            return _busy_answer(cause)
    return False


def code(error: BaseException) -> str:
    """What went wrong, for a log line: an AWS error code or the exception's class, never its
    text (which may quote the item, i.e. a customer's address)."""
    for cause in _causes(error):
        if isinstance(cause, ClientError):
            return str(cause.response.get("Error", {}).get("Code") or type(cause).__name__)
    return type(error).__name__


def call(
    attempt: Callable[[int], T],
    deadline: Deadline,
    *,
    also: tuple[type[BaseException], ...] = (),
    what: str = "aws call",
) -> T:
    """`attempt(n)` for n = 0, 1, 2…, again after each transient failure (or one of `also`)
    until it succeeds, MAX_ATTEMPTS are spent or the deadline would pass; then the last error
    is raised as it was."""
    pauses = _pauses(deadline)
    number = 0
    while True:
        try:
            return attempt(number)
        except Exception as error:
            if not (isinstance(error, also) or is_transient(error)):
                raise
            wait = next(pauses, None)
            if wait is None:
                log.warning("retries spent", what=what, attempts=number + 1, error=code(error))
                raise
            log.info("retrying", what=what, attempt=number + 1, error=code(error), pause_ms=int(wait * 1000))
            pause(wait)
            number += 1


def _pauses(deadline: Deadline) -> Iterator[float]:
    """The waits before each retry: FIRST_PAUSE doubling to MAX_PAUSE, half of each random."""
    for retry in range(MAX_ATTEMPTS - 1):
        step = min(FIRST_PAUSE * 2**retry, MAX_PAUSE)
        wait = step / 2 + random.uniform(0, step / 2)
        if deadline.left() <= wait:
            return
        yield wait


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it wraps: PynamoDB keeps botocore's error in `cause`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = getattr(current, "cause", None) or current.__cause__


def _busy_answer(error: ClientError) -> bool:
    found = error.response.get("Error", {}).get("Code", "")
    if found in THROTTLED or found in BUSY:
        return True
    if found == "TransactionCanceledException":
        reasons = {getattr(reason, "code", None) for reason in getattr(error, "cancellation_reasons", None) or []}
        reasons |= {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
        return "ConditionalCheckFailed" not in reasons and bool(reasons & BUSY_CANCELLATIONS)
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
