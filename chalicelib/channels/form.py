"""The website contact form: JSON posted by the website's server, signed with a shared secret.

Signature (the Stripe/Slack scheme, chalicelib/signing.py):
    X-Promptly-Timestamp: <unix seconds when sent>
    X-Promptly-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
keyed with the stage's `form_secret`. A timestamp more than 5 minutes from the desk's clock is
refused, so a captured submission cannot be replayed. The website signs on its server, never
in the browser: a key in the page's JavaScript is public. Body limit: MAX_BODY_BYTES.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from functools import cache
from typing import Annotated, Any, get_args, get_type_hints

from chalicelib import clock, secrets
from chalicelib.channels.base import CLAIMED, LANGUAGE_TAG, LANGUAGE_TAG_MEANING, MAX_LANGUAGE_TAG, Inbound
from chalicelib.config import FieldRule, Zone, rule
from chalicelib.errors import BadRequest
from chalicelib.http import json_object, pattern, sentence
from chalicelib.signing import require_timestamped_sha256, sign_timestamped

SIGNATURE_HEADER = "X-Promptly-Signature"
TIMESTAMP_HEADER = "X-Promptly-Timestamp"
SECRET = "form_secret"  # the contact form's own: chat has its own, and replies another (no replays across)
MAX_BODY_BYTES = 64 * 1024
EMAIL_PATTERN = pattern(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$", "that is not an email address we can write to")
pattern(LANGUAGE_TAG, LANGUAGE_TAG_MEANING)
# the website's fields that the chat takes too (chat.py makes them optional)
Email = Annotated[str, rule(max_length=254, pattern=EMAIL_PATTERN)]
Name = Annotated[str, rule(max_length=200)]
REQUIRED = object()  # a field's default when it has none
PAYLOAD = {"extra": "ignore", "str_strip_whitespace": True}  # pydantic's reading of the form
# what pydantic strips (Unicode's White_Space, as Rust's trim); Python's own strip() takes more
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What the form sends: every field is text, stripped of the spaces around it. Unknown
    fields are ignored so the widget can evolve first.

    Read by `submission` below without pydantic (which would cost the webhook's cold start more
    than boto3's whole import); pydantic reads the same class for openapi.yaml's schema, and
    tests/test_form_bad_input.py checks that both refuse the same bodies in the same words."""

    __pydantic_config__ = PAYLOAD
    submission_id: Annotated[str, rule(min_length=1, max_length=128)]
    email: Email
    name: Name = ""
    subject: Annotated[str, rule(max_length=300)] = ""
    message: Annotated[str, rule(min_length=1, max_length=20_000)]
    locale: Annotated[str, rule(max_length=MAX_LANGUAGE_TAG, pattern=LANGUAGE_TAG)] | None = None
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
    submission = read_submission(json_object(body))
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


def read_submission(data: dict[str, Any]) -> Submission:
    """`data` as a Submission, or BadRequest naming its first wrong field in http.sentence's words."""
    values: dict[str, Any] = {}
    for name, (field_rule, optional, default) in _fields().items():
        value = data.get(name, default)
        if value is REQUIRED:
            raise _refused(name, "missing")
        if value is None and optional:
            values[name] = None
            continue
        values[name] = _text(name, value, field_rule)
    return Submission(**values)


@cache
def _fields() -> dict[str, tuple[FieldRule, bool, object]]:
    """Submission's fields: (their rule, whether null is allowed, default or REQUIRED)."""
    hints = get_type_hints(Submission, include_extras=True)
    found = {}
    for field in fields(Submission):
        annotated = hints[field.name]
        optional = type(None) in get_args(annotated)
        if optional:
            annotated = next(arg for arg in get_args(annotated) if arg is not type(None))
        [field_rule] = annotated.__metadata__
        default = REQUIRED if field.default is MISSING else field.default
        found[field.name] = (field_rule, optional, default)
    return found


def _text(name: str, value: object, field_rule: FieldRule) -> str:
    """One text field checked as pydantic checks it (tests/test_form_bad_input.py compares them)."""
    if not isinstance(value, str):
        raise _refused(name, "string_type")
    if not _utf8(value):  # a lone UTF-16 half (JSON allows it) cannot be stored: the website must send text
        raise _refused(
            name, "string_unicode", msg="Input should be a valid string, unable to parse raw data as a unicode string"
        )
    text = value.strip(WHITE_SPACE)
    limits = dict(field_rule.limits)
    if len(text) < limits.get("min_length", 0):
        raise _refused(name, "string_too_short", min_length=limits["min_length"])
    if len(text) > limits.get("max_length", len(text)):
        raise _refused(name, "string_too_long", max_length=limits["max_length"])
    if "pattern" in limits and not re.search(limits["pattern"], text):
        raise _refused(name, "string_pattern_mismatch", pattern=limits["pattern"])
    for check in field_rule.checks:
        try:
            text = check(text)
        except ValueError as exc:
            raise _refused(name, "value_error", error=exc) from None
    return text


def _refused(name: str, kind: str, msg: str = "", **context: object) -> BadRequest:
    return BadRequest(f"{name}: {sentence({'type': kind, 'ctx': context, 'msg': msg})}", field=name)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
