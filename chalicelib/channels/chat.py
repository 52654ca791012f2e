"""The website chat: JSON posted to /webhooks/chat by the website's server, signed with the
contact form's scheme (chalicelib/channels/form.py: `X-Promptly-Timestamp` and
`X-Promptly-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, at most 5 minutes
old) but its own secret, `chat_secret`.

Replies go the other way: JSON POSTed to `PROMPTLY_CHAT_REPLY_URL`, signed the same way with a
third secret, `chat_reply_secret`, so the website can trust them and check their age. One key per
direction: with one shared key, a reply captured on its way to the website would pass as a
message from the visitor (its JSON has the very fields a chat message needs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib import destinations, providers, secrets, stage
from chalicelib.channels import form
from chalicelib.channels.base import AUTHENTICATED, CLAIMED, Inbound, Outgoing
from chalicelib.channels.fields import LanguageTag
from chalicelib.config import Zone, settings
from chalicelib.errors import BadRequest
from chalicelib.http import validated

NAME = "chat"
MAX_BODY_BYTES = form.MAX_BODY_BYTES
SIGNATURE_HEADER = form.SIGNATURE_HEADER
TIMESTAMP_HEADER = form.TIMESTAMP_HEADER
SECRET = "chat_secret"  # what the website signs visitors' messages with
REPLY_SECRET = "chat_reply_secret"  # what the desk signs its replies with


def _blank_is_none(value: Any) -> Any:
    """A widget sends "" for a field the visitor left empty: treat it as absent."""
    return None if isinstance(value, str) and not value.strip() else value


Field_ = TypeVar("Field_")
# An optional string field: absent, null or blank is None, anything else must be a `Field_` (its
# constraints apply to the string only: on `str | None` itself they would be tried on None too).
Blankable = Annotated[Field_ | None, BeforeValidator(_blank_is_none)]
# the form's own rules for the fields both take (reused, not copied), as optional fields
OptionalName = Blankable[form.Name]
OptionalEmail = Blankable[form.Email]
OptionalLocale = Blankable[LanguageTag]
OptionalZone = Blankable[Zone]
OptionalUrl = Blankable[Annotated[str, Field(max_length=2000)]]


class ChatMessage(BaseModel):
    """What the widget sends. Unknown fields are ignored so the widget can evolve first;
    an optional field left blank ("") counts as absent."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)
    message_id: str = Field(min_length=1, max_length=128)
    visitor_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=5000)
    name: OptionalName = None
    email: OptionalEmail = None
    locale: OptionalLocale = None
    timezone: OptionalZone = None
    page_url: OptionalUrl = None


def verify(body: bytes, headers: Mapping[str, str], urls: Sequence[str]) -> None:
    form.require_signed(body, headers, secrets.get(SECRET))


def parse(body: bytes, headers: Mapping[str, str], received_at: datetime) -> list[Inbound]:
    try:
        message = validated(ChatMessage, body)
    except (ValueError, RecursionError) as error:  # e.g. a 5000-digit number, JSON nested too deep
        raise BadRequest(f"body is not usable JSON: {type(error).__name__}") from None
    email = message.email.lower() if message.email else None
    return [
        Inbound(
            channel=NAME,
            provider_id=message.message_id,
            received_at=received_at,
            address=message.visitor_id,
            thread_key=message.visitor_id,
            body=message.text,
            name=message.name or "",
            email=email,
            language=message.locale,
            timezone=message.timezone,
            # the visitor is the website's signed session; an address they type is only a claim
            trust=CLAIMED if email else AUTHENTICATED,
            auth="address typed into the chat" if email else "visitor signed by the website",
        )
    ]


def ok_response() -> tuple[str, str]:
    return '{"ok": true}', "application/json"


def send(message: Outgoing) -> str:
    """POST the reply to the website's chat backend, signed and timestamped; return its id
    (or our job id)."""
    url = stage.chat_reply_url()
    if not url:
        # retryable: an operator fixes the setting, then redrives the dead-letter queue
        raise providers.ProviderError("chat: PROMPTLY_CHAT_REPLY_URL is not set")
    # a host not allowed is refused for good (a setting to fix), before anything is signed or sent
    url = destinations.for_sending(
        url, settings().destinations.chat_reply_hosts, what="PROMPTLY_CHAT_REPLY_URL", provider="chat"
    )
    body = json.dumps(
        {"visitor_id": message.address, "ticket": message.ticket_id, "message_id": message.job_id, "text": message.text}
    ).encode()
    headers = {"Content-Type": "application/json", **form.signed_headers(secrets.get(REPLY_SECRET), body)}
    # The signature covers these exact bytes, so they are sent as they are (post_json would
    # serialise the payload again).
    status, data, response_headers = providers.post_bytes(url, body, headers)
    detail = data.get("error") or data.get("message") or ""
    providers.raise_for_status("chat", status, response_headers, str(detail)[:300])
    reply_id = data.get("id")
    return str(reply_id) if reply_id not in (None, "") else message.job_id
