"""Viber channel (REST Bot API): signed callbacks in, text replies out through `/pa/send_message`.

Signature: Viber signs every callback with `X-Viber-Content-Signature: <hex HMAC-SHA256 of
the raw body>`, keyed with the bot's authentication token (secret `viber_auth_token`, the same
token that authenticates our own calls in `X-Viber-Auth-Token`). No prefix, unlike GitHub's.

Callbacks are JSON objects with an `event` string. Only `message` (a user wrote to the bot)
becomes an `Inbound`; every other event is answered 200 with nothing stored:

  webhook               Viber checking the URL right after `set_webhook`; it only wants a 200.
  conversation_started  the user opened the 1:1 chat (deep link, "Message" button) before
                        writing anything; a welcome message could be answered here, we send none.
  subscribed            the user subscribed to the bot (usually by writing to it; that message
                        arrives separately as its own `message` callback).
  unsubscribed          the user unsubscribed; further sends answer status 6 (not subscribed),
                        which `send` reports as not retryable.
  delivered / seen      receipts for a message we sent (`message_token`, `user_id`).
  failed                a message we sent could not reach the user's device (`desc` says why);
                        it is logged by the webhook route, not stored on the ticket.

An event we do not know (Viber adds some now and then) is acknowledged the same way, so an
API change never makes Viber retry a callback for an hour.

Media is not downloaded here: an attachment records the media URL in `provider_file_id`, and
a job queued at once fetches it (chalicelib/attachments/fetch.py) before the URL expires (about
an hour). The body describes the media in brackets ("[picture]", "[file report.pdf]"...) for the
agent reading the ticket. A sticker is Viber's picture, not the customer's file: it is described,
not fetched.
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from chalicelib import providers, secrets
from chalicelib.channels import fields
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.channels.fields import AnyLanguage, AnyLatitude, AnyLongitude, DictOrNone, Payload, Size, refuse
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.signing import hmac_hex

NAME = "viber"
MAX_BODY_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"
SECRET = "viber_auth_token"

# Events acknowledged with 200 and nothing stored (see the module docstring).
IGNORED_EVENTS = frozenset(
    {"webhook", "conversation_started", "subscribed", "unsubscribed", "delivered", "seen", "failed"}
)
# What `set_webhook` subscribes to. `message`, `subscribed` and `unsubscribed` are always sent.
WEBHOOK_EVENTS = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")

SENDER_NAME_MAX = 28  # Viber refuses a longer sender.name
MAX_BODY_CHARS = 20_000  # Viber caps a text at 7,000; anything longer is not from Viber
MAX_NAME_CHARS = 200
MAX_ID_CHARS = 256  # sender.id is ~24 characters; it becomes part of DynamoDB keys
MAX_TOKEN = 2**64  # message_token is a 64-bit integer

# Documented send_message status codes (https://developers.viber.com/docs/api/rest-bot-api/#error-codes).
STATUS_NAMES = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
    15: "publicAccountNotAuthorized",
    16: "inchatReplyMessageNotAllowed",
    17: "publicAccountIsNotInline",
    18: "noPublicChat",
    19: "cannotSendBroadcast",
    20: "broadcastNotAllowed",
    21: "unsupportedCountry",
    22: "paymentUnsupported",
    23: "freeMessagesExceeded",
    24: "noBalance",
}
# A retry can help only with the rate limit; any code not documented above is Viber's
# "general error" (an internal failure) and is retried too. Everything else is permanent:
# the user is not on Viber or unsubscribed, our token or account is wrong, the data is bad.
RETRYABLE_STATUSES = frozenset({12})


# --------------------------------------------------------------------------- inbound


def verify(body: bytes, headers: Mapping[str, str], urls: Sequence[str]) -> None:
    """Raise Unauthorized unless the signature header is the hex HMAC-SHA256 of `body`."""
    signature = headers.get(SIGNATURE_HEADER.lower())
    if not signature or not signature.strip():
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    # compare bytes: compare_digest refuses str with non-ASCII characters (a forged header may have them)
    given = signature.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(given, hmac_hex(secrets.get(SECRET), body).encode()):
        raise Unauthorized(
            f"{SIGNATURE_HEADER} does not match the body "
            "(expected the hex HMAC-SHA256 of the raw body keyed with the bot's auth token)"
        )


def parse(body: bytes, headers: Mapping[str, str], received_at: datetime) -> list[Inbound]:
    """One verified callback → [] for an acknowledged event, [Inbound] for a user's message.

    Raises BadRequest (with what is wrong) for a body that is not a callback: not UTF-8 JSON,
    not an object, no `event` string, or a `message` event without a usable `message_token`,
    `sender.id` or `message.type`. Other fields degrade instead: a missing name is "", an odd
    language is None, a media message without a URL still reaches the agent as a description.
    """
    payload = _json_object(body)
    if fields.validated(Callback, payload).event != "message":
        return []  # IGNORED_EVENTS and unknown events: acknowledged, nothing stored
    callback = fields.validated(MessageCallback, payload)
    body_text, attachments = _content(callback.message)
    return [
        Inbound(
            channel=NAME,
            provider_id=callback.message_token,
            received_at=received_at,
            address=callback.sender.id,
            thread_key=callback.sender.id,
            name=callback.sender.name,
            language=callback.sender.language,
            body=fields.cut(body_text, MAX_BODY_CHARS),
            attachments=attachments,
        )
    ]


def ok_response() -> tuple[str, str]:
    """Viber only needs a 200; an empty body, since a JSON body on `conversation_started`
    would be taken for a welcome message."""
    return "", "text/plain; charset=utf-8"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("callback body is not UTF-8 text") from None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # ValueError also covers over-long integers
        raise BadRequest("callback body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"callback body must be a JSON object, not {_kind(payload)}")
    return payload


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


# --------------------------------------------------------------------------- the callback, as read
# What intake needs (the token, the sender's id, the message's type) is refused when unusable;
# everything the agent merely reads degrades (see `parse`).


def _event(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise refuse("callback has no '{where}' string")
    return value


def _message_token(value: Any) -> str:
    if fields.is_integer(value) and 0 <= value < MAX_TOKEN:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) < MAX_TOKEN:
        return str(int(value))  # a stringified token is the same delivery as the number
    raise refuse("message callback needs '{where}', a non-negative 64-bit integer")


def _sender_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("message callback needs '{where}', a non-empty string")
    if len(value) > MAX_ID_CHARS or fields.has_surrogates(value) or any(ord(c) < 32 for c in value):
        raise refuse(f"{{where}} must be printable text of at most {MAX_ID_CHARS} characters")
    return value


def _message_type(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("{where} must be a non-empty string")
    return value.strip().lower()


def _sticker_id(value: Any) -> str | None:
    return str(value) if fields.is_integer(value) else fields.display_text(value, 64) or None


def _display(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda value: fields.display_text(value, limit))


Part = Annotated[Any, fields.object_of("message callback has no '{where}' object")]


class Contact(Payload):
    name: Annotated[str, _display(MAX_NAME_CHARS)] = ""
    phone_number: Annotated[str, _display(40)] = ""


class Location(Payload):
    lat: AnyLatitude = None
    lon: AnyLongitude = None


class Message(Payload):
    type: Annotated[str, BeforeValidator(_message_type)]
    text: Annotated[str, _display(MAX_BODY_CHARS)] = ""
    media: Annotated[str, _display(2048)] = ""  # a URL (expires in about an hour)
    size: Size = 0
    file_size: Size = 0  # what some clients send instead of `size`
    file_name: Annotated[str, _display(255)] = ""
    duration: Size = 0
    sticker_id: Annotated[str | None, BeforeValidator(_sticker_id)] = None
    contact: Annotated[Contact | None, DictOrNone] = None
    location: Annotated[Location | None, DictOrNone] = None

    @property
    def byte_size(self) -> int:
        return self.size if "size" in self.model_fields_set else self.file_size


class Sender(Payload):
    id: Annotated[str, BeforeValidator(_sender_id)]
    name: Annotated[str, _display(MAX_NAME_CHARS)] = ""
    language: AnyLanguage = None


class Callback(Payload):
    event: Annotated[str, BeforeValidator(_event)]


class MessageCallback(Payload):
    message_token: Annotated[str, BeforeValidator(_message_token)]
    sender: Annotated[Sender, fields.object_of("message callback has no '{where}' object")]
    message: Annotated[Message, fields.object_of("message callback has no '{where}' object")]


# --------------------------------------------------------------------------- message content


def _content(message: Message) -> tuple[str, tuple[Attachment, ...]]:
    """The agent's view of one message: text, or a bracketed description of the media
    followed by its caption; plus the media as an attachment reference (never fetched)."""
    kind, text, media = message.type, message.text, message.media or None
    size, file_name = message.byte_size, message.file_name
    if kind == "text":
        return text or "[empty message]", ()
    if kind == "picture":
        name = file_name or "picture.jpg"
        content_type = _content_type(name, "image/jpeg", prefix="image/")
        return _with(text, "[picture]"), _attachment(name, content_type, size, media)
    if kind == "video":
        duration = message.duration
        label = f"[video {duration // 60}:{duration % 60:02d}]" if duration else "[video]"
        return _with(text, label), _attachment(file_name or "video.mp4", "video/mp4", size, media)
    if kind == "file":
        name = file_name or "file"
        content_type = _content_type(name, "application/octet-stream")
        return _with(text, f"[file {name}]"), _attachment(name, content_type, size, media)
    if kind == "sticker":
        return _with(text, "[sticker]"), ()
    if kind == "contact":
        return _with(text, _contact(message.contact)), ()
    if kind == "location":
        return _with(text, _location(message.location)), ()
    if kind == "url":
        label = f"[url {media}]" if media else "[url]"
        return _with("" if text == media else text, label), ()
    label = re.sub(r"[^a-z0-9_ -]", "", kind)[:40] or "message"
    return _with(text, f"[{label}]"), ()


def _attachment(name: str, content_type: str, size: int, ref: str | None) -> tuple[Attachment, ...]:
    refused = None if ref else "Viber sent no link to this file"
    return (Attachment(name=name, content_type=content_type, size=size, provider_file_id=ref, refused=refused),)


def _content_type(name: str, default: str, prefix: str = "") -> str:
    try:
        guessed = mimetypes.guess_type(name, strict=False)[0]
    except ValueError:  # the name is the sender's text; a parse failure only loses the guess
        guessed = None
    return guessed if guessed and guessed.startswith(prefix) else default


def _with(text: str, label: str) -> str:
    return f"{label}\n{text}" if text.strip() else label


def _contact(contact: Contact | None) -> str:
    details = " ".join(part for part in (contact.name, contact.phone_number) if part) if contact else ""
    return f"[contact {details}]" if details else "[contact]"


def _location(location: Location | None) -> str:
    if location is None or location.lat is None or location.lon is None:
        return "[location]"
    return f"[location {location.lat:.5f}, {location.lon:.5f}]"


# --------------------------------------------------------------------------- outbound


def send(message: Outgoing) -> str:
    """Send `message.text` to the Viber user `message.address`; the message_token as a string.

    Raises ProviderError: HTTP failures by the common rules (`providers.raise_for_status`);
    an HTTP 200 whose `status` is not 0 is retryable only for the rate limit (12) and
    undocumented codes (Viber's general/internal error), permanent otherwise (5 not
    registered, 6 not subscribed, 3 bad data, 2 bad token...).
    """
    payload = {
        "receiver": message.address,
        "min_api_version": 1,
        "sender": {"name": sender_name()},
        "type": "text",
        "text": message.text,
    }
    data = _call("/pa/send_message", payload)
    token = data.get("message_token")
    if isinstance(token, int) and not isinstance(token, bool) or isinstance(token, str) and token:
        return str(token)
    # accepted but unidentified: a retry could deliver the reply twice, so it is not retried
    raise providers.ProviderError(
        "viber accepted the message but answered without a message_token", status=200, retryable=False
    )


def send_file(address: str, name: str, url: str, size: int, *, picture: bool) -> str:
    """One file by a URL Viber fetches: a `picture` message (JPEG, PNG or GIF within 1 MB), else
    a `file` message with its name and size; the message_token. Errors as `send`'s."""
    payload: dict[str, Any] = {
        "receiver": address,
        "min_api_version": 1,
        "sender": {"name": sender_name()},
        "media": url,
    }
    if picture:
        payload.update(type="picture", text="")
    else:
        payload.update(type="file", size=size, file_name=name[:FILE_NAME_MAX])
    token = _call("/pa/send_message", payload).get("message_token")
    if isinstance(token, int) and not isinstance(token, bool) or isinstance(token, str) and token:
        return str(token)
    raise providers.ProviderError(
        "viber accepted the file but answered without a message_token", status=200, retryable=False
    )


def set_webhook(url: str) -> None:
    """Point the bot's callbacks at `url` (Viber then calls it with a `webhook` event and
    must get a 200). User names are wanted for tickets; photos are not."""
    _call("/pa/set_webhook", {"url": url, "event_types": list(WEBHOOK_EVENTS), "send_name": True, "send_photo": False})


FILE_NAME_MAX = 256  # characters of a file message's file_name, its extension included


def sender_name() -> str:
    """The desk's name as Viber shows it above our messages (at most 28 characters)."""
    return settings().desk.name.strip()[:SENDER_NAME_MAX]


def _call(path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """POST to the Bot API; the JSON answer when its `status` is 0, else ProviderError.
    The auth token goes in the header only and never into an error message."""
    status, data, headers = providers.post_json(
        f"{providers.base_url(NAME)}{path}", payload, {AUTH_HEADER: secrets.get(SECRET)}
    )
    detail = _status_message(data)
    providers.raise_for_status(NAME, status, headers, detail)
    code = data.get("status")
    if not isinstance(code, int) or isinstance(code, bool):
        raise providers.ProviderError(
            f"viber answered {status} without a status code {detail}".strip(), status=status, retryable=True
        )
    if code == 0:
        return data
    name = STATUS_NAMES.get(code, "general error")
    text = f"viber {path.rsplit('/', 1)[-1]} failed with status {code} {name}"
    if detail and detail != name:
        text += f": {detail}"
    retryable = code in RETRYABLE_STATUSES or code not in STATUS_NAMES
    raise providers.ProviderError(text, status=status, retryable=retryable)


def _status_message(data: Mapping[str, Any]) -> str:
    value = data.get("status_message")
    return fields.display_text(value, 200)
