"""Form submissions through the real webhook handler, in-process on moto.

    python -m bench.intake [N]

Prints tickets/second, AWS API calls per new ticket on the webhook path (target: at most 3 —
one BatchGetItem lookup, one TransactWriteItems, one SQS send), and the process's peak resident memory.
moto is far slower than DynamoDB, so tickets/second measures our overhead plus moto's.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from bench.common import ROOT, CallCounter, table


def run(count: int, returning: int = 0) -> list[tuple[str, str]]:
    """`returning` > 0: submissions come from that many customers over and over."""
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import clock
    from chalicelib.signing import sign_timestamped

    with mock_aws():
        from infra.local import create_resources

        create_resources()
        import app as app_module

        secret = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"][
            "environment_variables"
        ]["PROMPTLY_SECRET_FORM_SECRET"]
        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:

            def post(number: int) -> None:
                email = f"c{number % returning}@example.com" if returning else f"c{number}@example.com"
                body = json.dumps(
                    {
                        "submission_id": f"bench-{number}",
                        "email": email,
                        "name": "Bench",
                        "subject": f"Question {number}",
                        "message": "How do I?",
                    }
                ).encode()
                timestamp, signature = sign_timestamped(secret, body, clock.now())
                response = client.http.post(
                    "/webhooks/form",
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Promptly-Timestamp": timestamp,
                        "X-Promptly-Signature": signature,
                    },
                )
                assert response.status_code == 200, response.body

            post(-1)  # warm: clients, queue URL, config, calendars
            counter = CallCounter()
            counter.attach_all()
            started = time.perf_counter()
            for number in range(count):
                post(number)
            elapsed = time.perf_counter() - started
    per_ticket = counter.total() / count
    rows = [
        ("tickets", str(count)),
        ("seconds", f"{elapsed:.2f}"),
        ("tickets/second", f"{count / elapsed:.1f}"),
        ("AWS calls per ticket", f"{per_ticket:.2f}  (target <= 3)"),
        ("peak RSS (process)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
    ]
    rows += [
        (f"  {operation}", f"{calls / count:.2f} per ticket") for operation, calls in sorted(counter.calls.items())
    ]
    return rows


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(table(f"Intake: {n} new customers, webhook path, in-process moto", run(n)))
    print()
    print(table(f"Intake: {n} tickets from 20 returning customers", run(n, returning=20)))
