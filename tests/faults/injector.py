"""Fail AWS calls on purpose, under moto: botocore's `before-call` and `after-call` events on
every client the desk uses (boto3's, and PynamoDB's per model and for transactions).

    aws = AwsFaults().attach()
    aws.fail("dynamodb.TransactWriteItems", THROTTLING)           # the next one is throttled
    aws.fail("sqs.SendMessageBatch", SERVER_ERROR, times=50)      # SQS down for a while
    aws.fail("dynamodb.TransactWriteItems", READ_TIMEOUT, after=True)  # written, answer lost
    aws.race("dynamodb.TransactWriteItems", deliver_again)        # a concurrent writer first

A `before-call` failure never reaches AWS (what botocore raises after its own retries gave up);
an `after=True` failure happens once AWS did the work — the write is there, the caller thinks
it failed. `race` runs a real concurrent writer just before the call, so a condition fails
the way it does in production rather than by decree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

Error = Callable[[str], BaseException]  # operation name → the exception to raise


def aws_error(code: str, status: int, reasons: list[str] | None = None) -> Error:
    def make(operation: str) -> BaseException:
        response: dict[str, Any] = {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        if reasons is not None:
            response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
        return ClientError(response, operation)

    make.__name__ = code
    return make


THROTTLING = aws_error("ThrottlingException", 400)
PROVISIONED = aws_error("ProvisionedThroughputExceededException", 400)
SERVER_ERROR = aws_error("InternalServerError", 500)
SQS_SERVER_ERROR = aws_error("InternalFailure", 500)
TRANSACTION_CONFLICT = aws_error("TransactionCanceledException", 400, ["TransactionConflict", "None"])


def CONNECT_TIMEOUT(operation: str) -> BaseException:
    return ConnectTimeoutError(endpoint_url=f"https://aws.invalid/{operation}")


def READ_TIMEOUT(operation: str) -> BaseException:
    return ReadTimeoutError(endpoint_url=f"https://aws.invalid/{operation}")


class Crash(Exception):
    """The worker dies here (a Lambda timeout, out of memory): not an error the code handles."""


def CRASH(operation: str) -> BaseException:
    return Crash(f"worker died after {operation}")


@dataclass
class _Fault:
    operation: str
    error: Error | None
    first: int  # the call number (of this operation, since attach) that fails first
    times: int
    after: bool = False
    action: Callable[[], None] | None = None

    def due(self, number: int) -> bool:
        return self.first <= number < self.first + self.times


class AwsFaults:
    """Counts every AWS call by "service.Operation" and fails the ones it was told to."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        self.faults: list[_Fault] = []
        self.fired: list[str] = []
        self._clients: list[Any] = []

    def attach(self) -> AwsFaults:
        from chalicelib import aws, models

        clients = [aws.client(service) for service in ("sqs", "ses", "s3", "sns")]
        clients.append(models.connection().client)
        clients += [model._get_connection().connection.client for model in models.ALL_MODELS]
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)
            self._clients.append(client)
        return self

    def detach(self) -> None:
        """Clients outlive a test (PynamoDB caches them per model): leave none hooked."""
        for client in self._clients:
            client.meta.events.unregister("before-call", self._before)
            client.meta.events.unregister("after-call", self._after)
        self._clients.clear()

    def fail(self, operation: str, error: Error, *, nth: int = 1, times: int = 1, after: bool = False) -> None:
        """Fail the `nth` call of `operation` from now on (and the `times - 1` after it)."""
        self.faults.append(_Fault(operation, error, self.calls[operation] + nth, times, after))

    def race(self, operation: str, action: Callable[[], None], *, nth: int = 1) -> None:
        """Run `action` (a concurrent writer) just before the `nth` call of `operation`."""
        self.faults.append(_Fault(operation, None, self.calls[operation] + nth, 1, action=action))

    def clear(self) -> None:
        self.faults.clear()

    @staticmethod
    def _operation(event_name: str) -> str:
        return event_name.split(".", 1)[1]  # "before-call.dynamodb.PutItem" → "dynamodb.PutItem"

    def _before(self, event_name: str, **_: Any) -> None:
        operation = self._operation(event_name)
        self.calls[operation] += 1
        self.order.append(operation)
        number = self.calls[operation]
        for fault in list(self.faults):
            if fault.operation == operation and not fault.after and fault.due(number):
                if fault.action is not None:
                    self.faults.remove(fault)  # once; its own calls pass through here too
                    fault.action()
                    continue
                self.fired.append(operation)
                raise fault.error(operation.split(".", 1)[1])  # type: ignore[misc]

    def _after(self, event_name: str, **_: Any) -> None:
        operation = self._operation(event_name)
        for fault in self.faults:
            if fault.operation == operation and fault.after and fault.due(self.calls[operation]):
                self.fired.append(operation)
                raise fault.error(operation.split(".", 1)[1])  # type: ignore[misc]
