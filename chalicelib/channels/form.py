"""The website contact form: JSON posted by the desk's own widget, signed with a shared secret.

Signature: header `X-Promptly-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (the
GitHub webhook scheme), secret `form_secret` of the stage. Body limit: MAX_BODY_BYTES.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib import secrets
from chalicelib.channels.base import CLAIMED, Inbound
from chalicelib.http import validated
from chalicelib.signing import require_sha256_header

SIGNATURE_HEADER = "X-Promptly-Signature"
MAX_BODY_BYTES = 64 * 1024
EMAIL_PATTERN = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"


def _zone(name: str) -> str:
    from chalicelib.config import _zone as check  # one definition of "a valid IANA zone"

    return check(name)


class Submission(BaseModel):
    """What the form sends. Unknown fields are ignored so the widget can evolve first."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    submission_id: str = Field(min_length=1, max_length=128)
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    name: str = Field(default="", max_length=200)
    subject: str = Field(default="", max_length=300)
    message: str = Field(min_length=1, max_length=20_000)
    locale: str | None = Field(default=None, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    timezone: Annotated[str, AfterValidator(_zone)] | None = None


def verify(body: bytes, headers: dict[str, str]) -> None:
    require_sha256_header(headers.get(SIGNATURE_HEADER.lower()), secrets.get("form_secret"), body,
                          name=SIGNATURE_HEADER)


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
