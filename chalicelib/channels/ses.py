"""Inbound email the AWS way: SES stores the raw MIME in S3 and notifies SNS; this reads it.

The SNS message is SES's "Received" notification; its `receipt.action` names the bucket
and key. SES's own spam and virus verdicts count as reasons never to acknowledge.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib import aws
from chalicelib.channels.base import Inbound
from chalicelib.channels.email import parse_email

MAX_RAW_BYTES = 10 * 1024 * 1024  # SES accepts up to 40 MB; past 10 MB we keep the text only


class NotAnEmail(ValueError):
    """The SNS message is not an SES receipt notification with an S3 action."""


def location(notification: dict[str, Any]) -> tuple[str, str]:
    action = notification.get("receipt", {}).get("action", {})
    if notification.get("notificationType") != "Received" or action.get("type") != "S3":
        raise NotAnEmail("expected an SES 'Received' notification with an S3 action")
    return action["bucketName"], action["objectKey"]


def read(sns_message: str, received_at: datetime) -> Inbound:
    try:
        notification = json.loads(sns_message)
    except json.JSONDecodeError:
        raise NotAnEmail("SNS message is not JSON") from None
    bucket, key = location(notification)
    raw = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_RAW_BYTES - 1}")["Body"].read()
    fallback_id = notification.get("mail", {}).get("messageId") or key
    message = parse_email(raw, received_at=received_at, fallback_id=fallback_id, raw_ref=f"s3://{bucket}/{key}")
    verdict = _verdict(notification.get("receipt", {}))
    return replace(message, automated=message.automated or verdict)


def _verdict(receipt: dict[str, Any]) -> str | None:
    for name in ("virusVerdict", "spamVerdict"):
        if receipt.get(name, {}).get("status") == "FAIL":
            return f"ses {name} FAIL"
    return None
