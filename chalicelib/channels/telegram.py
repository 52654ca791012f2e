"""Telegram: a bot's webhook updates in; `sendMessage` out, and `sendPhoto`/`sendDocument` for the
files of an answer (https://core.telegram.org/bots/api).

Authenticity: `setWebhook` registers a `secret_token`, and Telegram sends it back in the
`X-Telegram-Bot-Api-Secret-Token` header of every update; it is the stage secret
`telegram_secret_token`. The bot token (`telegram_bot_token`) is part of every API URL, so it
must never reach an exception message or a log: every error built here says which method
failed and what Telegram said, nothing more.

What becomes an `Inbound`: a `message` update in a *private* chat from a person. A desk bot
answers people one to one; in a group it would be reading other people's conversation and
would answer the whole group (with ticket references and names), so group and supergroup
messages are ignored, and so are channel posts. Also ignored, answered 200 with nothing
stored: edits (the first version is already on the ticket), button presses
(`callback_query`), membership changes (`my_chat_member`: the user blocked or restarted the
bot), messages from bots (two bots acknowledging each other would loop), and service messages
that carry neither text nor media (auto-delete timer changed, and so on).

Media is not downloaded here (the webhook must answer within seconds): an `Attachment` keeps
Telegram's `file_id`, and a queued job (chalicelib/attachments/fetch.py) exchanges it for the
file (`get_file`, then `download_url`). A photo is recorded in its largest size only; a sticker
is no file the customer made, so it is described by its emoji and not fetched. A message with
media and no caption gets a short bracketed body ("[photo]", "[voice message 0:07]") so the
agent sees what arrived.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeGuard
from urllib.parse import quote

from pydantic import AfterValidator, BeforeValidator, Field

from chalicelib import providers, secrets
from chalicelib.channels import fields
from chalicelib.channels.base import Attachment, Inbound, LinkButton, Outgoing
from chalicelib.channels.fields import (
    Boolean,
    Integer,
    Language,
    Latitude,
    Longitude,
    NonNegative,
    Object,
    OptionalBoolean,
    OptionalInteger,
    OptionalObject,
    OptionalString,
    Payload,
    String,
    refuse,
)
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.providers import ProviderError

NAME = "telegram"
MAX_BODY_BYTES = 64 * 1024  # an update is a few kB: text is at most 4096 characters, a caption 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # "bots can download files of up to 20MB in size" (getFile)
ALLOWED_UPDATES = ("message",)  # what `set_webhook` subscribes to; anything else is ignored anyway

_NUMERIC_CHAT_ID = re.compile(r"^-?\d{1,20}$")
_MAX_DETAIL_CHARS = 300  # of Telegram's error description, in a ProviderError message


# --------------------------------------------------------------------------- contract


def verify(body: bytes, headers: Mapping[str, str], urls: Sequence[str]) -> None:
    """The secret token header must equal the stage's `telegram_secret_token`. Telegram does
    not sign the body; the token is compared in constant time (as bytes: `compare_digest`
    refuses non-ASCII text, and a header may hold anything)."""
    given = headers.get(SECRET_HEADER.lower())
    if not given:
        raise Unauthorized(f"missing {SECRET_HEADER} header")
    expected = secrets.get("telegram_secret_token")
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")):
        raise Unauthorized(f"{SECRET_HEADER} does not match the secret token registered with setWebhook")


def parse(body: bytes, headers: Mapping[str, str], received_at: datetime) -> list[Inbound]:
    """One Telegram `Update` -> [Inbound], or [] for an update the desk deliberately ignores.

    Raises BadRequest (with the path of the offending field) when the update is not the Bot
    API's shape; never any other exception, whatever the body.
    """
    data = _load(body)
    # Read no further than it takes to ignore an update, as step by step as the checks: a shape
    # Telegram changes in what the desk ignores must never become a 400 that Telegram retries.
    in_chat = fields.validated(_ChatEnvelope, data).message
    if in_chat is None or in_chat.chat.type != "private":
        return []
    addressed = fields.validated(_SenderEnvelope, data).message
    if addressed is None or addressed.sender.is_bot:
        return []
    message = fields.validated(Update, data).message
    if message is None:
        return []
    content = _content(message)
    if content is None:  # a service message: nothing a person wrote
        return []
    body_text, attachments = content
    chat_id = str(message.chat.id)
    return [
        Inbound(
            channel=NAME,
            # not update_id: Telegram restarts it at random after a week without updates, and a
            # repeat would be dropped as a redelivery; (chat, message) is unique for a bot
            provider_id=f"{chat_id}:{message.message_id}",
            received_at=received_at,
            address=chat_id,
            thread_key=chat_id,
            name=_name(message.sender.first_name, message.sender.last_name),
            language=message.sender.language_code,
            body=body_text,
            attachments=attachments,
        )
    ]


def send(message: Outgoing) -> str:
    """`sendMessage` as plain text (no parse_mode: an agent's "<" or "*" is sent as typed);
    returns Telegram's message_id. A `button` goes under the text as an inline keyboard URL
    button; Telegram refuses a button whose URL it deems invalid (a host without a dot, such as
    a desk on localhost: BUTTON_URL_INVALID), and the message then goes without it — the text
    carries the link too. Raises ProviderError: retryable for 429 (with Telegram's
    `retry_after`), 5xx and network failures; not retryable for the rest (blocked by the user,
    chat not found, bad token...), with Telegram's description in the message."""
    payload: dict[str, Any] = {"chat_id": _chat_id(message.address), "text": message.text}
    if message.button is None:
        result = _call("sendMessage", payload)
    else:
        try:
            result = _call("sendMessage", {**payload, "reply_markup": _keyboard(message.button)})
        except ProviderError as error:
            if error.status != 400 or "button" not in str(error).lower():
                raise
            result = _call("sendMessage", payload)  # a 400 sent nothing: no message twice
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if not fields.is_integer(message_id):
        # Telegram said ok, so the message most likely went out: a retry could send it twice.
        raise ProviderError("telegram sendMessage answered ok without a message_id", retryable=False)
    return str(message_id)


def send_file(address: str, name: str, kind: str, data: bytes, *, photo: bool) -> str:
    """One file, its bytes uploaded: `sendPhoto` when `photo` (a raster image within the photo
    limit, attachments/reach.py), else `sendDocument`; returns Telegram's message_id. Errors as
    `send`'s."""
    method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
    result = _call(method, {"chat_id": _chat_id(address)}, file=(field, (name, data, kind)))
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if not fields.is_integer(message_id):
        raise ProviderError(f"telegram {method} answered ok without a message_id", retryable=False)
    return str(message_id)


def _chat_id(address: str) -> int | str:
    address = address.strip()
    return int(address) if _NUMERIC_CHAT_ID.match(address) else address


def get_file(file_id: str) -> str:
    """The `file_path` Telegram gives a file for downloading (`getFile`); the link it makes with
    `download_url` works for at least an hour. Raises ProviderError: not retryable for a file
    past MAX_DOWNLOAD_BYTES ("file is too big") or an id that is not this bot's, with
    Telegram's description."""
    result = _call("getFile", {"file_id": file_id})
    path = result.get("file_path") if isinstance(result, dict) else None
    if not isinstance(path, str) or not path.strip() or ".." in path.split("/"):
        raise ProviderError("telegram getFile answered without a usable file_path", retryable=False)
    return path


def download_url(file_path: str) -> str:
    """Where a `get_file` path is downloaded. It holds the bot token: never log or quote it."""
    token = secrets.get("telegram_bot_token")
    return f"{providers.base_url(NAME)}/file/bot{token}/{quote(file_path)}"


def _keyboard(button: LinkButton) -> dict[str, Any]:
    """One URL button in one row (https://core.telegram.org/bots/api#inlinekeyboardmarkup)."""
    return {"inline_keyboard": [[{"text": button.label, "url": button.url}]]}


def ok_response() -> tuple[str, str]:
    """Telegram only needs a 2xx; a body without a "method" field is not taken as a call."""
    return '{"ok": true}', "application/json"


def set_webhook(url: str) -> None:
    """Point the bot's webhook at `url`, with the stage's secret token, for `message` updates
    only; pending updates are kept (they are customers' messages). Raises ProviderError."""
    result = _call(
        "setWebhook",
        {
            "url": url,
            "secret_token": secrets.get("telegram_secret_token"),
            "allowed_updates": list(ALLOWED_UPDATES),
            "drop_pending_updates": False,
        },
    )
    if result is not True:
        raise ProviderError("telegram setWebhook answered ok without result true", retryable=False)


# --------------------------------------------------------------------------- Bot API calls


def _call(method: str, payload: Mapping[str, Any], *, file: tuple[str, tuple[str, bytes, str]] | None = None) -> Any:
    """POST a Bot API method and return its `result`, or raise ProviderError.

    Telegram answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code": 403,
    "description": "Forbidden: bot was blocked by the user", "parameters": {"retry_after": 3}}`,
    normally with the HTTP status equal to error_code; an `ok: false` inside a 200 is judged by
    its error_code the same way.
    """
    token = secrets.get("telegram_bot_token")
    try:
        url = f"{providers.base_url(NAME)}/bot{token}/{method}"
        if file is None:
            status, data, headers = providers.post_json(url, payload)
        else:  # a file's bytes go as multipart/form-data, the other fields as its text parts
            status, data, headers = providers.post_multipart(url, {k: str(v) for k, v in payload.items()}, *file)
    except ProviderError as error:  # network: its message names the exception type only
        raise ProviderError(
            _scrub(f"telegram {method}: {error}", token),
            status=error.status,
            retryable=error.retryable,
            retry_after=error.retry_after,
        ) from None
    ok = data.get("ok")
    if 200 <= status < 300 and ok is True:
        return data.get("result")
    error_code = data.get("error_code")
    if 200 <= status < 300:
        if not fields.is_integer(error_code):
            # Not Telegram's format (a proxy's page?): the outcome is unknown, so try again.
            raise ProviderError(f"telegram {method} answered {status} without ok", status=status, retryable=True)
        code = error_code
    else:
        code = status
    detail = _description(data, token)
    if code == 429 or code >= 500:
        raise ProviderError(
            f"telegram {method} answered {code}{detail}",
            status=code,
            retryable=True,
            retry_after=_retry_after(data, headers),
        )
    raise ProviderError(f"telegram {method} refused with {code}{detail}", status=code, retryable=False)


def _retry_after(data: Mapping[str, Any], headers: Mapping[str, str]) -> float | None:
    """Telegram's `parameters.retry_after` (seconds), else an HTTP Retry-After in seconds."""
    parameters = data.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if _is_number(value) and value >= 0:
        return float(value)
    header = headers.get("Retry-After")
    try:
        seconds = float(header) if header is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _is_number(value: object) -> TypeGuard[int | float]:
    return (fields.is_integer(value) and abs(value) < 2**63) or (isinstance(value, float) and math.isfinite(value))


def _description(data: Mapping[str, Any], token: str) -> str:
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        return ""
    return ": " + _scrub(fields.clean_text(description.strip())[:_MAX_DETAIL_CHARS], token)


def _scrub(text: str, token: str) -> str:
    """Belt and braces: whatever a message was built from, the bot token never leaves."""
    return text.replace(token, "<bot token>") if token else text


# --------------------------------------------------------------------------- the update, as read
# Telegram's own objects (https://core.telegram.org/bots/api#available-types), only the fields the
# desk reads. The whole message is read before the desk decides to ignore it (a group's, a bot's,
# a service message): a field of the wrong shape is refused wherever it is.


def _file_id(value: str) -> str:
    if not value:
        raise refuse("{where} must not be empty")
    return value


def _photo_sizes(value: Any) -> Any:
    if value is not None and not isinstance(value, list):
        raise refuse("{where} must be a list of PhotoSize objects")
    return value


FileId = Annotated[String, AfterValidator(_file_id)]


class _File(Payload):
    file_id: FileId
    file_size: OptionalInteger = None


class PhotoSize(_File):
    width: OptionalInteger = None
    height: OptionalInteger = None


class File(_File):
    """An animation, video, video note, voice message, audio or document."""

    file_name: OptionalString = None
    mime_type: OptionalString = None
    duration: OptionalInteger = None


class Sticker(File):
    is_animated: OptionalBoolean = False
    is_video: OptionalBoolean = False
    emoji: OptionalString = None


class Location(Payload):
    latitude: Latitude
    longitude: Longitude


class Venue(Payload):
    location: Annotated[Location, Object]
    title: OptionalString = None
    address: OptionalString = None


class Contact(Payload):
    phone_number: String
    first_name: OptionalString = None
    last_name: OptionalString = None


# Ids: update_id and message_id are positive; user and chat ids "have at most 52 significant bits".
# Beyond 64 bits a number is junk (an absurd idempotency key): `Integer` refuses it as out of range.


class User(Payload):
    id: Integer
    is_bot: Boolean
    first_name: OptionalString = None
    last_name: OptionalString = None
    language_code: Language = None  # the user's app language ("uk", "pt-br"); absent for some users


class Chat(Payload):
    id: Integer
    type: String


class Message(Payload):
    chat: Annotated[Chat, Object]
    sender: Annotated[User, Object] = Field(alias="from")
    text: OptionalString = None
    caption: OptionalString = None
    photo: Annotated[list[Annotated[PhotoSize, Object]] | None, BeforeValidator(_photo_sizes)] = None
    animation: Annotated[File | None, OptionalObject] = None
    video: Annotated[File | None, OptionalObject] = None
    video_note: Annotated[File | None, OptionalObject] = None
    voice: Annotated[File | None, OptionalObject] = None
    audio: Annotated[File | None, OptionalObject] = None
    document: Annotated[File | None, OptionalObject] = None
    sticker: Annotated[Sticker | None, OptionalObject] = None
    venue: Annotated[Venue | None, OptionalObject] = None
    location: Annotated[Location | None, OptionalObject] = None
    contact: Annotated[Contact | None, OptionalObject] = None
    message_id: NonNegative  # last: a wrong field in what the person sent is named before a missing id


class _InChat(Payload):
    """Where a message was written: all `parse` reads before ignoring a group's or a channel's."""

    chat: Annotated[Chat, Object]


class _ChatEnvelope(Payload):
    update_id: NonNegative
    message: Annotated[_InChat | None, OptionalObject] = None


class _Addressed(_InChat):
    """And who wrote it: all `parse` reads before ignoring a bot's."""

    sender: Annotated[User, Object] = Field(alias="from")


class _SenderEnvelope(_ChatEnvelope):
    message: Annotated[_Addressed | None, OptionalObject] = None


class Update(Payload):
    update_id: NonNegative
    message: Annotated[Message | None, OptionalObject] = None  # None: edited_message, callback_query...


def _load(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # ValueError covers UnicodeDecodeError, huge ints
        raise BadRequest(f"body is not valid JSON: {type(exc).__name__}") from None
    except TypeError:
        raise BadRequest("body must be bytes of JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object (a Telegram Update)")
    return data


# --------------------------------------------------------------------------- message content

# Media Telegram sends as a file: (field, how the agent reads it, file name and type if it has none).
# An animation (GIF) also sets `document` for old clients, so it comes first.
FILES = (
    ("animation", "animation", "animation.mp4", "video/mp4"),
    ("video", "video", "video.mp4", "video/mp4"),
    ("video_note", "video message", "video_note.mp4", "video/mp4"),
    ("voice", "voice message", "voice.ogg", "audio/ogg"),
    ("audio", "audio", "audio.mp3", "audio/mpeg"),
    ("document", "document", "document", "application/octet-stream"),
)
Described = tuple[str, tuple[Attachment, ...]]  # (what the agent reads, the media recorded)


def _content(message: Message) -> Described | None:
    """(body, attachments) of a person's message, or None when it has neither text nor media.

    Text and caption are what the customer wrote; media without a caption is described.
    Kinds not handled here (polls, dice, games, payments) count as service messages.
    """
    written = next((value for value in (message.text, message.caption) if value and value.strip()), None)
    described = _media(message)
    if written is None and described is None:
        return None
    description, attachments = described or ("", ())
    return (written.strip() if written else description), attachments


def _media(message: Message) -> Described | None:
    """The first kind of media the message carries, as (description, attachments)."""
    largest = _largest_photo(message.photo or [])
    if largest is not None:
        return "[photo]", (_attachment(largest, "photo.jpg", "image/jpeg"),)
    for key, label, default_name, default_type in FILES:
        media = getattr(message, key)
        if media is not None:
            return _file(media, key, label, default_name, default_type)
    if message.sticker is not None:
        return _sticker(message.sticker)
    if message.venue is not None:
        return _venue(message.venue), ()
    if message.location is not None:
        return f"[location {_where_on_map(message.location)}]", ()
    if message.contact is not None:
        contact = message.contact
        person = _name(contact.first_name, contact.last_name)
        phone = contact.phone_number.strip()
        return (f"[contact {person} {phone}]" if person else f"[contact {phone}]"), ()
    return None


def _file(media: File, key: str, label: str, default_name: str, default_type: str) -> Described:
    attachment = _attachment(media, default_name, default_type)
    detail = []
    if key in ("document", "audio") and attachment.name != default_name:  # the sender's own file name
        detail.append(attachment.name)
    if media.duration is not None and key != "animation":
        detail.append(_duration(media.duration))
    return "[" + " ".join([label, *detail]) + "]", (attachment,)


def _sticker(sticker: Sticker) -> Described:
    """A sticker is the app's picture, not the customer's file: its emoji says what they meant."""
    emoji = sticker.emoji
    return (f"[sticker {emoji.strip()}]" if emoji and emoji.strip() else "[sticker]"), ()


def _venue(venue: Venue) -> str:
    place = ", ".join(part.strip() for part in (venue.title or "", venue.address or "") if part.strip())
    where_on_map = _where_on_map(venue.location)
    return f"[venue {place} at {where_on_map}]" if place else f"[venue {where_on_map}]"


def _where_on_map(location: Location) -> str:
    return f"{location.latitude:.5f}, {location.longitude:.5f}"


def _largest_photo(sizes: list[PhotoSize]) -> PhotoSize | None:
    """Telegram sends one PhotoSize per resolution; only the largest is worth recording."""
    best: tuple[int, int] | None = None
    chosen: PhotoSize | None = None
    for size in sizes:
        rank = ((size.width or 0) * (size.height or 0), size.file_size or 0)
        if best is None or rank >= best:  # ties go to the later size: Telegram lists them ascending
            best, chosen = rank, size
    return chosen


def _attachment(media: _File, default_name: str, default_type: str) -> Attachment:
    name = getattr(media, "file_name", None)
    content_type = getattr(media, "mime_type", None)
    size = media.file_size
    return Attachment(
        name=name.strip() if name and name.strip() else default_name,
        content_type=content_type.strip().lower() if content_type and content_type.strip() else default_type,
        size=size if size is not None and size >= 0 else 0,
        provider_file_id=media.file_id,
    )


def _duration(seconds: int) -> str:
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _name(first: str | None, last: str | None) -> str:
    """ "first_name last_name", as Telegram shows a person (first_name is required, last_name optional)."""
    return " ".join(part.strip() for part in (first, last) if part and part.strip())
