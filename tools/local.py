"""Run the whole desk on this machine: an embedded AWS (moto server on loopback), every
resource created, the HTTP API served by Chalice, and what Lambda would do in the cloud —
the outbox worker, the schedules, and inbound mail (drop an .eml into local/inbox/).

    python -m tools.local [--port 8000] [--aws-port 8001] [--providers-port 8002]
    python -m tools.local --url        the running desk's address (for DESK=$(...) in a shell)
    python -m tools.local --providers-url   its fake providers' address (files a customer "sends")

The ports are written to local/desk.json while the desk runs (tools/local_desk.py): every
tool's `--local` follows it. A port that is taken stops the desk at once with one line naming
the port and the option that moves it.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chalicelib import aws, clock, dev_clock, devtools, stage  # none reads the environment at import: the models do
from tools import local_desk
from tools.local_desk import ROOT, Ports, stage_environment

MAX_INBOX_TRIES = 3  # like Lambda's asynchronous invocation (SNS → inbound_email): one try, two retries

# port → (what listens there, the make variable and the option that move it)
PORT_OPTIONS = {
    "api": ("the API", "PORT", "--port"),
    "aws": ("the embedded AWS", "AWS_PORT", "--aws-port"),
    "providers": ("the fake providers", "PROVIDERS_PORT", "--providers-port"),
}


def taken(ports: Ports, which: str) -> str:
    """One line a person can act on: the port, what wanted it, and how to move it."""
    what, variable, option = PORT_OPTIONS[which]
    port = getattr(ports, which)
    return (
        f"port {port} ({what}) is taken: stop what uses it, or move {what} with "
        f"`make run {variable}=<port>` (python -m tools.local {option} <port>)"
    )


def refuse_busy_ports(ports: Ports) -> None:
    """Stop at once, naming the first busy port: before any server starts, so nothing hangs
    (moto's threaded server never reports a port it could not bind)."""
    if len({ports.api, ports.aws, ports.providers}) < 3:
        raise SystemExit(
            f"the API, the embedded AWS and the fake providers need three different ports, not "
            f"{ports.api}, {ports.aws} and {ports.providers} (PORT, AWS_PORT, PROVIDERS_PORT)"
        )
    for which in PORT_OPTIONS:
        if _busy(getattr(ports, which)):
            raise SystemExit(taken(ports, which))


def _busy(port: int) -> bool:
    with socket.socket() as probe:
        # as the servers bind: a connection still closing (TIME_WAIT) does not hold the port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((local_desk.HOST, port))
        except OSError:
            return True
    return False


def listening(ports: Ports, which: str, start: Callable[[], None]) -> None:
    """`start` a server; a port taken since `refuse_busy_ports` looked is the same one line."""
    try:
        start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SystemExit(taken(ports, which)) from None
        raise


def start_embedded_aws(port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    from tools.moto_isolation import isolate_dynamodb

    isolate_dynamodb()  # else a cancelled transaction can undo a concurrent request's write
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines drown the desk's
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    devtools.embedded_aws_in_this_process()  # the outbox reads sent mail from memory, only what is new
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local"
    )


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


OUTBOX_ARN = "arn:aws:sqs:eu-central-1:123456789012:promptly-local-outbox"  # as moto names the local outbox


def sqs_event(message: Mapping[str, Any], source: str = OUTBOX_ARN) -> dict[str, Any]:
    """The event Lambda hands a queue's function for one received SQS message (batch size 1)."""
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source,
        "awsRegion": stage.region(),
    }
    return {"Records": [record]}


class FakeContext:
    """Enough of Lambda's context object for Chalice and Powertools."""

    function_name = "promptly-local"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:promptly-local"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def forever(name: str, step: Callable[[], object], pause: float) -> None:
    """Run `step` in a daemon thread until the process ends; a failing step is reported, not fatal."""

    def loop() -> None:
        while True:
            try:
                step()
            except Exception as error:  # noqa: BLE001 (any failure: the cloud would log it and retry; so do we)
                print(f"[{name}] {type(error).__name__}: {error}", file=sys.stderr)
            time.sleep(pause)

    threading.Thread(target=loop, name=name, daemon=True).start()


def poll_outbox(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[], None]:
    """What Lambda's SQS event source does: receive, invoke, delete on success."""
    from chalicelib import aws, stage

    def step() -> None:
        sqs = aws.client("sqs")
        url = aws.queue_url(stage.outbox_queue())
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", []):
            handler(sqs_event(message, url), FakeContext())  # raises: message stays, backoff set
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
            for item in line[len(VERDICTS_HEADER) :].decode("ascii", "replace").split():
                name, _, status = item.partition("=")
                if name.lower() in verdicts:
                    verdicts[name.lower()] = status.upper()
    return {f"{name}Verdict": {"status": status} for name, status in verdicts.items()}


class Inbox:
    """What SES and Lambda do with inbound mail: each `.eml` dropped into local/inbox/ is stored
    raw in S3 and handed to `inbound_email` as an SNS notification, then moved to processed/.
    A file that fails is tried again on the next turn, and after MAX_INBOX_TRIES moves to failed/
    with `<name>.error.txt` beside it saying why (a deployed stage parks the event in its
    dead-letter queue); it never holds up the files after it. `make redrive STAGE=local` puts
    failed files back."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any], folder: Path) -> None:
        self.handler = handler
        self.folder = folder
        self.tries: Counter[str] = Counter()
        for sub in ("processed", "failed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def step(self) -> None:
        for path in sorted(self.folder.glob("*.eml")):
            try:
                self.deliver(path.read_bytes())
            except Exception as error:  # noqa: BLE001 (any failure: the cloud would retry it, then park it; so do we)
                self.failed(path, error)
                continue
            self.tries.pop(path.name, None)
            shutil.move(str(path), str(self.folder / "processed" / path.name))
            print(f"[inbox] delivered {path.name}")

    def deliver(self, raw: bytes) -> None:
        key = f"local-{uuid.uuid4().hex}"
        aws.client("s3").put_object(Bucket=stage.inbound_bucket(), Key=key, Body=raw)
        notification = {
            "notificationType": "Received",
            "mail": {"messageId": key},
            "receipt": {
                **local_verdicts(raw),
                "action": {"type": "S3", "bucketName": stage.inbound_bucket(), "objectKey": key},
            },
        }
        self.handler(
            {
                "Records": [
                    {
                        "EventSource": "aws:sns",
                        "Sns": {
                            "Message": json.dumps(notification),
                            "Subject": "Amazon SES Email Receipt Notification",
                            "MessageId": key,
                            "TopicArn": "local",
                            "MessageAttributes": {},
                            "Timestamp": "",
                        },
                    }
                ]
            },
            FakeContext(),
        )

    def failed(self, path: Path, error: Exception) -> None:
        self.tries[path.name] += 1
        said = f"{type(error).__name__}: {error}"
        if self.tries[path.name] < MAX_INBOX_TRIES:
            print(
                f"[inbox] {path.name} failed (try {self.tries[path.name]} of {MAX_INBOX_TRIES}): {said}",
                file=sys.stderr,
            )
            return
        parked = self.folder / "failed" / path.name
        shutil.move(str(path), str(parked))
        parked.with_name(f"{path.name}.error.txt").write_text(
            f"{said}\n\nfailed {MAX_INBOX_TRIES} times; after fixing the cause: make redrive STAGE=local\n\n"
            + "".join(traceback.format_exception(error)),
            encoding="utf-8",
        )
        self.tries.pop(path.name, None)
        print(f"[inbox] {path.name} failed {MAX_INBOX_TRIES} times: moved to {parked} ({said})", file=sys.stderr)


class Schedules:
    """What EventBridge does: every scheduled function, once a minute here (hourly ones too:
    they decide for themselves whether their hour has come) — and at once when a person moves
    the desk's clock (chalicelib/dev_clock.py), so the effect shows within seconds."""

    def __init__(self, app: Any) -> None:
        from chalice.app import ScheduledEventConfig

        self.handlers = [
            (source.name, getattr(sys.modules["app"], source.name))
            for source in app.event_sources
            if isinstance(source, ScheduledEventConfig)
        ]
        self._lock = threading.Lock()  # the ticker and a clock move never run them side by side

    def run(self) -> list[str]:
        """Run each once; returns the names of those that finished (a failure is reported)."""
        ran = []
        with self._lock:
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "000000000000",
                "region": os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"),
                "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "resources": [],
                "detail": {},
            }
            for name, handler in self.handlers:
                try:
                    handler(event, FakeContext())
                    ran.append(name)
                except Exception as error:  # noqa: BLE001 (any failure: the cloud would log it and run it again next time)
                    print(f"[schedules] {name}: {type(error).__name__}: {error}", file=sys.stderr)
        return ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROMPTLY_PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("PROMPTLY_AWS_PORT", "8001")))
    parser.add_argument("--providers-port", type=int, default=int(os.environ.get("PROMPTLY_PROVIDERS_PORT", "8002")))
    parser.add_argument("--url", action="store_true", help="print the running desk's address and exit")
    parser.add_argument(
        "--providers-url", action="store_true", help="print the running desk's fake providers' address and exit"
    )
    args = parser.parse_args()
    if args.url or args.providers_url:
        running = local_desk.running()
        print(running.api_url if args.url else running.providers_url)
        return
    ports = Ports(args.port, args.aws_port, args.providers_port)
    refuse_second_desk()
    refuse_busy_ports(ports)

    os.environ.update(stage_environment("local"))
    os.environ["PROMPTLY_PUBLIC_URL"] = ports.api_url
    start_embedded_aws(ports.aws)
    listening(ports, "providers", lambda: start_fake_providers(ports.providers))
    sys.path.insert(0, str(ROOT))
    from infra.local import create_resources

    create_resources()
    import app as app_module

    listening(ports, "api", lambda: serve_http(app_module.app, ports.api))
    schedules = Schedules(app_module.app)
    dev_clock.after_move(schedules.run)
    forever("outbox", poll_outbox(app_module.outbox_worker), 0.05)
    forever("inbox", Inbox(app_module.inbound_email, local_desk.inbox()).step, 0.5)
    forever("schedules", schedules.run, 60)
    local_desk.record(ports)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it as Ctrl-C does: state file removed
    print(banner(ports), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nPromptly stopped; the embedded AWS and everything in it are gone.")
    finally:
        local_desk.forget()


def refuse_second_desk() -> None:
    """One desk per checkout: two would share local/inbox/ and the tools could not tell which to follow."""
    found = local_desk.recorded()
    if found is not None:
        pid, ports = found
        raise SystemExit(f"a local desk already runs here (pid {pid}, {ports.api_url}): stop it first, or use that one")


def banner(ports: Ports) -> str:
    base = ports.api_url
    python = _python()
    return f"""
Promptly is running on an embedded AWS (moto at {ports.aws_url}),
with fake Telegram/Viber/Twilio/chat APIs at {ports.providers_url}.
  API            {base}
  Console        {base}/console   (the agents': an agent's email, then the code in the outbox;
                 no agent yet? {python} -m tools.create_admin --local --first You --last Agent --email you@example.com)
  Local outbox   {base}/dev/mail   (JSON: {base}/dev/outbox)
  Try the form   {python} -m tools.send_form --email you@example.com --message "Hello"
  Try an email   cp tests/fixtures/email/gmail_plain_en.eml {_shown(local_desk.inbox())}/
  Move the clock {python} -m tools.clock +3h        (the SLA watch and the digest follow it)
  Other channels DESK={base}, then README.md "See an acknowledgement" (one curl per channel)
The tools find this desk by themselves (its ports are in {_shown(local_desk.state_file())}).
Stop with Ctrl-C. Everything lives in memory and is gone when you stop.
"""


def _python() -> str:
    """This interpreter as a person would type it from the repository root (.venv/bin/python)."""
    return _shown(Path(sys.executable))


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    main()
