"""The normalized message every channel adapter produces, whatever the provider."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """An attachment is recorded, never downloaded or stored by intake."""

    name: str
    content_type: str
    size: int
    provider_file_id: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One customer message as intake sees it, independent of the channel it came on.

    `provider_id` is the provider's own id of this delivery (email Message-ID, form
    submission_id, Telegram update_id...): intake keys idempotency on it.
    `address` is where a reply on the same channel goes (an email address, a chat id).
    """

    channel: str
    provider_id: str
    received_at: datetime
    address: str
    body: str
    name: str = ""
    subject: str = ""
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    timezone: str | None = None
    thread_refs: tuple[str, ...] = ()
    thread_key: str | None = None
    automated: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    raw_ref: str | None = None
