"""Outbound email: a MIME message with threading headers, sent through SES.

Every automatic message carries `Auto-Submitted: auto-replied` (RFC 3834) and
`X-Auto-Response-Suppress` so other desks and out-of-office robots never answer it; a
person's answer (`Envelope.automatic` False) carries neither, because it is not automatic.
Every message has `In-Reply-To`/`References` so the customer's reply threads back into the ticket.

Everything the desk mails goes out through `send_from_desk`: from the desk's own address, under
a Message-ID derived from the step it sends, so a retried step repeats its Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.errors import MessageError
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formataddr

from botocore.exceptions import ClientError

from chalicelib import aws, secrets, stage
from chalicelib.config import settings
from chalicelib.providers import ProviderError
from chalicelib.render import Rendered
from chalicelib.signing import hmac_hex


class _Headers(HeaderRegistry):
    """The standard header registry, making each kind of header's class once. The stdlib's
    builds a new class (`type(...)`) for every header it parses or reads back, ~35 a mail:
    a fifth of composing one. The classes it would build are the same each time."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type] = {}

    def __getitem__(self, name: str) -> type:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


BUILD_POLICY = policy.default.clone(header_factory=_Headers())
# CPython folds long encoded headers with the space *between* encoded words, where RFC 2047
# decoders drop it ("ваше звернення" arrives as "вашезвернення"). One long line avoids folds.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998, header_factory=BUILD_POLICY.header_factory)
PERMANENT_SES_ERRORS = ("MessageRejected", "MailFromDomainNotVerified", "InvalidParameterValue")


@dataclass(frozen=True)
class Envelope:
    sender: str
    sender_name: str
    to: str
    to_name: str
    language: str
    in_reply_to: str | None = None
    automatic: bool = True


@dataclass(frozen=True)
class Attached:
    """A file the mail carries as an attachment part."""

    name: str
    type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Sent:
    provider_id: str  # SES's MessageId
    thread_ids: list[str]  # the Message-IDs a reply may quote (`delivered_ids`)


def send_from_desk(
    step: str,
    rendered: Rendered,
    *,
    to: str,
    to_name: str = "",
    language: str,
    sender_name: str | None = None,
    in_reply_to: str | None = None,
    automatic: bool = True,
    files: Sequence[Attached] = (),
) -> Sent:
    """Mail one step (an outbox job, or one destination of it) from the desk's address; the
    sender's name is the desk's unless given. Raises ProviderError, retryable or not (`send`)."""
    desk = settings().desk
    msg_id = message_id(desk.sender, step)
    envelope = Envelope(
        sender=desk.sender,
        sender_name=desk.name if sender_name is None else sender_name,
        to=to,
        to_name=to_name,
        language=language,
        in_reply_to=in_reply_to,
        automatic=automatic,
    )
    provider_id = send(envelope, rendered, msg_id, files)
    return Sent(provider_id, delivered_ids(msg_id, provider_id, stage.region()))


def message_id(sender: str, job_id: str) -> str:
    """A Message-ID a retried send repeats but nobody outside can guess: an HMAC of the job
    under the stage's link secret. (Derived from the public reference, as it once was, anyone
    could write a mail "In-Reply-To" our acknowledgement.)"""
    domain = sender.rsplit("@", 1)[-1]
    return f"<{hmac_hex(secrets.get('link_secret'), job_id.encode())[:32]}@{domain}>"


def delivered_ids(own_id: str, ses_id: str, region: str) -> list[str]:
    """Message-IDs a reply may quote in In-Reply-To. SES replaces our Message-ID with
    `<ses-id@region.amazonses.com>` (`email.amazonses.com` in us-east-1), so record all."""
    return [own_id.strip("<>"), f"{ses_id}@{region}.amazonses.com", f"{ses_id}@email.amazonses.com"]


def build(envelope: Envelope, rendered: Rendered, msg_id: str, files: Sequence[Attached] = ()) -> EmailMessage:
    mail = EmailMessage(policy=BUILD_POLICY)
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
    for attached in files:  # the text parts become the first part of a multipart/mixed
        maintype, _, subtype = attached.type.partition("/")
        mail.add_attachment(attached.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attached.name)
    mail["Content-Language"] = envelope.language  # after the body: set_content moves Content-* headers
    return mail


def send(envelope: Envelope, rendered: Rendered, msg_id: str, files: Sequence[Attached] = ()) -> str:
    """Send through SES; returns SES's MessageId. A rejected message (bad address, content
    SES refuses) cannot succeed on retry; throttling and outages can. Every mail goes through
    the stage's configuration set, whose bounces and complaints feed chalicelib/suppression.py."""
    raw = compose(envelope, rendered, msg_id, files)
    try:
        response = aws.client("ses").send_raw_email(
            Source=envelope.sender,
            Destinations=[envelope.to],
            RawMessage={"Data": raw},
            ConfigurationSetName=stage.ses_configuration_set(),
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise ProviderError(f"SES {code}", retryable=code not in PERMANENT_SES_ERRORS) from None
    return str(response["MessageId"])


def compose(envelope: Envelope, rendered: Rendered, msg_id: str, files: Sequence[Attached] = ()) -> bytes:
    """The message as SES gets it. Composing is pure work on our own data: when it fails (the
    email package refuses a name with a line break in it, as header injection), no retry can
    succeed, so that is a permanent refusal of this one destination — not five retries, the
    dead-letter queue and a redrive that fails again."""
    try:
        return build(envelope, rendered, msg_id, files).as_bytes(policy=WIRE_POLICY)
    except (ValueError, TypeError, MessageError) as error:
        raise ProviderError(f"message could not be built: {type(error).__name__}", retryable=False) from None
