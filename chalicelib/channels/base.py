"""The normalized message every channel adapter produces, whatever the provider, and the
contract an adapter fulfils (`ChannelAdapter`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# What `Inbound.language` may hold: a language tag ("uk", "pt-BR", "zh_Hant_TW"), said here in plain
# Python for the contact form, which reads its payload without pydantic, and for channels/fields.py
LANGUAGE_TAG = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
LANGUAGE_TAG_MEANING = "that is not a language tag such as uk or pt-BR"
MAX_LANGUAGE_TAG = 35

# How far the sender's identity is proven (design invariant 9: identity is earned, not typed).
AUTHENTICATED = "authenticated"  # a provider's signature, or SES's DMARC (or aligned SPF/DKIM) pass
UNAUTHENTICATED = "unauthenticated"  # email whose checks failed or were absent: anyone could have sent it
CLAIMED = "claimed"  # an address typed into the form or the chat: nothing proves it is theirs


@dataclass(frozen=True)
class Attachment:
    """A file as its channel hands it over. Email carries its bytes (`data`), which intake keeps
    in S3; a messenger carries the provider's reference (`provider_file_id`: a Telegram file id,
    a Viber or Twilio media URL), which a queued job fetches (chalicelib/attachments/).
    `quarantined` files (SES found a virus in the mail) are listed, never kept; `refused` says in
    an agent's words why a channel could not hand a file over (cut by the MIME limits, ...);
    `note` is what an agent should know of a file that is kept (SES could not scan the mail)."""

    name: str
    content_type: str
    size: int
    provider_file_id: str | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)
    cid: str | None = None  # an inline image's Content-ID, which the HTML body cites as "cid:..."
    quarantined: bool = False
    refused: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One customer message as intake sees it, independent of the channel it came on.

    `provider_id` is the provider's own id of this delivery (email Message-ID, form
    submission_id, Telegram update_id...): intake keys idempotency on it.
    `address` is where a reply on the same channel goes (an email address, a chat id).
    `email` is who the sender is by email (From, never Reply-To), as far as `trust` says:
    only an authenticated address may find the customer, join their tickets or speak for
    an organization. Messengers' ids are authenticated by the webhook's signature, hence the
    default; email and the website's form and chat set `trust` and `auth` themselves.
    `truncated` lists, in words an agent reads, what of the message the parser left unread
    (a hostile or huge mail: parts past the caps, text past the work limit...).
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
    trust: str = AUTHENTICATED
    auth: str = "signed by the provider"  # how, in words an agent reads ("dmarc=pass", "typed in the form")
    truncated: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkButton:
    """A button that opens `url` (the ticket's console page, under an alert to an agent)."""

    label: str
    url: str


@dataclass(frozen=True)
class Outgoing:
    """One message to send on a channel: to `address` (chat id, user id, phone), as text.
    `button`: a link a channel that has buttons shows under the text (Telegram's inline
    keyboard); the others ignore it, so the text must carry the link as well."""

    channel: str
    address: str
    text: str
    job_id: str
    ticket_id: str
    language: str = "en"
    button: LinkButton | None = None


class ChannelAdapter(Protocol):
    """The adapter contract. Every messaging channel is one module in chalicelib/channels/ that
    defines these names (mypy checks each module against it: channels/conformance.py);
    `channels.adapter(channel)` returns the module."""

    NAME: str  # "telegram"
    MAX_BODY_BYTES: int  # larger bodies are refused with 413

    def verify(self, body: bytes, headers: Mapping[str, str], urls: Sequence[str]) -> None:
        """Raise errors.Unauthorized (missing or wrong signature). `headers` have lower-case names;
        `urls` are the public URLs the provider may have called, query string included (Twilio
        signs the one it called)."""

    def parse(self, body: bytes, headers: Mapping[str, str], received_at: datetime) -> list[Inbound]:
        """[] for an event we deliberately ignore (still answered 200, nothing stored); raise
        errors.BadRequest with a specific message for a malformed payload."""

    def send(self, message: Outgoing) -> str:
        """The provider's id of the sent message; raise providers.ProviderError on failure."""

    def ok_response(self) -> tuple[str, str]:
        """(body, content type) of a 200 answer."""
