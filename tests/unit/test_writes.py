"""chalicelib/writes.py: DynamoDB's answers to conditional writes and transactions, read once.

No AWS: a fake connection answers the transaction as DynamoDB would (a TransactionCanceledException
with one reason per item), and fake items refuse single writes the way botocore reports it.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import (
    CancellationReason,
    DeleteError,
    PutError,
    TransactWriteError,
    UpdateError,
    VerboseClientError,
)

from chalicelib import models, transient, writes
from chalicelib.errors import ConditionFailed, WriteConflict, WriteRefused
from chalicelib.models import Key

CANCELLED = "TransactionCanceledException"


def cancelled(*codes: str | None, error_code: str = CANCELLED) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code else None for code in codes]
    cause = VerboseClientError(
        {"Error": {"Code": error_code, "Message": "cancelled"}}, "TransactWriteItems", cancellation_reasons=reasons
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


class Connection:
    """Answers TransactWriteItems with `answer` (None: written)."""

    def __init__(self, answer: Exception | None = None) -> None:
        self.answer = answer
        self.written: list[dict[str, Any]] = []

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        if self.answer is not None:
            raise self.answer
        self.written.append(request)
        return {}


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch):
    """Make the next transaction's answer the given error (or success)."""

    def set_answer(error: Exception | None = None) -> Connection:
        connection = Connection(error)
        monkeypatch.setattr(models, "connection", lambda: connection)
        return connection

    return set_answer


def commit_two() -> None:
    with writes.transaction() as transaction:
        transaction.save(Key("a#1"), condition=Key.key.does_not_exist())
        transaction.save(Key("b#2"), condition=Key.key.does_not_exist())


def test_a_transaction_whose_conditions_hold_is_written_whole(answer) -> None:
    connection = answer(None)

    commit_two()

    assert len(connection.written) == 1 and len(connection.written[0]["put_items"]) == 2


@pytest.mark.parametrize(
    ("codes", "named", "failed"),
    [
        (("ConditionalCheckFailed", None), ConditionFailed, (True, False)),
        ((None, "ConditionalCheckFailed"), ConditionFailed, (False, True)),
        (("TransactionConflict", "ConditionalCheckFailed"), ConditionFailed, (False, True)),  # a condition wins
        (("TransactionConflict", None), WriteConflict, None),
        ((None, "TransactionConflict"), WriteConflict, None),
    ],
)
def test_cancellation_reasons_become_one_named_refusal(answer, codes, named, failed) -> None:
    original = cancelled(*codes)
    answer(original)

    with pytest.raises(WriteRefused) as raised:
        commit_two()

    assert type(raised.value) is named
    assert raised.value.codes == codes
    if failed is not None:
        assert raised.value.failed == failed
    # still the error it replaces, wherever it is not named
    assert isinstance(raised.value, TransactWriteError)
    assert (raised.value.msg, raised.value.cause, raised.value.__cause__) == (original.msg, original.cause, original)


@pytest.mark.parametrize(
    "original",
    [
        cancelled("ThrottlingError", None),
        cancelled(None, "ValidationError"),
        cancelled(error_code="ThrottlingException"),
        cancelled(error_code="ValidationException"),
    ],
    ids=["throttled item", "invalid item", "throttled call", "invalid call"],
)
def test_other_failures_pass_unchanged(answer, original) -> None:
    answer(original)

    with pytest.raises(TransactWriteError) as raised:
        commit_two()

    assert raised.value is original


def test_a_conflict_is_retried_and_a_failed_condition_is_not(answer) -> None:
    """chalicelib/transient.py reads the cause, as it did before the refusals had names."""
    answer(cancelled("TransactionConflict", None))
    with pytest.raises(WriteConflict) as conflict:
        commit_two()
    answer(cancelled("ConditionalCheckFailed", None))
    with pytest.raises(ConditionFailed) as condition:
        commit_two()

    assert transient.is_transient(conflict.value) and not transient.is_transient(condition.value)
    assert transient.code(conflict.value) == CANCELLED


def test_an_error_raised_inside_the_block_writes_nothing(answer) -> None:
    connection = answer(None)

    with pytest.raises(ValueError), writes.transaction() as transaction:
        transaction.save(Key("a#1"))
        raise ValueError("changed my mind")

    assert connection.written == []


# --- single conditional writes -------------------------------------------------------------------
def refusal(error_type: type[Exception], code: str) -> Exception:
    return error_type(cause=ClientError({"Error": {"Code": code, "Message": "no"}}, "PutItem"))


class Item:
    """Stands in for a model: records the write, or raises `answer`."""

    def __init__(self, answer: Exception | None = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _write(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.answer is not None:
            raise self.answer

    def save(self, **kwargs: Any) -> None:
        self._write("save", **kwargs)

    def update(self, **kwargs: Any) -> None:
        self._write("update", **kwargs)

    def delete(self, **kwargs: Any) -> None:
        self._write("delete", **kwargs)


CONDITION = Key.key.does_not_exist()
WRITES = {
    "put_if": (PutError, lambda item: writes.put_if(item, CONDITION)),
    "update_if": (UpdateError, lambda item: writes.update_if(item, [Key.tally.add(1)], CONDITION)),
    "delete_if": (DeleteError, lambda item: writes.delete_if(item, CONDITION)),
}


@pytest.mark.parametrize("name", WRITES)
def test_a_single_write_answers_whether_its_condition_held(name) -> None:
    error_type, write = WRITES[name]
    written, refused = Item(), Item(refusal(error_type, "ConditionalCheckFailedException"))

    assert write(written) is True and written.calls[0][1]["condition"] is CONDITION
    assert write(refused) is False


@pytest.mark.parametrize("name", WRITES)
def test_a_single_write_raises_what_is_not_a_condition(name) -> None:
    error_type, write = WRITES[name]
    throttled = refusal(error_type, "ProvisionedThroughputExceededException")

    with pytest.raises(error_type) as raised:
        write(Item(throttled))

    assert raised.value is throttled


def test_update_if_passes_the_version_check_choice() -> None:
    item = Item()

    writes.update_if(item, [Key.tally.add(1)], CONDITION, add_version_condition=False)

    assert item.calls[0][1]["add_version_condition"] is False
