"""Conditional writes and transactions: every one goes through here, so DynamoDB's answers are read once.

A condition that does not hold is an answer, not a failure: another writer got there first (a
redelivered job's claim, a concurrent delivery of the same message, an agent's edit). A single
write answers it as a bool. A transaction raises a named error for the reason DynamoDB gives
(errors.ConditionFailed, errors.WriteConflict) and lets every other failure (throttling, an
outage, a malformed request) through unchanged, for chalicelib/transient.py to retry or the
caller to report. Compare PynamoDB's examples/optimistic_locking.py (one predicate for both
failure shapes) and Powertools' idempotency layer (ConditionalCheckFailedException translated
where the record is put).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import models
from chalicelib.errors import ConditionFailed, WriteConflict, WriteRefused

CONDITION_FAILED = "ConditionalCheckFailedException"  # a single write's refusal
# the same, as one item's reason in a cancelled transaction
CONDITION_FAILED_ITEM = "ConditionalCheckFailed"
CONFLICT_ITEM = "TransactionConflict"


def put_if(item: Model, condition: Condition) -> bool:
    """Save `item` if `condition` holds for what is stored under its key; False when it does not."""
    return _held(lambda: item.save(condition=condition))


def update_if(
    item: Model, actions: Sequence[Action], condition: Condition, *, add_version_condition: bool = True
) -> bool:
    """Apply `actions` to `item` if `condition` holds; False when it does not."""
    return _held(
        lambda: item.update(actions=list(actions), condition=condition, add_version_condition=add_version_condition)
    )


def delete_if(item: Model, condition: Condition) -> bool:
    """Delete `item` if `condition` holds; False when it does not."""
    return _held(lambda: item.delete(condition=condition))


def _held(write: Callable[[], object]) -> bool:
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if error.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """One TransactWriteItems: what the `with` block queues on it is written all or nothing as the
    block ends. Raises ConditionFailed when a condition did not hold (its `failed` says whose),
    else WriteConflict when another transaction was writing one of the items at that moment.

    Its client token makes botocore's own retry of a call that committed but whose answer was
    lost (a timeout) succeed as the same call, instead of failing our own version check and
    looking like someone else's change."""
    try:
        with TransactWrite(connection=models.connection(), client_request_token=secrets.token_hex(16)) as pending:
            yield pending
    except TransactWriteError as error:
        refusal = _refusal(error)
        if refusal is None:
            raise
        raise refusal from error


def _refusal(error: TransactWriteError) -> WriteRefused | None:
    """The named refusal a cancelled transaction's reasons amount to, or None for any other failure.
    A failed condition wins: the same writes tried again would fail it again."""
    codes = models.cancellation_codes(error)
    if CONDITION_FAILED_ITEM in codes:
        return ConditionFailed(error, codes)
    if CONFLICT_ITEM in codes:
        return WriteConflict(error, codes)
    return None
