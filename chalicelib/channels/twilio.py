"""Twilio Programmable Messaging: SMS/MMS and WhatsApp on one webhook and one send API.

Inbound: Twilio POSTs `application/x-www-form-urlencoded` parameters (MessageSid, AccountSid,
From, To, Body, NumMedia, MediaUrl{N}/MediaContentType{N}; WhatsApp adds ProfileName, WaId,
MessageType and, for a shared location, Latitude/Longitude/Address/Label) and expects TwiML
back; an empty `<Response></Response>` means "no reply now" (the acknowledgement goes through
the outbox like every other reply).

Signature (`X-Twilio-Signature`): base64 HMAC-SHA1, keyed with the account's auth token, of
the full URL Twilio called followed by every POST parameter as name+value, sorted by name
(several values of one name sorted too, as Twilio's SDKs do). Twilio is inconsistent about a
port in that URL, so like its SDKs we accept the URL with and without the explicit port. The
URL is the one set in Twilio's console, which may be any of the stage's public base URLs (a
custom domain, the API Gateway URL: `stage.public_urls`) and carry a query string; each
candidate is checked (webhooks.py builds them).

Twilio does not retry a messaging webhook that fails (5xx, timeout) unless the number has a
Fallback URL: set it to the same webhook URL, so a message that met a busy moment is delivered
once more (intake is idempotent) instead of lost.

Outbound: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with basic auth, which answers
201 with the message `sid`, or an error JSON `{"code", "message", "more_info", "status"}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlsplit

from chalicelib import providers, secrets, stage
from chalicelib.channels import fields
from chalicelib.channels.base import Attachment, Inbound, Outgoing
from chalicelib.channels.fields import LATITUDE, LONGITUDE
from chalicelib.errors import BadRequest, Unauthorized

NAME = "twilio"
MAX_BODY_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_TEXT = 1600  # Twilio's limit on a message Body, whatever the channel
MAX_MEDIA = 10  # Twilio delivers at most 10 media items per message
MAX_FIELDS = 500
WHATSAPP = "whatsapp:"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")  # how Twilio gives a number, and how the desk keys it
_TYPED_PHONE = re.compile(r"^[(]?(\+|00)?[0-9 ().\-]+$")
# Twilio's Advanced Opt-Out tags keyword messages; STOP/START are consent changes, not requests
# for help, so they are stored (agents see them) but not acknowledged nor put on the SLA clock.
CONSENT_KEYWORDS = {"STOP", "START"}
# What a media item's name ends in, by MediaContentType{N} (the types MMS and WhatsApp carry).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
}


def phone_number(typed: str) -> str | None:
    """A number as a person types it ("+380 50 123-45-67", "(+380) 50.123.4567", "00380501234567")
    in the E.164 form a customer's phone is stored and keyed under (`contact#phone#+380501234567`),
    or None when it is not a full international number (a local "050 123 45 67" names no country)."""
    text = typed.strip()
    if not _TYPED_PHONE.fullmatch(text):
        return None
    digits, lead = re.sub(r"[^0-9]", "", text), text.lstrip("( ")
    if lead.startswith("00"):
        digits = digits[2:]
    elif not lead.startswith("+"):
        return None
    number = f"+{digits}"
    return number if E164.fullmatch(number) else None


# --- inbound ---------------------------------------------------------------------------------


def verify(body: bytes, headers: Mapping[str, str], urls: Sequence[str]) -> None:
    """Check `X-Twilio-Signature` against the POST parameters and `urls` (the public URLs
    Twilio may have called, query string included: one matching is enough), then that the
    message is for our account."""
    header = (headers.get(SIGNATURE_HEADER.lower()) or "").strip()
    if not header:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    params = _params(body, headers)
    token = secrets.get("twilio_auth_token")
    given = header.encode("utf-8", "replace")
    # no short-circuit: every candidate is always computed and compared in constant time
    matches = [
        hmac.compare_digest(signature(token, candidate, params).encode(), given)
        for url in urls
        for candidate in _url_variants(url)
    ]
    if not any(matches):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the URL and parameters")
    # authentic (signed with our token) but for another account, e.g. a subaccount: not ours.
    # A signed body without AccountSid is left to parse, which says what is missing.
    account = _single(params, "AccountSid", unauthorized=True)
    if account is not None and not hmac.compare_digest(account.encode(), secrets.get("twilio_account_sid").encode()):
        raise Unauthorized("AccountSid is not this desk's Twilio account")


def signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's request signature of `url` + the POST parameters (pure; exposed for tests/tools)."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def parse(body: bytes, headers: Mapping[str, str], received_at: datetime) -> list[Inbound]:
    """One incoming SMS/MMS/WhatsApp message → one Inbound; a status callback → []."""
    params = _params(body, headers)
    if _is_status_callback(params):
        return []
    sid = _single(params, "MessageSid") or _single(params, "SmsMessageSid") or _single(params, "SmsSid")
    if not sid:
        raise BadRequest("MessageSid is missing: not a Twilio message webhook", field="MessageSid")
    sender = _single(params, "From")
    if not sender:
        raise BadRequest("From is missing", field="From")
    channel, number = _channel_and_number(sender)
    attachments = _attachments(params)
    opt = (_single(params, "OptOutType") or "").upper()
    return [
        Inbound(
            channel=channel,
            provider_id=sid,
            received_at=received_at,
            address=sender,
            body=_text(params, attachments),
            name=(_single(params, "ProfileName") or "").strip()[:200],
            phone=number if E164.match(number) else None,
            language=None,  # Twilio does not say; the desk guesses or uses its default
            thread_key=sender,
            automated=f"opt-out keyword {opt}" if opt in CONSENT_KEYWORDS else None,
            attachments=attachments,
        )
    ]


def ok_response() -> tuple[str, str]:
    return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml"


def _params(body: bytes, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type != "application/x-www-form-urlencoded":
        raise BadRequest(f"Twilio webhooks are application/x-www-form-urlencoded, not {content_type[:80]}")
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8 form-encoded parameters") from None
    except ValueError as error:  # "bad query field", too many fields
        raise BadRequest(f"body is not form-encoded parameters: {str(error)[:100]}") from None


def _single(params: list[tuple[str, str]], name: str, *, unauthorized: bool = False) -> str | None:
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        message = f"{name} appears {len(values)} times"
        raise Unauthorized(message) if unauthorized else BadRequest(message, field=name)
    return values[0] if values else None


def _is_status_callback(params: list[tuple[str, str]]) -> bool:
    names = {name for name, _ in params}
    if "MessageStatus" in names and not names & {"Body", "NumMedia"}:
        return True
    status = _single(params, "SmsStatus")
    return status is not None and status != "received"


def _channel_and_number(sender: str) -> tuple[str, str]:
    if sender.startswith(WHATSAPP):
        return "whatsapp", sender[len(WHATSAPP) :]
    prefix = re.match(r"^([a-z]+):", sender)
    if prefix:  # messenger:, rcs:... would need their own sender and templates
        raise BadRequest(f"From is on Twilio channel {prefix.group(1)!r}, which this desk does not serve", field="From")
    return "sms", sender


def _attachments(params: list[tuple[str, str]]) -> tuple[Attachment, ...]:
    raw = (_single(params, "NumMedia") or "0").strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise BadRequest(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}", field="NumMedia")
    found = []
    for index in range(int(raw)):
        url = (_single(params, f"MediaUrl{index}") or "").strip()
        if not url:
            raise BadRequest(f"MediaUrl{index} is missing though NumMedia is {raw}", field=f"MediaUrl{index}")
        content_type = (_single(params, f"MediaContentType{index}") or "").strip() or "application/octet-stream"
        found.append(
            Attachment(
                name=_media_name(url, index, content_type),
                content_type=content_type[:255],
                size=0,  # Twilio does not say; the fetch job learns it
                provider_file_id=url,
            )
        )
    return tuple(found)


def _media_name(url: str, index: int, content_type: str) -> str:
    """Twilio media URLs end in the Media SID (…/Messages/MM…/Media/ME…), which names no type:
    the extension of MediaContentType{N} is added, so the agent's download opens in its app."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    stem = unquote(path.rstrip("/").rsplit("/", 1)[-1])[:200] or f"media{index}"
    extension = EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower(), "")
    return stem if stem.lower().endswith(extension) else stem + extension


def _text(params: list[tuple[str, str]], attachments: tuple[Attachment, ...]) -> str:
    """The message as an agent reads it: the Body, or a bracketed note of what was sent instead."""
    body = _single(params, "Body") or ""
    if body.strip():
        return body
    latitude, longitude = _single(params, "Latitude"), _single(params, "Longitude")
    if latitude is not None or longitude is not None:
        place = ", ".join(
            part.strip() for part in (_single(params, "Label"), _single(params, "Address")) if part and part.strip()
        )
        point = _coordinate("Latitude", latitude, LATITUDE), _coordinate("Longitude", longitude, LONGITUDE)
        where = f"[location {point[0]}, {point[1]}]"
        return f"{where} {place}" if place else where
    if attachments:
        return " ".join(f"[{attachment.content_type}]" for attachment in attachments)
    kind = (_single(params, "MessageType") or "").strip()
    return f"[{kind[:40]} message]" if kind and kind != "text" else "[empty message]"


def _coordinate(name: str, value: str | None, limit: int) -> str:
    """A parameter (text, as every form field is) as a coordinate, or BadRequest."""
    try:
        number = fields.coordinate(float(value or ""), limit)
    except ValueError:
        number = None
    if number is None:
        raise BadRequest(f"{name} must be a number from -{limit} to {limit}", field=name)
    return f"{number:.5f}"


def _url_variants(url: str) -> list[str]:
    """`url` as given and with its default port added or removed (Twilio signs either)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if port is not None:
        hostport = hostport[: hostport.rfind(":")]
    elif parts.scheme in ("https", "http") and hostport:
        hostport = f"{hostport}:{443 if parts.scheme == 'https' else 80}"
    else:
        return [url]
    return [url, parts._replace(netloc=userinfo + at + hostport).geturl()]


# --- outbound --------------------------------------------------------------------------------


def send(message: Outgoing) -> str:
    """Send `message.text` to `message.address` and return Twilio's message sid.

    SMS: Twilio splits a long Body into segments itself (each billed), up to 1600 characters
    per message; WhatsApp has the same Body limit on this API. Longer text is cut at 1600 with
    "…" (counted in UTF-16 units, as Twilio counts emoji as more than one character).
    Errors: 429, 5xx and network failures are retryable (Retry-After honoured); other 4xx, such
    as 21211 invalid To, 21610 unsubscribed recipient or 63016 outside WhatsApp's 24-hour window,
    are permanent. The auth token never appears in an error.
    """
    return _post(message, {"Body": truncate(message.text)})


def send_media(message: Outgoing, media_url: str) -> str:
    """One file to a WhatsApp number, by a URL Twilio fetches as it sends (one media per
    message; `message.text`, the file's name, is its caption). Errors as `send`'s."""
    return _post(message, {"Body": truncate(message.text), "MediaUrl": media_url})


def _post(message: Outgoing, content: dict[str, str]) -> str:
    account = secrets.get("twilio_account_sid")
    token = secrets.get("twilio_auth_token")
    whatsapp = message.channel == "whatsapp"
    sender = stage.twilio_sender(message.channel)
    if not sender:
        # retryable: an operator fixes the setting, then redrives the dead-letter queue
        raise providers.ProviderError(f"twilio: {stage.twilio_sender_variable(message.channel)} is not set")
    to = message.address
    if whatsapp and not to.startswith(WHATSAPP):
        to = WHATSAPP + to
    url = f"{providers.base_url('twilio')}/2010-04-01/Accounts/{account}/Messages.json"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()}
    status, data, headers = providers.post_form(url, {"To": to, "From": sender, **content}, headers=auth)
    providers.raise_for_status("twilio", status, headers, _error_detail(data, token))
    sid = data.get("sid")
    if not isinstance(sid, str) or not sid:
        raise providers.ProviderError(f"twilio answered {status} without a message sid", status=status)
    return sid


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` UTF-16 code units, ending in "…" when cut (never splitting a pair)."""
    if _utf16_length(text) <= limit:
        return text
    kept, used = [], 1  # room for the ellipsis
    for char in text:
        size = _utf16_length(char)
        if used + size > limit:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + "…"


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _error_detail(data: Mapping[str, object], token: str) -> str:
    """Twilio's own explanation, e.g. "error 21610: Attempt to send to unsubscribed recipient"."""
    code, text = data.get("code"), data.get("message")
    if not isinstance(text, str) or not text:
        return ""
    detail = f"error {code}: {text}" if isinstance(code, (int, str)) and code != "" else text
    more = data.get("more_info")
    if isinstance(more, str) and more:
        detail += f" ({more})"
    return detail[:500].replace(token, "***") if token else detail[:500]
