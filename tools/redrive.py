"""Put back what gave up after every retry, once its cause is fixed.

    make redrive STAGE=prod      PROMPTLY_STAGE=prod python -m tools.redrive (your AWS credentials)
    make redrive STAGE=local     python -m tools.redrive --local (the desk `make run` started)

- Outbox jobs parked in `promptly-<stage>-outbox-dlq` go back to the outbox queue.
- Events parked in `promptly-<stage>-inbound-email-dlq` and `…-ses-feedback-dlq` — Lambda's
  on-failure destinations for `inbound_email` and `ses_feedback`, after the two retries of an
  asynchronous (SNS) invocation — are handed to their function again, asynchronously, as SNS
  first delivered them: inbound mail is read from S3 again (it is kept there 30 days on dev, 90
  on prod). Re-publishing to the topic would do the same, but SES owns those topics; one that
  fails again is parked again.
- Locally, mail in local/inbox/failed/ goes back to local/inbox/ (its `.error.txt` removed):
  the local desk parks failing files there instead of in a queue.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any

from tools import local_desk

MAX_MESSAGES = 1000  # per queue and run: a redrive is a deliberate act, not a drain


def redrive_events(lambda_: Any, queue_url: str, function: str, limit: int = MAX_MESSAGES) -> int:
    """Invoke `function` again with each parked event (Lambda's on-failure record keeps it as
    `requestPayload`), deleting the record once Lambda accepted the invocation."""
    from chalicelib import outbox  # after the environment (see main)

    def invoke(body: str) -> None:
        event = json.loads(body)["requestPayload"]
        lambda_.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode())

    return outbox.drain(queue_url, invoke, limit)


def redrive_local_inbox() -> int:
    """Failed `.eml` files back into the local inbox, where the desk tries them again."""
    failed = local_desk.inbox() / "failed"
    moved = 0
    for path in sorted(failed.glob("*.eml")):
        failed.joinpath(f"{path.name}.error.txt").unlink(missing_ok=True)
        shutil.move(str(path), str(local_desk.inbox() / path.name))
        moved += 1
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="the running local desk (make run), on whatever ports")
    args = parser.parse_args()
    if args.local:
        local_desk.follow(local_desk.running())
    if "chalicelib.models" in sys.modules:
        raise SystemExit("set the environment before importing the models")
    from chalicelib import aws, outbox, stage  # after the environment: the models name their tables at import

    moved = outbox.redrive()
    print(f"moved {moved} job(s) from {stage.resource('outbox-dlq')} back to {stage.outbox_queue()}")
    if args.local:
        print(
            f"moved {redrive_local_inbox()} email(s) from {local_desk.inbox() / 'failed'} back to {local_desk.inbox()}"
        )
        return
    for name in stage.PARKED_QUEUES:
        function, queue = stage.resource(name), stage.dead_letters_of(name)
        events = redrive_events(aws.client("lambda"), aws.queue_url(queue), function)
        print(f"gave {events} event(s) from {queue} to {function} again")


if __name__ == "__main__":
    main()
