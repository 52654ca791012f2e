"""Telegram: a bot's webhook updates in, `sendMessage` out (https://core.telegram.org/bots/api).

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

Media is recorded, never downloaded: an `Attachment` keeps Telegram's `file_id`, which the
agent's tools can exchange for the file later (`getFile`). A message with media and no
caption gets a short bracketed body ("[photo]", "[voice message 0:07]") so the agent sees
what arrived.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib import providers, secrets
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.providers import ProviderError

NAME = "telegram"
MAX_BODY_BYTES = 64 * 1024  # an update is a few kB: text is at most 4096 characters, a caption 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message",)  # what `set_webhook` subscribes to; anything else is ignored anyway

# Telegram ids: update_id is positive; user and chat ids "have at most 52 significant bits".
# Far larger numbers are junk (and would make absurd idempotency keys), so they are refused.
_MAX_ID = 2**63
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")  # IETF tag, as Telegram sends it
_NUMERIC_CHAT_ID = re.compile(r"^-?\d{1,20}$")
_SURROGATE = re.compile("[\ud800-\udfff]")  # what is left of a pair after json.loads is a lone half
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
    update = _load(body)
    _int(update.get("update_id"), "update_id", minimum=0)
    message = update.get("message")
    if message is None:  # edited_message, callback_query, my_chat_member, channel_post...
        return []
    message = _object(message, "message")
    chat = _object(message.get("chat"), "message.chat")
    chat_id = _int(chat.get("id"), "message.chat.id")
    chat_type = _str(chat.get("type"), "message.chat.type")
    if chat_type != "private":
        return []
    sender = _object(message.get("from"), "message.from")
    _int(sender.get("id"), "message.from.id")
    if _bool(sender.get("is_bot"), "message.from.is_bot"):
        return []
    content = _content(message)
    if content is None:  # a service message: nothing a person wrote
        return []
    message_id = _int(message.get("message_id"), "message.message_id", minimum=0)
    body_text, attachments = content
    return [
        Inbound(
            channel=NAME,
            # not update_id: Telegram restarts it at random after a week without updates, and a
            # repeat would be dropped as a redelivery; (chat, message) is unique for a bot
            provider_id=f"{chat_id}:{message_id}",
            received_at=received_at,
            address=str(chat_id),
            thread_key=str(chat_id),
            name=_name(sender),
            language=_language(sender.get("language_code")),
            body=body_text,
            attachments=attachments,
        )
    ]


def send(message: Outgoing) -> str:
    """`sendMessage` as plain text (no parse_mode: an agent's "<" or "*" is sent as typed);
    returns Telegram's message_id. Raises ProviderError: retryable for 429 (with Telegram's
    `retry_after`), 5xx and network failures; not retryable for the rest (blocked by the user,
    chat not found, bad token...), with Telegram's description in the message."""
    address = message.address.strip()
    chat_id: int | str = int(address) if _NUMERIC_CHAT_ID.match(address) else address
    result = _call("sendMessage", {"chat_id": chat_id, "text": message.text})
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if not _is_int(message_id):
        # Telegram said ok, so the message most likely went out: a retry could send it twice.
        raise ProviderError("telegram sendMessage answered ok without a message_id", retryable=False)
    return str(message_id)


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


def _call(method: str, payload: Mapping[str, Any]) -> Any:
    """POST a Bot API method and return its `result`, or raise ProviderError.

    Telegram answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code": 403,
    "description": "Forbidden: bot was blocked by the user", "parameters": {"retry_after": 3}}`,
    normally with the HTTP status equal to error_code; an `ok: false` inside a 200 is judged by
    its error_code the same way.
    """
    token = secrets.get("telegram_bot_token")
    try:
        status, data, headers = providers.post_json(f"{providers.base_url(NAME)}/bot{token}/{method}", payload)
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
        if not _is_int(error_code):
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


def _description(data: Mapping[str, Any], token: str) -> str:
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        return ""
    return ": " + _scrub(_clean(description.strip())[:_MAX_DETAIL_CHARS], token)


def _scrub(text: str, token: str) -> str:
    """Belt and braces: whatever a message was built from, the bot token never leaves."""
    return text.replace(token, "<bot token>") if token else text


# --------------------------------------------------------------------------- message content


def _content(message: Mapping[str, Any]) -> tuple[str, tuple[Attachment, ...]] | None:
    """(body, attachments) of a person's message, or None when it has neither text nor media.

    Text and caption are what the customer wrote; media without a caption is described.
    Kinds not handled here (polls, dice, games, payments) count as service messages.
    """
    text = _opt_str(message, "text", "message.text")
    caption = _opt_str(message, "caption", "message.caption")
    written = next((value for value in (text, caption) if value and value.strip()), None)
    described = _media(message)
    if written is None and described is None:
        return None
    description, attachments = described or ("", ())
    return (written.strip() if written else description), attachments


def _media(message: Mapping[str, Any]) -> tuple[str, tuple[Attachment, ...]] | None:
    """The first kind of media the message carries, as (description, attachments)."""
    if message.get("photo") is not None:
        largest = _largest_photo(message["photo"])
        if largest is not None:
            where, photo = largest
            return "[photo]", (_attachment(photo, where, "photo.jpg", "image/jpeg"),)
    # An animation (GIF) also sets `document` for old clients, so it is looked at first.
    for key, label, default_name, default_type in (
        ("animation", "animation", "animation.mp4", "video/mp4"),
        ("video", "video", "video.mp4", "video/mp4"),
        ("video_note", "video message", "video_note.mp4", "video/mp4"),
        ("voice", "voice message", "voice.ogg", "audio/ogg"),
        ("audio", "audio", "audio.mp3", "audio/mpeg"),
        ("document", "document", "document", "application/octet-stream"),
    ):
        if message.get(key) is None:
            continue
        where = f"message.{key}"
        media = _object(message[key], where)
        attachment = _attachment(media, where, default_name, default_type)
        duration = _opt_int(media, "duration", f"{where}.duration")
        detail = []
        if key in ("document", "audio") and attachment.name != default_name:  # the sender's own file name
            detail.append(attachment.name)
        if duration is not None and key != "animation":
            detail.append(_duration(duration))
        return "[" + " ".join([label, *detail]) + "]", (attachment,)
    if message.get("sticker") is not None:
        sticker = _object(message["sticker"], "message.sticker")
        if _opt_bool(sticker, "is_animated", "message.sticker.is_animated"):
            name, content_type = "sticker.tgs", "application/x-tgsticker"
        elif _opt_bool(sticker, "is_video", "message.sticker.is_video"):
            name, content_type = "sticker.webm", "video/webm"
        else:
            name, content_type = "sticker.webp", "image/webp"
        emoji = _opt_str(sticker, "emoji", "message.sticker.emoji")
        label = f"[sticker {emoji.strip()}]" if emoji and emoji.strip() else "[sticker]"
        return label, (_attachment(sticker, "message.sticker", name, content_type),)
    if message.get("venue") is not None:
        venue = _object(message["venue"], "message.venue")
        latitude, longitude = _coordinates(venue.get("location"), "message.venue.location")
        title = _opt_str(venue, "title", "message.venue.title") or ""
        address = _opt_str(venue, "address", "message.venue.address") or ""
        place = ", ".join(part.strip() for part in (title, address) if part.strip())
        where_on_map = f"{latitude:.5f}, {longitude:.5f}"
        return (f"[venue {place} at {where_on_map}]" if place else f"[venue {where_on_map}]"), ()
    if message.get("location") is not None:
        latitude, longitude = _coordinates(message["location"], "message.location")
        return f"[location {latitude:.5f}, {longitude:.5f}]", ()
    if message.get("contact") is not None:
        contact = _object(message["contact"], "message.contact")
        phone = _str(contact.get("phone_number"), "message.contact.phone_number").strip()
        person = _name(contact, "message.contact")
        return f"[contact {person} {phone}]" if person else f"[contact {phone}]", ()
    return None


def _largest_photo(sizes: Any) -> tuple[str, Mapping[str, Any]] | None:
    """Telegram sends one PhotoSize per resolution; only the largest is worth recording.
    Returns (its path in the update, for error messages; the PhotoSize)."""
    if not isinstance(sizes, list):
        raise BadRequest("message.photo must be a list of PhotoSize objects", field="message.photo")
    best: tuple[int, int] | None = None
    chosen: tuple[str, Mapping[str, Any]] | None = None
    for index, size in enumerate(sizes):
        where = f"message.photo[{index}]"
        size = _object(size, where)
        area = (_opt_int(size, "width", f"{where}.width") or 0) * (_opt_int(size, "height", f"{where}.height") or 0)
        rank = (area, _opt_int(size, "file_size", f"{where}.file_size") or 0)
        if best is None or rank >= best:  # ties go to the later size: Telegram lists them ascending
            best, chosen = rank, (where, size)
    return chosen


def _attachment(media: Mapping[str, Any], where: str, default_name: str, default_type: str) -> Attachment:
    file_id = _str(media.get("file_id"), f"{where}.file_id")
    if not file_id:
        raise BadRequest(f"{where}.file_id must not be empty", field=f"{where}.file_id")
    name = _opt_str(media, "file_name", f"{where}.file_name")
    content_type = _opt_str(media, "mime_type", f"{where}.mime_type")
    size = _opt_int(media, "file_size", f"{where}.file_size")
    return Attachment(
        name=name.strip() if name and name.strip() else default_name,
        content_type=content_type.strip().lower() if content_type and content_type.strip() else default_type,
        size=size if size is not None and size >= 0 else 0,
        provider_file_id=file_id,
    )


def _coordinates(location: Any, where: str) -> tuple[float, float]:
    location = _object(location, where)
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not (_is_number(latitude) and -90 <= latitude <= 90):
        raise BadRequest(f"{where}.latitude must be a number from -90 to 90", field=f"{where}.latitude")
    if not (_is_number(longitude) and -180 <= longitude <= 180):
        raise BadRequest(f"{where}.longitude must be a number from -180 to 180", field=f"{where}.longitude")
    return float(latitude), float(longitude)


def _duration(seconds: int) -> str:
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _name(person: Mapping[str, Any], where: str = "message.from") -> str:
    """ "first_name last_name", as Telegram shows a person (first_name is required, last_name optional)."""
    parts = (_opt_str(person, "first_name", f"{where}.first_name"), _opt_str(person, "last_name", f"{where}.last_name"))
    return " ".join(part.strip() for part in parts if part and part.strip())


def _language(value: Any) -> str | None:
    """`from.language_code` is the user's app language ("uk", "pt-br"); absent for some users."""
    if value is None:
        return None
    value = _str(value, "message.from.language_code").strip()
    return value if _LANGUAGE.match(value) else None


# --------------------------------------------------------------------------- typed access
# Every read of the untrusted update goes through one of these, so a wrong shape becomes a
# BadRequest naming the field (JSON null counts as absent for optional fields).


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


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be an object", field=where)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) and abs(value) < _MAX_ID) or (isinstance(value, float) and math.isfinite(value))


def _int(value: Any, where: str, *, minimum: int = -_MAX_ID) -> int:
    if not _is_int(value):
        raise BadRequest(f"{where} must be an integer", field=where)
    if not minimum <= value < _MAX_ID:
        raise BadRequest(f"{where} is out of range", field=where)
    return value


def _opt_int(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    return None if value is None else _int(value, where)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string", field=where)
    return _clean(value)


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    return None if value is None else _str(value, where)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{where} must be true or false", field=where)
    return value


def _opt_bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = obj.get(key)
    return False if value is None else _bool(value, where)


def _clean(text: str) -> str:
    """JSON may carry lone UTF-16 surrogates ("\\ud83d" alone), which cannot be stored as
    UTF-8 later; they become U+FFFD here. Real emoji arrive as pairs and are kept."""
    return _SURROGATE.sub("\ufffd", text)
