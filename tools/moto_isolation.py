"""The embedded DynamoDB, made to keep DynamoDB's isolation when requests arrive at once (the
local desk serves webhooks, the outbox worker and the schedules on threads of one process).

moto runs a transaction by deep-copying every table it touches, applying the writes, and — when
a condition fails — putting the copies back, with no lock. A transaction that fails while
another request writes the same table puts back the table as it was before that write, which
is gone: a load run against the local desk (bench/load.py) lost committed tickets this way,
when two deliveries of one message raced and the loser's transaction was cancelled. DynamoDB
never does that; a cancelled transaction changes nothing. Serving one DynamoDB request at a
time restores the guarantee, at no cost that matters on one developer's machine.

Development only: never imported by the Lambda code.
"""

from __future__ import annotations

import threading
from typing import Any

_ONE_AT_A_TIME = threading.RLock()


def isolate_dynamodb() -> None:
    """Serve the embedded DynamoDB's requests one at a time (calling it again changes nothing)."""
    from moto.dynamodb.responses import DynamoHandler

    serve = DynamoHandler.call_action
    if getattr(serve, "isolated", False):
        return

    def one_at_a_time(self: Any) -> Any:
        with _ONE_AT_A_TIME:
            return serve(self)

    one_at_a_time.isolated = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]
