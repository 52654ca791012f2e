"""Inbound email the AWS way: SES stores the raw MIME in S3 and notifies SNS; this reads it.

The SNS message is SES's "Received" notification; its `receipt.action` names the bucket
and key. SES's own spam and virus verdicts count as reasons never to acknowledge, and its
SPF, DKIM and DMARC verdicts say whether the From address is really the sender's
(`authentication`): DMARC pass, or — where the domain publishes no DMARC policy — an SPF or
DKIM pass for the From domain itself (aligned), counts as authenticated.

SES's virus verdict decides what becomes of the mail's files (`screened`): FAIL quarantines
every one of them (listed and labelled, their bytes never handed on); GRAY (SES could not tell)
and PROCESSING_FAILED (the scan did not run) keep them with a label saying they were not
scanned — as every messenger's file is — because quarantining those would also take from
agents the password-protected archives and the odd formats customers send in good faith.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib import aws, log
from chalicelib.channels.base import AUTHENTICATED, UNAUTHENTICATED, Inbound
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
    raw, size = fetch(bucket, key)
    fallback_id = notification.get("mail", {}).get("messageId") or key
    message = parse_email(
        raw, received_at=received_at, fallback_id=fallback_id, raw_ref=f"s3://{bucket}/{key}", size=size
    )
    verdict = _verdict(notification.get("receipt", {}))
    trust, auth = authentication(notification, message.email)
    message = screened(message, _status(notification.get("receipt") or {}, "virusVerdict"))
    return replace(message, automated=message.automated or verdict, trust=trust, auth=auth)


def fetch(bucket: str, key: str) -> tuple[bytes, int]:
    """(the raw mail's first MAX_RAW_BYTES, the whole object's size): what intake parsed, and
    what an agent's "show the whole message" reads again (chalicelib/originals.py)."""
    stored = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_RAW_BYTES - 1}")
    raw = stored["Body"].read()
    return raw, _object_size(stored, len(raw))


QUARANTINED = "SES found a virus in this mail: listed, never kept"
_UNSCANNED = {
    "GRAY": "not scanned for viruses: SES could not tell (GRAY)",
    "PROCESSING_FAILED": "not scanned for viruses: SES's scan failed (PROCESSING_FAILED)",
}


def screened(message: Inbound, virus_verdict: str) -> Inbound:
    """The message with its files as SES's virus verdict (PASS, FAIL, GRAY, PROCESSING_FAILED,
    DISABLED or "") leaves them: quarantined without their bytes on FAIL, labelled when SES
    could not scan; the text reaches the ticket whatever the verdict."""
    if virus_verdict == "FAIL":
        if message.attachments:
            log.warning("virus verdict FAIL: files quarantined", files=len(message.attachments))
        return replace(
            message,
            attachments=tuple(
                replace(a, data=None, quarantined=True, refused=QUARANTINED) for a in message.attachments
            ),
        )
    note = _UNSCANNED.get(virus_verdict)
    if note is None:
        return message
    return replace(message, attachments=tuple(replace(a, note=note) for a in message.attachments))


def _object_size(stored: Mapping[str, Any], read: int) -> int:
    """The whole object's size, from the ranged answer's "bytes 0-N/SIZE"; `read` if absent
    (S3 answers a range that covers the object with a plain 200 and no Content-Range)."""
    match = re.fullmatch(r"bytes \d+-\d+/(\d+)", str(stored.get("ContentRange") or ""))
    return int(match.group(1)) if match else read


def authentication(notification: dict[str, Any], sender: str | None) -> tuple[str, str]:
    """(trust, how) for the From address `sender`, from what SES checked on receipt.

    DMARC decides when the domain has a policy. Without one (SES says GRAY), an SPF pass
    counts only for an envelope sender in the From domain, and a DKIM pass only when every
    signature is the From domain's: a pass for some other domain proves nothing about From.
    """
    receipt, mail = notification.get("receipt") or {}, notification.get("mail") or {}
    verdicts = {name: _status(receipt, f"{name}Verdict") for name in ("spf", "dkim", "dmarc")}
    how = " ".join(f"{name}={status.lower() or 'none'}" for name, status in verdicts.items())
    if sender is None or verdicts["dmarc"] == "FAIL":
        return UNAUTHENTICATED, how
    domain = sender.rpartition("@")[2]
    if verdicts["dmarc"] == "PASS":
        return AUTHENTICATED, how
    if verdicts["spf"] == "PASS" and aligned(str(mail.get("source") or "").rpartition("@")[2], domain):
        return AUTHENTICATED, f"{how} (spf aligned)"
    signers = _dkim_domains(mail.get("headers"))
    if verdicts["dkim"] == "PASS" and signers and all(aligned(signer, domain) for signer in signers):
        return AUTHENTICATED, f"{how} (dkim aligned)"
    return UNAUTHENTICATED, how


def aligned(one: str, other: str) -> bool:
    """DMARC's relaxed alignment, conservatively: the same domain, or one a subdomain of the
    other (sibling subdomains are not trusted without the public suffix list)."""
    one, other = one.lower().strip(". "), other.lower().strip(". ")
    return bool(one and other) and (one == other or one.endswith(f".{other}") or other.endswith(f".{one}"))


def _status(receipt: dict[str, Any], name: str) -> str:
    verdict = receipt.get(name)
    return str(verdict.get("status") or "").upper() if isinstance(verdict, dict) else ""


_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)")


def _dkim_domains(headers: Any) -> list[str]:
    """The `d=` domain of every DKIM-Signature header SES listed in the notification."""
    found = []
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "dkim-signature":
            match = _DKIM_DOMAIN.search(str(header.get("value", "")))
            found.append(match.group(1) if match else "")
    return found


def _verdict(receipt: dict[str, Any]) -> str | None:
    for name in ("virusVerdict", "spamVerdict"):
        if receipt.get(name, {}).get("status") == "FAIL":
            return f"ses {name} FAIL"
    return None
