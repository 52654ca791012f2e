"""Outbound email: a MIME message with threading headers, sent through SES.

Every automatic message carries `Auto-Submitted: auto-replied` (RFC 3834) and
`X-Auto-Response-Suppress` so other desks and out-of-office robots never answer it,
and `In-Reply-To`/`References` so the customer's reply threads back into the ticket.
"""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from chalicelib import aws
from chalicelib.render import Rendered


@dataclass(frozen=True)
class Envelope:
    sender: str
    sender_name: str
    to: str
    to_name: str
    language: str
    in_reply_to: str | None = None
    automatic: bool = True


def message_id(sender: str, job_id: str) -> str:
    """A Message-ID derived from the job, so a retried send reuses it: '<job.xxx@domain>'."""
    domain = sender.rsplit("@", 1)[-1]
    return f"<{job_id.replace('@', '.')}@{domain}>"


def build(envelope: Envelope, rendered: Rendered, msg_id: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((envelope.sender_name, envelope.sender))
    mail["To"] = formataddr((envelope.to_name, envelope.to))
    mail["Subject"] = rendered.subject
    mail["Message-ID"] = msg_id
    if envelope.in_reply_to:
        mail["In-Reply-To"] = f"<{envelope.in_reply_to}>"
        mail["References"] = f"<{envelope.in_reply_to}>"
    if envelope.automatic:
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(rendered.text)
    if rendered.html:
        mail.add_alternative(rendered.html, subtype="html")
    mail["Content-Language"] = envelope.language  # after the body: set_content moves Content-* headers
    return mail


def send(envelope: Envelope, rendered: Rendered, msg_id: str) -> str:
    """Send through SES; returns SES's MessageId."""
    mail = build(envelope, rendered, msg_id)
    response = aws.client("ses").send_raw_email(
        Source=envelope.sender, Destinations=[envelope.to], RawMessage={"Data": mail.as_bytes()}
    )
    return str(response["MessageId"])
