"""Drive the real app the way AWS would: HTTP through Chalice's test client, SNS and SQS
events into the real handlers, with a frozen clock the test moves on purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import time_machine
from chalice.test import Client

from chalicelib import clock
from chalicelib.signing import hmac_hex, timestamped, unix_seconds
from tools.local import sqs_event

KYIV = ZoneInfo("Europe/Kyiv")
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=KYIV)


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented scheme: base64 HMAC-SHA1 of the URL plus each name+value, sorted."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def website_headers(
    secret: str, body: bytes, *, timestamp: str | None = None, signature: str | None = None
) -> dict[str, str]:
    """What the website's server sends with a form or chat post: `X-Promptly-Timestamp` (now on
    the machine's clock, which the website's is synchronised with, unless given) and `X-Promptly-Signature` over "<timestamp>.<body>" (unless
    given). An empty string leaves that header out."""
    stamp = unix_seconds(clock.machine_now()) if timestamp is None else timestamp
    signed = "sha256=" + hmac_hex(secret, timestamped(stamp, body)) if signature is None else signature
    headers = {"Content-Type": "application/json"}
    if stamp:
        headers["X-Promptly-Timestamp"] = stamp
    if signed:
        headers["X-Promptly-Signature"] = signed
    return headers


def local_stage_env(root: Path) -> dict[str, str]:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    return config["stages"]["local"]["environment_variables"]


def in_a_fresh_interpreter(script: str, *args: str, cwd: Path, root: Path) -> dict[str, Any]:
    """Run `script` in a new Python (as a cold Lambda would start) on the local stage's
    environment with moto's fake credentials, and return the JSON object its last line prints."""
    env = {
        **local_stage_env(root),
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


class Desk:
    """The app on moto with a clock frozen at MONDAY_MORNING (Kyiv) until a test moves it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = local_stage_env(root)
        self.form_secret = self.env["PROMPTLY_SECRET_FORM_SECRET"]
        self.chat_secret = self.env["PROMPTLY_SECRET_CHAT_SECRET"]

    def __enter__(self) -> Self:
        import app as app_module

        self._travel = time_machine.travel(MONDAY_MORNING, tick=False)
        self.traveller = self._travel.start()
        self.app = app_module.app
        self.client = Client(self.app, stage_name="local", project_dir=str(self.root))
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)
        self._travel.stop()

    # time -------------------------------------------------------------------------------
    def at(self, moment: datetime) -> None:
        self.traveller.move_to(moment)

    def advance(self, delta: timedelta) -> None:
        self.traveller.shift(delta)

    # inbound ----------------------------------------------------------------------------
    def post_form(
        self,
        payload: dict[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        signature: str | None = None,
        content_type: str = "application/json",
        timestamp: str | None = None,
    ) -> Any:
        """Signed as the website's server signs (see `website_headers`); `signature` and
        `timestamp` replace the right ones, "" leaves one out."""
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {
            **website_headers(self.form_secret, body, timestamp=timestamp, signature=signature),
            "Content-Type": content_type,
        }
        return self.client.http.post("/webhooks/form", headers=headers, body=body)

    def post_telegram(self, update: dict[str, Any], *, secret: str | None = None) -> Any:
        token = self.env["PROMPTLY_SECRET_TELEGRAM_SECRET_TOKEN"] if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        return self.client.http.post("/webhooks/telegram", headers=headers, body=json.dumps(update))

    def post_viber(self, event: dict[str, Any], *, signature: str | None = None) -> Any:
        body = json.dumps(event).encode()
        signed = hmac_hex(self.env["PROMPTLY_SECRET_VIBER_AUTH_TOKEN"], body) if signature is None else signature
        headers = {"Content-Type": "application/json", "X-Viber-Content-Signature": signed}
        return self.client.http.post("/webhooks/viber", headers=headers, body=body)

    def post_twilio(self, params: dict[str, str], *, signature: str | None = None) -> Any:
        url = f"{self.env['PROMPTLY_PUBLIC_URL']}/webhooks/twilio"
        signed = (
            twilio_signature(self.env["PROMPTLY_SECRET_TWILIO_AUTH_TOKEN"], url, params)
            if signature is None
            else signature
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signed}
        return self.client.http.post("/webhooks/twilio", headers=headers, body=urlencode(params))

    def post_chat(self, payload: dict[str, Any], *, timestamp: str | None = None) -> Any:
        body = json.dumps(payload).encode()
        headers = website_headers(self.chat_secret, body, timestamp=timestamp)
        return self.client.http.post("/webhooks/chat", headers=headers, body=body)

    def api(self, method: str, path: str, token: str | None, payload: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps(payload) if payload is not None else None
        return getattr(self.client.http, method.lower())(path, headers=headers, body=body)

    def deliver_email(
        self,
        raw: bytes,
        key: str = "ses-message-1",
        *,
        verdicts: dict[str, str] | None = None,
        source: str = "bounces@mail.example",
        headers: list[dict[str, str]] | None = None,
    ) -> None:
        """What SES does: store the raw MIME in S3, then notify SNS → our handler. SES's SPF,
        DKIM and DMARC verdicts pass unless `verdicts` says otherwise ({"dmarc": "FAIL", ...})."""
        self.client.lambda_.invoke(
            "inbound_email", self.email_event(raw, key, verdicts=verdicts, source=source, headers=headers)
        )

    def email_event(
        self,
        raw: bytes,
        key: str = "ses-message-1",
        *,
        verdicts: dict[str, str] | None = None,
        source: str = "bounces@mail.example",
        headers: list[dict[str, str]] | None = None,
    ) -> Any:
        """The raw MIME stored in S3, and the SNS event SES's notification becomes (not yet delivered)."""
        from chalicelib import aws, stage

        aws.client("s3").put_object(Bucket=stage.inbound_bucket(), Key=key, Body=raw)
        checks = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS", **(verdicts or {})}
        notification = {
            "notificationType": "Received",
            "mail": {
                "messageId": key,
                "source": source,
                "destination": ["support@promptly.example"],
                "headers": headers or [],
            },
            "receipt": {
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "PASS"},
                **{f"{name}Verdict": {"status": status} for name, status in checks.items()},
                "action": {
                    "type": "S3",
                    "topicArn": "arn:aws:sns:eu-central-1:123456789012:inbound",
                    "bucketName": stage.inbound_bucket(),
                    "objectKey": key,
                },
            },
        }
        return self.client.events.generate_sns_event(
            message=json.dumps(notification), subject="Amazon SES Email Receipt Notification"
        )

    def ses_feedback(self, notification: dict[str, Any] | str) -> None:
        """What SES does after a bounce or a complaint: publish to the feedback topic → our handler."""
        message = notification if isinstance(notification, str) else json.dumps(notification)
        self.client.lambda_.invoke("ses_feedback", self.client.events.generate_sns_event(message=message))

    # outbox -----------------------------------------------------------------------------
    def pump(self, rounds: int = 20) -> int:
        """Run the outbox worker like Lambda's SQS poller until the queue is empty, moving the
        clock past each retry backoff. Returns how many deliveries ended in an error."""
        from chalicelib import aws, stage

        sqs = aws.client("sqs")
        url = aws.queue_url(stage.outbox_queue())
        failures = 0
        for _ in range(rounds):
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
            if not batch:
                if not self._in_flight(url):
                    return failures
                self.advance(timedelta(minutes=16))  # past the longest backoff
                continue
            message = batch[0]
            try:
                self.client.lambda_.invoke("outbox_worker", sqs_event(message))
            except Exception:  # noqa: BLE001 (Lambda reports any error; SQS redelivers after the backoff)
                failures += 1
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return failures

    def _in_flight(self, url: str) -> bool:
        from chalicelib import aws

        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"]) > 0

    def dead_letters(self) -> list[dict[str, Any]]:
        from chalicelib import aws, stage

        sqs = aws.client("sqs")
        url = aws.queue_url(stage.resource("outbox-dlq"))
        return [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        ]

    def sent_mail(self) -> list[dict[str, Any]]:
        response = self.client.http.get("/dev/outbox")
        assert response.status_code == 200, response.body
        return response.json_body["messages"]
