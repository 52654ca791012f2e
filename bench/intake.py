"""Form submissions through the real webhook handler, in-process on moto; then email through
the real SES handler, without and with attachments.

    python -m bench.intake [N] [FILES]

Prints tickets/second, AWS API calls per new ticket on the webhook path (target: at most 3 —
one BatchGetItem lookup, one TransactWriteItems, one SQS send), and the process's peak resident memory.
moto is far slower than DynamoDB, so tickets/second measures our overhead plus moto's.
The email table counts the calls of the inbound handler per new ticket (the raw mail's GetObject
on top of the three), for mails with no file and with FILES files (default 3), and what one
kept file adds (one PutObject into the files bucket).
"""

from __future__ import annotations

import base64
import json
import resource
import sys
import time
from collections import Counter
from typing import Any

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


def email_calls(count: int, files: int) -> Counter[str]:
    """AWS calls of the inbound email handler for `count` mails from new customers, each with
    `files` attachments (a small PNG each, distinct bytes), summed by operation."""
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import aws, stage

    with mock_aws():
        from infra.local import create_resources

        create_resources()
        import app as app_module

        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
            events = [
                client.events.generate_sns_event(message=_stored_mail(n, files, aws, stage)) for n in range(-1, count)
            ]
            client.lambda_.invoke("inbound_email", events[0])  # warm: clients, config, the parser's imports
            counter = CallCounter()
            counter.attach_all()
            for event in events[1:]:
                client.lambda_.invoke("inbound_email", event)
    return Counter(counter.calls)  # as it stands now: the counter stays on the clients, which outlive this run


def _stored_mail(number: int, files: int, aws: Any, stage: Any) -> str:
    """A mail with `files` attachments put in the inbound bucket (SES's work, not counted), and
    the SNS message that tells the handler."""
    parts = [f"--b\r\nContent-Type: text/plain\r\n\r\nHow do I export? ({number})\r\n"]
    for index in range(files):
        image = base64.b64encode(PNG + number.to_bytes(4, "big", signed=True) + bytes([index])).decode()
        parts.append(
            f'--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="shot-{index}.png"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{image}\r\n"
        )
    raw = (
        f"From: Customer <c{number}@example.com>\r\nTo: support@promptly.example\r\nSubject: Export {number}\r\n"
        f'Message-ID: <bench-{files}-{number}@example.com>\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + "".join(parts)
        + "--b--\r\n"
    ).encode()
    key = f"bench-{files}-{number}"
    aws.client("s3").put_object(Bucket=stage.inbound_bucket(), Key=key, Body=raw)
    verdicts = {f"{name}Verdict": {"status": "PASS"} for name in ("spam", "virus", "spf", "dkim", "dmarc")}
    action = {"type": "S3", "bucketName": stage.inbound_bucket(), "objectKey": key}
    return json.dumps(
        {"notificationType": "Received", "mail": {"messageId": key}, "receipt": {**verdicts, "action": action}}
    )


# A real 1×1 PNG: the desk sniffs each kept file's type from its bytes.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def email_rows(count: int, files: int) -> list[tuple[str, str]]:
    bare, with_files = email_calls(count, 0), email_calls(count, files)
    per_bare, per_files = sum(bare.values()) / count, sum(with_files.values()) / count
    rows = [
        ("mails (new customers)", f"{count} without files, {count} with {files}"),
        ("AWS calls per mail, no file", f"{per_bare:.2f}  (the form's 3 + the raw mail's GetObject)"),
        (f"AWS calls per mail, {files} files", f"{per_files:.2f}"),
        ("each attachment adds", f"{(per_files - per_bare) / files:.2f}  (expected: 1 PutObject per kept file)"),
    ]
    operations = sorted(set(bare) | set(with_files))
    return rows + [
        (f"  {operation}", f"{bare[operation] / count:.2f} → {with_files[operation] / count:.2f} per mail")
        for operation in operations
    ]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    attached = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(table(f"Intake: {n} new customers, webhook path, in-process moto", run(n)))
    print()
    print(table(f"Intake: {n} tickets from 20 returning customers", run(n, returning=20)))
    print()
    print(table(f"Intake by email: {n} new customers, SES handler, in-process moto", email_rows(n, attached)))
