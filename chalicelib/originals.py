"""An inbound email's whole text, read again from the raw mail SES stored: "show the whole message".

Intake stores only what the customer wrote; the quoted history and the signature are cut
(chalicelib/channels/email.py). The raw mail stays in the inbound bucket (`Message.raw_ref`,
"s3://<bucket>/<key>") until the bucket's expiry rule removes it (`stage.raw_mail_days`), and
`read` gives its body exactly as intake read it before the cut (`email.whole_text`).

Who may read it: an agent who may see the ticket (another queue's ticket is the same 404 as
none), for a message of that ticket that came in by email with its raw mail recorded; any other
message, or a path the desk did not make, is a 404. Raw mail that is gone is a 410 saying how
long it is kept; S3 failing otherwise is a 503, which a retry may cure. Reading changes nothing:
one GetItem for the ticket, one for the message, one ranged S3 GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import clock, log, stage
from chalicelib.agents.access import Actor, visible_ticket
from chalicelib.attachments import opening
from chalicelib.channels import email, ses
from chalicelib.errors import Gone, NotFound, Unavailable
from chalicelib.models import Message

MISSING = frozenset({"NoSuchKey", "404"})
# A role without s3:ListBucket (ours: GetObject on `mail/` only) is told 403, not 404, for a key
# that no longer exists: past the keeping days, that is the expiry, not a fault.
DENIED = frozenset({"AccessDenied", "403"})


@dataclass(frozen=True)
class Original:
    text: str  # the body as received, quoted history and signature included
    raw_size: int  # bytes of the raw mail as stored


class MailGone(Gone):
    """The raw mail was expired by the inbound bucket's rule (or removed)."""

    def __init__(self, days: int | None) -> None:
        kept = f" (raw mail is kept {days} days)" if days else ""
        super().__init__(f"The original mail is no longer kept{kept}")
        self.days = days


def has_original(message: Message) -> bool:
    """An inbound email whose raw mail intake recorded: the thread offers "show the whole message"."""
    return message.direction == "in" and message.channel == "email" and bool(message.raw_ref)


def console_path(ticket_id: str, key: str) -> str | None:
    """The console's page (and htmx fragment) of a message's whole text (absolute, like every console link)."""
    segment = opening.ref(key)
    return f"{stage.ticket_page(ticket_id)}/messages/{segment}/original" if segment else None


def api_path(ticket_id: str, key: str) -> str | None:
    """The JSON API's path of a message's whole text."""
    segment = opening.ref(key)
    return f"/api/tickets/{ticket_id}/messages/{segment}/original" if segment else None


def read(actor: Actor, ticket_id: str, segment: str) -> Original:
    """The whole text of the message `segment` names (opening.ref's form of its key), if the
    actor may see its ticket. NotFound, MailGone or Unavailable otherwise."""
    message = _message(actor, ticket_id, segment)
    bucket, key = _location(message)
    try:
        raw, size = ses.fetch(bucket, key)
    except ClientError as error:
        raise _failed(message, str(error.response.get("Error", {}).get("Code", ""))) from None
    except BotoCoreError as error:  # no answer at all: a timeout, a dropped connection
        raise _failed(message, type(error).__name__) from None
    try:
        text = email.whole_text(raw, size=size)
    except email.MalformedEmail:  # intake parsed it once; should the parser ever refuse, the bytes as text
        text = raw.decode("utf-8", "replace")
    return Original(text=text, raw_size=size)


def _message(actor: Actor, ticket_id: str, segment: str) -> Message:
    ticket = visible_ticket(actor, ticket_id)
    key = opening.message_key(segment)
    if key is None:
        raise NotFound(f"no such message on ticket {ticket_id}")
    try:
        message = Message.get(ticket.ticket_id, key)
    except Message.DoesNotExist:
        raise NotFound(f"no such message on ticket {ticket_id}") from None
    if not has_original(message):
        raise NotFound(f"message {message.message_id} did not come in by email: it has no original mail")
    return message


def _location(message: Message) -> tuple[str, str]:
    """(bucket, key) of the raw mail: only ever this stage's inbound bucket."""
    bucket, _, key = (message.raw_ref or "").removeprefix("s3://").partition("/")
    if not (message.raw_ref or "").startswith("s3://") or bucket != stage.inbound_bucket() or not key:
        raise NotFound(f"message {message.message_id} has no original mail this desk keeps")
    return bucket, key


def _failed(message: Message, code: str) -> Gone | Unavailable:
    days = stage.raw_mail_days()
    expired = days is not None and clock.now() - message.created_at >= timedelta(days=days)
    if code in MISSING or (code in DENIED and expired):
        log.info("raw mail no longer kept", ticket_id=message.ticket_id, message_id=message.message_id)
        return MailGone(days)
    log.warning("raw mail could not be read", ticket_id=message.ticket_id, message_id=message.message_id, code=code)
    return Unavailable("the original mail could not be read from storage just now: try again in a minute")
