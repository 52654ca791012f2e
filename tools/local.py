"""Run the whole desk on this machine: an embedded AWS (moto server on loopback), every
resource created, the HTTP API served by Chalice, and what Lambda would do in the cloud —
the outbox worker, the schedules, and inbound mail (drop an .eml into local/inbox/).

    python -m tools.local [--port 8000] [--aws-port 8001]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "local" / "inbox"


def stage_environment(stage: str = "local") -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def start_embedded_aws(port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    from tools.moto_isolation import isolate_dynamodb

    isolate_dynamodb()  # else a cancelled transaction can undo a concurrent request's write
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines drown the desk's
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="local",
                      AWS_SECRET_ACCESS_KEY="local")


def start_fake_providers(port: int) -> None:
    """Telegram/Viber/Twilio/chat send APIs on loopback: replies land in the local outbox."""
    from tools.fake_providers import FakeProviders

    fake = FakeProviders(port).start()
    for name in ("TELEGRAM", "VIBER", "TWILIO"):
        os.environ[f"PROMPTLY_{name}_API"] = fake.base
    os.environ["PROMPTLY_CHAT_REPLY_URL"] = f"{fake.base}/chat/replies"
    os.environ["PROMPTLY_FAKE_PROVIDERS_URL"] = fake.base


def serve_http(app: Any, port: int) -> None:
    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    config = CLIFactory(project_dir=str(ROOT), environ=os.environ).create_config_obj(chalice_stage_name="local")
    server = create_local_server(app, config, "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()


class FakeContext:
    """Enough of Lambda's context object for Chalice and Powertools."""

    function_name = "promptly-local"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:promptly-local"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def forever(name: str, step: Callable[[], None], pause: float) -> None:
    """Run `step` in a daemon thread until the process ends; a failing step is reported, not fatal."""
    def loop() -> None:
        while True:
            try:
                step()
            except Exception as error:  # the cloud would log it and retry; so do we
                print(f"[{name}] {type(error).__name__}: {error}", file=sys.stderr)
            time.sleep(pause)

    threading.Thread(target=loop, name=name, daemon=True).start()


def poll_outbox(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[], None]:
    """What Lambda's SQS event source does: receive, invoke, delete on success."""
    from chalicelib import aws, stage

    def step() -> None:
        sqs = aws.client("sqs")
        url = aws.queue_url(stage.outbox_queue())
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                           AttributeNames=["All"]).get("Messages", []):
            record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                      "body": message["Body"], "attributes": message.get("Attributes", {}),
                      "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": url}
            handler({"Records": [record]}, FakeContext())  # raises: message stays, backoff set
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return step


# Locally nobody checks SPF, DKIM or DMARC: a dropped mail passes them, unless it carries this
# header, e.g. "X-Local-SES-Verdicts: dmarc=FAIL spf=FAIL", to see what the desk does with forgeries.
VERDICTS_HEADER = b"x-local-ses-verdicts:"


def local_verdicts(raw: bytes) -> dict[str, dict[str, str]]:
    """SES's receipt verdicts for a dropped file: PASS, or what its VERDICTS_HEADER asks."""
    verdicts = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    for line in head.splitlines():
        if line.lower().startswith(VERDICTS_HEADER):
            for item in line[len(VERDICTS_HEADER):].decode("ascii", "replace").split():
                name, _, status = item.partition("=")
                if name.lower() in verdicts:
                    verdicts[name.lower()] = status.upper()
    return {f"{name}Verdict": {"status": status} for name, status in verdicts.items()}


def watch_inbox(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[], None]:
    """What SES does with inbound mail: raw MIME to S3, then an SNS notification."""
    from chalicelib import aws, stage

    def step() -> None:
        for path in sorted(INBOX.glob("*.eml")):
            key = f"local-{uuid.uuid4().hex}"
            raw = path.read_bytes()
            aws.client("s3").put_object(Bucket=stage.inbound_bucket(), Key=key, Body=raw)
            notification = {"notificationType": "Received", "mail": {"messageId": key},
                            "receipt": {**local_verdicts(raw),
                                        "action": {"type": "S3", "bucketName": stage.inbound_bucket(),
                                                   "objectKey": key}}}
            handler({"Records": [{"EventSource": "aws:sns", "Sns": {
                "Message": json.dumps(notification), "Subject": "Amazon SES Email Receipt Notification",
                "MessageId": key, "TopicArn": "local", "MessageAttributes": {}, "Timestamp": ""}}]}, FakeContext())
            shutil.move(str(path), str(INBOX / "processed" / path.name))
            print(f"[inbox] delivered {path.name}")
    return step


def run_schedules(app: Any) -> Callable[[], None]:
    """What EventBridge does: call every scheduled function once a minute."""
    from chalice.app import ScheduledEventConfig  # type: ignore[attr-defined]

    handlers = [getattr(sys.modules["app"], source.name) for source in app.event_sources
                if isinstance(source, ScheduledEventConfig)]

    def step() -> None:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "000000000000", "region": os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"),
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "resources": [], "detail": {}}
        for handler in handlers:
            handler(event, FakeContext())
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROMPTLY_PORT", 8000)))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("PROMPTLY_AWS_PORT", 8001)))
    parser.add_argument("--providers-port", type=int, default=int(os.environ.get("PROMPTLY_PROVIDERS_PORT", 8002)))
    args = parser.parse_args()

    os.environ.update(stage_environment("local"))
    os.environ["PROMPTLY_PUBLIC_URL"] = f"http://127.0.0.1:{args.port}"
    start_embedded_aws(args.aws_port)
    start_fake_providers(args.providers_port)
    sys.path.insert(0, str(ROOT))
    from infra.local import create_resources

    create_resources()
    import app as app_module

    (INBOX / "processed").mkdir(parents=True, exist_ok=True)
    serve_http(app_module.app, args.port)
    forever("outbox", poll_outbox(app_module.outbox_worker), 0.05)
    forever("inbox", watch_inbox(app_module.inbound_email), 0.5)
    forever("schedules", run_schedules(app_module.app), 60)
    print(banner(args.port, args.aws_port, args.providers_port), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nPromptly stopped; the embedded AWS and everything in it are gone.")


def banner(port: int, aws_port: int, providers_port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    return f"""
Promptly is running on an embedded AWS (moto at http://127.0.0.1:{aws_port}),
with fake Telegram/Viber/Twilio/chat APIs at http://127.0.0.1:{providers_port}.
  API            {base}
  Local outbox   {base}/dev/mail   (JSON: {base}/dev/outbox)
  Try the form   python -m tools.send_form --email you@example.com --message "Hello"
  Try an email   cp tests/fixtures/email/gmail_plain_en.eml local/inbox/
  Other channels see README.md, "See an acknowledgement" (one curl per channel)
Stop with Ctrl-C. Everything lives in memory and is gone when you stop.
"""


if __name__ == "__main__":
    main()
