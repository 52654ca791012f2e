"""The email suppression list, fed by SES bounce and complaint notifications.

Every mail goes out through the stage's SES configuration set (chalicelib/mail.py), which
publishes bounces and complaints to the SNS topic `promptly-<stage>-ses-feedback`; app.py's
`ses_feedback` hands each notification to `handle`. A permanent bounce or a complaint puts
the address on the list (`suppress#email#<address>` in the keys table, no expiry) and marks
the ticket whose mail it was (`Ticket.email_undeliverable`, plus an event an agent reads).
A transient bounce (mailbox full, greylisted) changes nothing: SES already retried it.
The outbox reads the list before every email to a customer (one GetItem) and withholds mail
to a listed address. Sending on to such addresses is how an SES account gets paused for
everyone; an admin who knows an address works again deletes its key.

Notification format (docs.aws.amazon.com/ses/latest/dg/notification-contents.html):
`notificationType` ("Bounce", "Complaint", "Delivery"; named `eventType` when published by a
configuration set), `mail.messageId` (SES's id of our mail), `bounce.bounceType`
("Permanent", "Transient", "Undetermined") with `bounce.bouncedRecipients[].emailAddress`,
`complaint.complainedRecipients[].emailAddress`. Unknown fields are ignored; a notification
that cannot be read is logged and dropped (a retry would read it no better).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import clock, keys, log, stage, writes
from chalicelib.already_read import NOTHING, AlreadyRead
from chalicelib.errors import ConditionFailed
from chalicelib.models import Key, Message, Ticket

BOUNCED = "bounced"
COMPLAINED = "complained"
EVENT_KIND = "email_undeliverable"
_EXPLAINED = {
    BOUNCED: "Email to the customer bounced for good ({detail}): the address is on the suppression list "
    "and gets no more mail from the desk. Reach them on another channel, or ask for another address.",
    COMPLAINED: "The customer marked our email as spam ({detail}): the address is on the suppression list "
    "and gets no more mail from the desk.",
}


class Unreadable(ValueError):
    """Not an SES bounce/complaint notification we can use."""


@dataclass(frozen=True)
class Feedback:
    """What one SES notification says: `reason` is BOUNCED, COMPLAINED or None (nothing to do)."""

    reason: str | None
    detail: str  # "Permanent/General", "Transient/MailboxFull", "abuse"... for the ticket and logs
    recipients: tuple[str, ...]
    ses_message_id: str


def handle(sns_message: str) -> None:
    """The SNS handler's work: suppress the addresses, mark the ticket the mail belonged to."""
    try:
        feedback = parse(sns_message)
    except Unreadable as error:
        log.warning("ignored SES feedback", reason=str(error))
        return
    if feedback.reason is None:
        log.info("SES feedback needs nothing", feedback=feedback.detail, recipients=len(feedback.recipients))
        return
    now = clock.now()
    for address in feedback.recipients:
        suppress(address, feedback.reason, feedback.detail, now)
    ticket_id = mark_ticket(feedback, now)
    log.info(
        "email addresses suppressed", ticket_id=ticket_id, feedback=feedback.detail, recipients=len(feedback.recipients)
    )


def parse(sns_message: str) -> Feedback:
    try:
        body = json.loads(sns_message)
    except (TypeError, ValueError, RecursionError):
        raise Unreadable("not JSON") from None
    if not isinstance(body, dict):
        raise Unreadable("not a JSON object")
    kind = body.get("notificationType") or body.get("eventType")
    ses_message_id = str(_object(body, "mail").get("messageId") or "")
    if kind == "Bounce":
        bounce = _object(body, "bounce")
        bounce_type = str(bounce.get("bounceType") or "Undetermined")
        detail = f"{bounce_type}/{bounce.get('bounceSubType') or 'Undetermined'}"
        reason = BOUNCED if bounce_type == "Permanent" else None  # transient: SES retried already
        return Feedback(reason, detail, _addresses(bounce, "bouncedRecipients"), ses_message_id)
    if kind == "Complaint":
        complaint = _object(body, "complaint")
        detail = str(complaint.get("complaintFeedbackType") or "complaint")
        return Feedback(COMPLAINED, detail, _addresses(complaint, "complainedRecipients"), ses_message_id)
    return Feedback(None, str(kind or "no notificationType")[:40], (), ses_message_id)  # deliveries, tests


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise Unreadable(f"{name} is not an object")
    return value


def _addresses(part: dict[str, Any], field: str) -> tuple[str, ...]:
    recipients = part.get(field)
    if not isinstance(recipients, list) or not recipients:
        raise Unreadable(f"{field} is missing")
    found = [str(r.get("emailAddress") or "").strip().lower() for r in recipients if isinstance(r, dict)]
    usable = tuple(dict.fromkeys(address for address in found if "@" in address))
    if not usable:
        raise Unreadable(f"{field} names no address")
    return usable


def suppress(address: str, reason: str, detail: str, now: datetime) -> None:
    """Put `address` on the list (again: a repeated notification changes nothing that matters)."""
    Key(keys.suppressed(address), data={"reason": reason, "detail": detail, "at": clock.iso(now)}).save()


def suppressed(address: str, read: AlreadyRead = NOTHING) -> str | None:
    """Why mail to `address` must not go out (BOUNCED or COMPLAINED), or None. `read`: the job
    read the entry already."""
    key = keys.suppressed(address)
    if read.knows(key):
        item = read.item(key)
        if item is None:
            return None
    else:
        try:
            item = Key.get(key)
        except Key.DoesNotExist:
            return None
    return str((item.data or {}).get("reason") or BOUNCED)


def mark_ticket(feedback: Feedback, now: datetime) -> str | None:
    """Mark the ticket our bounced mail belonged to, found by SES's id of that mail (the outbox
    stored it as a thread key when it sent); returns its id. Once per ticket: a repeated
    notification finds it marked."""
    if feedback.reason is None:
        return None
    ticket = _ticket_of(feedback.ses_message_id)
    if ticket is None or not {(ticket.email or "").lower(), ticket.address.lower()} & set(feedback.recipients):
        return None  # not mail to a customer (a digest, an alert), or mail to someone else
    message_id = f"M-{secrets.token_hex(8)}"
    event = Message(
        ticket.ticket_id,
        f"{clock.iso(now)}#{message_id}",
        message_id=message_id,
        direction="event",
        kind=EVENT_KIND,
        channel="email",
        author="desk",
        created_at=now,
        body=_EXPLAINED[feedback.reason].format(detail=feedback.detail),
    )
    try:
        with writes.transaction() as transaction:
            transaction.update(
                ticket,
                actions=[Ticket.email_undeliverable.set(feedback.reason), Ticket.updated_at.set(now)],
                condition=Ticket.email_undeliverable.does_not_exist(),
                add_version_condition=False,
            )
            transaction.save(event)
    except ConditionFailed:
        pass  # marked already: once per ticket
    return ticket.ticket_id


def _ticket_of(ses_message_id: str) -> Ticket | None:
    if not ses_message_id:
        return None
    try:
        thread = Key.get(keys.thread_email(f"{ses_message_id}@{stage.region()}.amazonses.com"))
        return Ticket.get(thread.ticket_id) if thread.ticket_id else None
    except (Key.DoesNotExist, Ticket.DoesNotExist):
        return None
