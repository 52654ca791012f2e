"""The website contact form: JSON posted by the website's server, signed with a shared secret.

Signature (the Stripe/Slack scheme, chalicelib/signing.py):
    X-Promptly-Timestamp: <unix seconds when sent>
    X-Promptly-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
keyed with the stage's `form_secret`. A timestamp more than 5 minutes from the desk's clock is
refused, so a captured submission cannot be replayed. The website signs on its server, never
in the browser: a key in the page's JavaScript is public. Body limit: MAX_BODY_BYTES.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import clock, secrets
from chalicelib.channels.base import CLAIMED, Inbound
from chalicelib.channels.fields import LanguageTag
from chalicelib.config import Zone
from chalicelib.http import pattern, validated
from chalicelib.signing import require_timestamped_sha256, sign_timestamped

SIGNATURE_HEADER = "X-Promptly-Signature"
TIMESTAMP_HEADER = "X-Promptly-Timestamp"
SECRET = "form_secret"  # the contact form's own: chat has its own, and replies another (no replays across)
MAX_BODY_BYTES = 64 * 1024
EMAIL_PATTERN = pattern(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$", "that is not an email address we can write to")
# the website's fields that the chat takes too (chat.py makes them optional)
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
Name = Annotated[str, Field(max_length=200)]


class Submission(BaseModel):
    """What the form sends. Unknown fields are ignored so the widget can evolve first."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)
    submission_id: str = Field(min_length=1, max_length=128)
    email: Email
    name: Name = ""
    subject: str = Field(default="", max_length=300)
    message: str = Field(min_length=1, max_length=20_000)
    locale: LanguageTag | None = None
    timezone: Zone | None = None


def verify(body: bytes, headers: Mapping[str, str]) -> None:
    require_signed(body, headers, secrets.get(SECRET))


def require_signed(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """The website's scheme (form and chat, each with its own secret); `headers` lower-cased.
    The age is measured on this machine's clock, which the sender's is synchronised with: moving
    the local desk's clock must not turn every fresh post into a replay."""
    require_timestamped_sha256(
        headers.get(SIGNATURE_HEADER.lower()),
        headers.get(TIMESTAMP_HEADER.lower()),
        secret,
        body,
        now=clock.machine_now(),
        signature_name=SIGNATURE_HEADER,
        timestamp_name=TIMESTAMP_HEADER,
    )


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """The same scheme's headers for a message the desk sends now (its chat replies), stamped
    with this machine's time: the website checks it against its own clock."""
    timestamp, signature = sign_timestamped(secret, body, clock.machine_now())
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}


def parse(body: bytes, received_at: datetime) -> Inbound:
    submission = validated(Submission, body)
    return Inbound(
        channel="form",
        provider_id=submission.submission_id,
        received_at=received_at,
        address=submission.email.lower(),
        email=submission.email.lower(),
        name=submission.name,
        subject=submission.subject,
        body=submission.message,
        language=submission.locale,
        timezone=submission.timezone,
        trust=CLAIMED,  # the website signs the post, but anyone may type anyone's address into it
        auth="address typed into the contact form",
    )
