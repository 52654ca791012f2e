"""Email channel: turn the raw MIME that SES stored in S3 into an `Inbound`.

Pure parsing, no AWS calls: the standard library's MIME parser under the caps and time
budget of `mime_limits`, and lexbor (selectolax) for HTML. The caller fetches the bytes and
passes the S3 key as `raw_ref`, so the original mail can always be read again.

Everything in a mail is written by the sender, and the standard library's header parser
crashes on some malformed input (IndexError, AttributeError... on a lone "<" in From).
So every field is read through a guard that degrades that one field (empty text, a
skipped attachment) instead of losing the whole message. The only error a caller has
to handle is `MalformedEmail`: a mail with nobody to answer, or no MIME tree at all.

The sender also controls how much work a mail costs. Every step is bounded (parts, headers,
parameters, characters of text, one time budget), so a hostile mail still becomes a ticket
within the Lambda's timeout; what was left unread is listed in `Inbound.truncated`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email.errors import InvalidBase64LengthDefect
from email.header import decode_header, make_header
from email.message import Message
from email.policy import default as DEFAULT_POLICY
from email.utils import getaddresses
from html import unescape
from typing import TYPE_CHECKING

from chalicelib.channels import mime_limits, tnef
from chalicelib.channels.base import UNAUTHENTICATED, Attachment, Inbound
from chalicelib.channels.mime_limits import Cuts, Deadline
from chalicelib.channels.reply_text import strip_quoted

if TYPE_CHECKING:  # selectolax itself is imported on first use: only inbound email parses HTML
    from selectolax.lexbor import LexborNode

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_BODY_CHARS",
    "MAX_HTML_DEPTH",
    "MAX_THREAD_REFS",
    "PARSE_BUDGET_SECONDS",
    "MalformedEmail",
    "automated_reason",
    "guess_language",
    "html_to_text",
    "parse_email",
    "strip_quoted",
]

CHANNEL = "email"
MAX_BODY_CHARS = 20_000  # longer bodies are truncated with a marker, see `_truncate`
# Files listed on one message: the ceiling of desk.toml's [attachments] max_count, so the desk's
# own cap (files.Budget) is what refuses, naming each file; past this many (a message's item in
# DynamoDB stays small) they are only counted, see `_attachment_note`.
MAX_ATTACHMENTS = 100
MAX_THREAD_REFS = 20
# Work on at most this much decoded text per mail: a 40 MB body would otherwise cost the
# Lambda seconds of HTML parsing and quote stripping for text we then truncate anyway.
_MAX_WORK_CHARS = MAX_BODY_CHARS * 20
# Parsing stops taking up parts after this long (the rest is listed as not read), leaving
# most of the inbound Lambda's 30 s for S3 and intake; a 512 MB Lambda has ~1/3 of a core.
PARSE_BUDGET_SECONDS = 10.0
# RFC 5322 caps a line at 998 characters; a longer "message id" is junk, and as an
# idempotency key it could exceed DynamoDB's key size.
_MAX_MSGID_CHARS = 998
_MAX_NESTING = 30  # deeper MIME trees are hostile; their inner parts are ignored
# The stdlib decodes encoded-words in quadratic time and memory (a 280 kB Subject took
# 2.7 GB); real headers are far shorter, so longer values are cut before decoding.
_MAX_HEADER_CHARS = 8_192

_MAX_CID_CHARS = 250  # a Content-ID is a message-id: a longer one is junk
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")  # Outlook's winmail.dat
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
}

# Raw 8-bit headers that are not UTF-8 are, on this desk's mail, almost always Cyrillic.
_FALLBACK_CHARSET = "windows-1251"


class MalformedEmail(ValueError):
    """The mail cannot become an `Inbound`: no usable sender address, or no MIME at all."""


# --------------------------------------------------------------------------- entry point


def parse_email(
    raw: bytes,
    *,
    received_at: datetime,
    fallback_id: str,
    raw_ref: str | None = None,
    size: int | None = None,
    budget: float = PARSE_BUDGET_SECONDS,
) -> Inbound:
    """Parse one raw RFC 5322 message into an `Inbound`.

    The body is the customer's own new text: text/plain preferred, else HTML reduced to
    text, then what the customer only quoted is removed (`reply_text.strip_quoted`; the subject
    tells a forward from a reply). A body longer than
    MAX_BODY_CHARS characters is cut to that length and a truncation marker line is
    appended; attachments beyond MAX_ATTACHMENTS are not listed but counted in a note
    line at the end of the body (`Inbound` has no field for the count).

    Attachments carry their decoded bytes (`Attachment.data`): files with a name or
    Content-Disposition: attachment, and inline images (the HTML cites them as "cid:...").
    The files inside an Outlook winmail.dat are handed over instead of it (`tnef`). A file
    that cannot be had whole (cut off with the mail's first 10 MB, undecodable) is `refused`
    with the reason.

    `size` is the whole mail's size when `raw` is only its beginning (ses.py reads at most
    10 MB). Parts are taken up until `budget` seconds have passed. Whatever the caps or the
    budget left unread is listed in `truncated` and, for the agent, in a last body line.

    Raises MalformedEmail when there is no usable sender address to answer.
    """
    cuts = Cuts(bytes_read=len(raw), bytes_total=max(size or 0, len(raw)))
    deadline = Deadline(budget)
    msg = _parse_bytes(raw, deadline, cuts)
    sender, address, name = _sender(msg)
    subject = _collapse_ws(_header_text(msg, "Subject"))
    body_parts, attachment_parts = _classify_leaves(msg, deadline, cuts)
    body = strip_quoted(_body_text(body_parts, deadline, cuts), subject).strip()
    truncated = cuts.notes()
    # the part the mail's first 10 MB end in, and why it is not whole ("only the first 10.5 MB of 12.0 MB read")
    cut_off = (_last_leaf(msg), f"cut off: {truncated[0]}") if cuts.bytes_total > cuts.bytes_read else None
    attachments, unlisted = _attachments(attachment_parts, cut_off, deadline)
    # lstrip: with no text at all (say, the budget spent), the notes are the first lines
    body = (_truncate(body) + _attachment_note(unlisted) + _unread_note(truncated)).lstrip()
    return Inbound(
        channel=CHANNEL,
        provider_id=_normalise_msgid(_raw_header(msg, "Message-ID")) or fallback_id,
        received_at=received_at,
        address=address,
        email=sender,
        name=name,
        subject=subject,
        body=body,
        language=_language(msg, f"{subject}\n{body}"),
        timezone=None,  # email carries a UTC offset at most, never an IANA zone
        thread_refs=_thread_refs(msg),
        automated=automated_reason(msg),
        attachments=tuple(attachments),
        raw_ref=raw_ref,
        trust=UNAUTHENTICATED,  # until the receiving server's verdicts say otherwise (see ses.py)
        auth="no verdicts",
        truncated=truncated,
    )


def _parse_bytes(raw: bytes, deadline: Deadline, cuts: Cuts) -> Message:
    """Build the MIME tree within the caps; failing that, the mail is malformed rather than a crash."""
    try:
        return mime_limits.parse(raw, deadline, cuts)
    except Exception as exc:  # RecursionError on absurd nesting, parser bugs on junk
        raise MalformedEmail(f"cannot parse MIME structure: {type(exc).__name__}") from exc


# --------------------------------------------------------------------------- headers


def _raw_header(msg: Message, name: str) -> str | None:
    """First `name` header as unfolded text, 8-bit bytes decoded; None if absent.

    Read from `raw_items()` rather than `msg[name]`: the policy's structured parsers
    crash on some junk, and they turn raw UTF-8 (common in Subject) into U+FFFD.
    """
    wanted = name.lower()
    for key, value in msg.raw_items():
        if str(key).lower() == wanted:
            unfolded = "".join(re.split(r"\r\n|\r|\n", str(value)[:_MAX_HEADER_CHARS]))
            return _decode_8bit(unfolded, _declared_charset(msg)) if _has_8bit(unfolded) else unfolded
    return None


def _header_text(msg: Message, name: str) -> str:
    """Header value with RFC 2047 encoded-words decoded; "" if absent or undecodable."""
    value = _raw_header(msg, name)
    if value is None:
        return ""
    try:
        return str(DEFAULT_POLICY.header_factory(name, value))
    except Exception:  # noqa: BLE001, S110 - the stdlib parser's bugs on malformed input; the legacy one tries next
        pass
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - unknown charset in an encoded-word, broken base64...: as written
        return value


def _has_8bit(value: str) -> bool:
    """True if the parser surrogate-escaped raw non-ASCII bytes in this text."""
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _decode_8bit(value: str, fallback_charset: str) -> str:
    """Undo the parser's surrogate escapes for raw 8-bit header bytes.

    Clients often send UTF-8 headers unencoded; older Cyrillic ones send windows-1251.
    """
    if not _has_8bit(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_bytes(data, fallback_charset)


def _declared_charset(msg: Message) -> str:
    """The charset the top-level part declares, used to guess raw 8-bit headers."""
    try:
        charset = msg.get_param("charset", header="content-type")
    except Exception:  # noqa: BLE001 - a malformed Content-Type, whatever the parser raises: the fallback
        charset = None
    return charset if isinstance(charset, str) and charset else _FALLBACK_CHARSET


def _collapse_ws(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- sender

# One "@", something on both sides, a dot in the domain, no spaces or address syntax.
_ADDRESS_CHAR = r"[^@\s<>()\[\],;:\"\\\x00-\x1f\x7f]"
_USABLE_ADDRESS = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+")


def _sender(msg: Message) -> tuple[str | None, str, str]:
    """(who sent it, where answers go, display name).

    Who sent it is From's address and nothing else: Reply-To is where an answer goes, never
    who the sender is (anyone can write any Reply-To). A mail whose From is unusable but whose
    Reply-To is still becomes a ticket, with no identity to find a customer or an organization by.
    """
    senders = _addresses(msg, "From")
    sender = _first_usable(senders)
    reply_to = _first_usable(_addresses(msg, "Reply-To"))
    chosen = reply_to or sender
    if chosen is None:
        raise MalformedEmail("no usable sender address in Reply-To or From")
    address, name = chosen
    # Reply-To often carries the bare address; From's display name is the same person.
    if not name and sender and sender[0] == address:
        name = sender[1]
    # Two From headers or addresses: no one can say which one a DMARC verdict was about.
    unique = len(senders) == 1 and sum(str(key).lower() == "from" for key, _ in msg.raw_items()) == 1
    return (sender[0] if sender and unique else None), address, name


def _reply_address(msg: Message) -> str | None:
    """The address an acknowledgement would go to, or None; never raises."""
    chosen = _first_usable(_addresses(msg, "Reply-To")) or _first_usable(_addresses(msg, "From"))
    return chosen[0] if chosen else None


# RFC 2047: "=?charset?encoding?text?=". Addresses are never encoded, only display names are.
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header; [] if absent or unreadable.

    An address is only ever one written in the raw header: a display name is decoded for
    display, and one that decodes to address syntax ("x\\r\\nBcc: other@…", "other@…, ")
    never becomes the address we answer — a pair whose address is not in the header's text
    outside its encoded-words is dropped, whichever parser produced it.
    """
    value = _raw_header(msg, name)
    if value is None:
        return []
    written = _ENCODED_WORD.sub(" ", value).lower()
    return [
        (display, address)
        for display, address in _parsed_addresses(name, value)
        if address.strip() and address.strip().lower() in written
    ]


def _parsed_addresses(name: str, value: str) -> list[tuple[str, str]]:
    """The header parsed as written: the policy's parser, else the lenient legacy one on the
    raw text (decoding first would let an encoded display name pose as an address)."""
    try:
        header = DEFAULT_POLICY.header_factory(name, value)
        return [(a.display_name, a.addr_spec) for a in header.addresses]
    except Exception:  # noqa: BLE001, S110 - stdlib parser bugs (a lone "<"...); the lenient legacy parser next
        pass
    try:
        return [(_decoded_words(display), address) for display, address in getaddresses([value])]
    except Exception:  # noqa: BLE001 - unreadable by both parsers: no address from this header
        return []


def _decoded_words(text: str) -> str:
    """A display name with its RFC 2047 encoded-words decoded; as written if they are broken."""
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001 - unknown charset, broken base64: the name as written
        return text


def _first_usable(pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    """First pair whose address could receive a reply, as (address lower-cased, name)."""
    for display_name, address in pairs:
        address = address.strip().lower()
        if len(address) <= 254 and _USABLE_ADDRESS.fullmatch(address):
            return address, _collapse_ws(display_name)
    return None


# --------------------------------------------------------------------------- message ids

_MSGID_IN_BRACKETS = re.compile(r"<([^<>]*)>")


def _normalise_msgid(value: str | None) -> str | None:
    """`<abc@mail.example>` -> "abc@mail.example"; None if absent, empty or absurd."""
    if value is None:
        return None
    match = _MSGID_IN_BRACKETS.search(value)
    inner = match.group(1) if match else value.strip("<> \t")
    inner = "".join(inner.split())  # folding can leave spaces; ids have none
    return inner if 0 < len(inner) <= _MAX_MSGID_CHARS else None


def _msgid_list(value: str | None) -> list[str]:
    """All ids in an In-Reply-To/References value, bracketed or (sloppy clients) bare."""
    if not value:
        return []
    found = _MSGID_IN_BRACKETS.findall(value) or value.split()
    return [i for i in (_normalise_msgid(f"<{f}>") for f in found) if i]


def _thread_refs(msg: Message) -> tuple[str, ...]:
    """In-Reply-To first (the direct parent), then References, de-duplicated, capped."""
    ids = _msgid_list(_raw_header(msg, "In-Reply-To")) + _msgid_list(_raw_header(msg, "References"))
    return tuple(dict.fromkeys(ids))[:MAX_THREAD_REFS]


# --------------------------------------------------------------------------- MIME parts


def _leaves(part: Message, cuts: Cuts, depth: int = 0) -> Iterator[Message]:
    """Non-multipart parts in order. An attached message/* is one leaf: a forwarded
    mail's own attachments and text are not the customer's."""
    if depth > _MAX_NESTING:
        cuts.too_deep(part, _MAX_NESTING)
        return
    if _content_type(part).startswith("message/") or not part.is_multipart():
        yield part
        return
    children = part.get_payload()
    for child in children if isinstance(children, list) else []:
        if isinstance(child, Message):
            yield from _leaves(child, cuts, depth + 1)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - a malformed Content-Type; RFC 2045 says treat it as text/plain
        return "text/plain"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001 - a malformed Content-Disposition: as if there were none
        return None


def _filename(part: Message) -> str | None:
    """Decoded file name (RFC 2231 or the common non-standard RFC 2047 form), no path."""
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - malformed Content-Disposition / Content-Type parameters: no name
        return None
    if not name:
        return None
    name = _decode_8bit(str(name), _FALLBACK_CHARSET)
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:  # noqa: BLE001, S110 - broken encoded-words: the name stays as written
            pass
    # Old browsers upload "C:\fakepath\x.pdf"; the agent only needs the base name.
    name = _collapse_ws(re.split(r"[\\/]", name)[-1])
    return name[:255] or None


def _classify_leaves(msg: Message, deadline: Deadline, cuts: Cuts) -> tuple[list[tuple[str, Message]], list[Message]]:
    """Split leaves into body candidates, as (content type, part), for inline text
    without a file name, and attachments: a file name, Content-Disposition: attachment, an
    image, or any other non-text part with a Content-ID (what an HTML body cites as "cid:").
    Anything else (a DSN's status part...) is neither.

    Leaves past the first mime_limits.MAX_PARTS parts are not taken up, nor any once the
    deadline has passed; they are counted in `cuts`.
    """
    body: list[tuple[str, Message]] = []
    attachments: list[Message] = []
    leaves = _leaves(msg, cuts)
    for leaf in leaves:
        over_cap = mime_limits.past_cap(leaf)
        if over_cap or deadline.passed():
            rest = 1 + sum(1 for _ in leaves)
            if over_cap:
                cuts.parts_over_cap += rest
            else:
                cuts.late(rest, deadline)
            break
        # Headers are parsed once per mail (mime_limits), however often they are read.
        content_type = _content_type(leaf)
        if _filename(leaf) or _disposition(leaf) == "attachment":
            attachments.append(leaf)
        elif content_type in ("text/plain", "text/html"):
            body.append((content_type, leaf))
        elif content_type.startswith("image/") or _content_id(leaf):
            attachments.append(leaf)
    return body, attachments


def _payload_bytes(part: Message) -> bytes:
    """Transfer-decoded payload (base64, quoted-printable...); b"" if there is none."""
    return _decoded(part)[0]


def _decoded(part: Message) -> tuple[bytes, str | None]:
    """(transfer-decoded payload, why those bytes are not the file or None). Broken base64
    the stdlib cannot decode comes back still encoded: that is said, not kept as the file."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - an undecodable payload counts as empty (the raw mail stays in S3)
        return b"", "its content could not be decoded"
    if isinstance(payload, bytes):
        if any(isinstance(defect, InvalidBase64LengthDefect) for defect in part.defects):
            return payload, "its base64 is broken and cannot be decoded"
        return payload, None
    # message/* parts have a parsed message as payload, not bytes
    try:
        inner = part.get_payload()
        if not isinstance(inner, list):
            return b"", None
        chunks = []
        for message in inner:
            if not isinstance(message, Message):
                return b"", None
            chunks.append(message.as_bytes())
        return b"".join(chunks), None
    except Exception:  # noqa: BLE001 - an attached mail that cannot be written back counts as empty
        return b"", "the attached mail could not be written out"


def _content_id(part: Message) -> str | None:
    """The part's Content-ID without its angle brackets ("ii_lx0f3a1b0"), or None."""
    value = _normalise_msgid(_raw_header(part, "Content-ID"))
    return value[:_MAX_CID_CHARS] if value else None


def _last_leaf(msg: Message) -> Message | None:
    """The part the mail's last byte read falls in, when only the mail's beginning was read."""
    part = msg
    for _ in range(_MAX_NESTING + 1):
        children = part.get_payload()
        if _content_type(part).startswith("message/") or not isinstance(children, list) or not children:
            return part
        last = children[-1]
        if not isinstance(last, Message):
            return None
        part = last
    return None


def _attachments(
    parts: list[Message], cut_off: tuple[Message | None, str] | None, deadline: Deadline
) -> tuple[list[Attachment], int]:
    """The files the mail carries, in order, the files inside a winmail.dat in its place: at
    most MAX_ATTACHMENTS, and how many more there are (parts past the cap are counted, not read)."""
    found: list[Attachment] = []
    for index, part in enumerate(parts):
        if len(found) >= MAX_ATTACHMENTS:
            return found[:MAX_ATTACHMENTS], len(found) - MAX_ATTACHMENTS + len(parts) - index
        found.extend(_attachment(part, cut_off, len(found), deadline))
    return found[:MAX_ATTACHMENTS], max(0, len(found) - MAX_ATTACHMENTS)


def _attachment(
    part: Message, cut_off: tuple[Message | None, str] | None, before: int, deadline: Deadline
) -> list[Attachment]:
    """The part as files: itself, or the files inside it if it is Outlook's TNEF."""
    content_type = _content_type(part)
    cid = _content_id(part)
    name = _filename(part) or _fallback_name(content_type, before + 1)
    data, undecodable = _decoded(part)
    refused = cut_off[1] if cut_off and part is cut_off[0] else undecodable
    if refused:
        return [Attachment(name=name, content_type=content_type, size=len(data), cid=cid, refused=refused)]
    if content_type in _TNEF_TYPES or name.lower() == "winmail.dat":
        inside = _tnef_files(data, before, deadline)
        if inside:
            return inside
    return [Attachment(name=name, content_type=content_type, size=len(data), data=data, cid=cid)]


def _tnef_files(data: bytes, before: int, deadline: Deadline) -> list[Attachment]:
    """The files Outlook packed into a winmail.dat; [] when it holds none or is no TNEF
    (then the .dat itself is kept), or none could be read before the deadline."""
    return [
        Attachment(
            name=found.name or _fallback_name(found.content_type, before + number),
            content_type=found.content_type or "application/octet-stream",
            size=len(found.data),
            data=found.data,
        )
        for number, found in enumerate(tnef.files(data, deadline.passed), start=1)
    ]


def _fallback_name(content_type: str, number: int) -> str:
    """ "image-1.png" for a nameless inline image, "attachment-2.pdf" for another file."""
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{_EXTENSIONS.get(content_type, '')}"


def _attachment_note(unlisted: int) -> str:
    """Tell the agent attachments were left out of the list, since Inbound can't (the desk's
    own max_count, lower, refuses files by name: see MAX_ATTACHMENTS)."""
    return f"\n\n[{unlisted} more attachments not listed]" if unlisted > 0 else ""


def _unread_note(truncated: tuple[str, ...]) -> str:
    """Tell the agent, where they read, what of the mail was never read (`Inbound.truncated`)."""
    return f"\n\n[left out: {'; '.join(truncated)} - the full mail is in the original email]" if truncated else ""


# --------------------------------------------------------------------------- body text


def _body_text(parts: list[tuple[str, Message]], deadline: Deadline, cuts: Cuts) -> str:
    """text/plain parts joined (Apple Mail splits text around inline images); if they
    are missing or blank, the HTML parts reduced to text."""
    plain = _texts([p for kind, p in parts if kind == "text/plain"], deadline, cuts)
    text = "\n\n".join(t for t in plain if t.strip())
    if not text:
        html = [html_to_text(t, cuts) for t in _texts([p for kind, p in parts if kind == "text/html"], deadline, cuts)]
        text = "\n\n".join(t for t in html if t.strip())
    return text


def _texts(parts: list[Message], deadline: Deadline, cuts: Cuts) -> list[str]:
    """The parts' text in order, _MAX_WORK_CHARS characters at most in all: a part past
    that is cut, the parts after it are not read, and neither is any once the deadline
    has passed. Each is counted in `cuts`."""
    texts: list[str] = []
    room = _MAX_WORK_CHARS
    for index, part in enumerate(parts):
        if deadline.passed():
            cuts.late(len(parts) - index, deadline)
            break
        if room <= 0:
            cuts.text_cut(len(parts) - index, _MAX_WORK_CHARS)
            break
        text = _part_text(part)
        if len(text) > room:
            cuts.text_cut(1, _MAX_WORK_CHARS)
            text = text[:room]
        texts.append(text)
        room -= len(text)
    return texts


def _part_text(part: Message) -> str:
    """A text part as str, newlines normalised."""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001 - a malformed charset parameter: decoded as if none were given
        charset = None
    text = _decode_bytes(_payload_bytes(part), charset)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset when it fits; otherwise try UTF-8 and then
    windows-1251, because mislabelled (or unlabelled) Cyrillic mail is common."""
    for candidate in (charset, "utf-8", _FALLBACK_CHARSET):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown/non-text codec, or wrong guess
            continue
    return data.decode("utf-8", errors="replace")


def _truncate(text: str) -> str:
    """Cut text longer than MAX_BODY_CHARS, saying so, so the agent knows to open the raw mail."""
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + "\n\n[message truncated; the full text is in the original email]"


# --------------------------------------------------------------------------- HTML

_SKIPPED_TAGS = {"script", "style", "title", "template"}  # not text a reader sees
_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "pre",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "address",
}
# Browsers stop nesting elements at 512 levels (Blink); lexbor does not, and its tree
# building is quadratic in the depth of open elements (20,000 nested <div>: 1.3 s).
MAX_HTML_DEPTH = 512
_START_OR_END_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)")
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
# Closed by the parser when the next one starts, so they never pile up on their own.
_IMPLIED_END_TAGS = frozenset(
    {
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "caption",
        "colgroup",
        "rb",
        "rt",
        "rp",
        "html",
        "head",
        "body",
    }
)


class _HTMLText:
    """Collects readable lines from HTML, told its elements' starts and ends and its text
    in document order (`_walk`).

    Lines inside <blockquote> get a "> " prefix per level so that `strip_quoted`
    removes Gmail/Apple quoted history from HTML-only mail just as from plain text.
    """

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._current_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str) -> None:
        if tag == "br":
            self._break(hard=True)
        elif tag == "blockquote":
            self._break()
            self._quote_depth += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            self._pre_depth += tag == "pre"
            if tag == "li":
                self._add("- ")
        elif tag in ("td", "th"):
            self._add(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._break()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self._pre_depth:
            # Source whitespace (indentation, newlines) means one space in HTML.
            self._add(re.sub(r"[ \t\r\n\f]+", " ", data))
            return
        first, *rest = data.split("\n")
        self._add(first)
        for line in rest:
            self._break(hard=True)
            self._add(line)

    def _add(self, text: str) -> None:
        if not self._current:
            self._current_depth = self._quote_depth
        self._current.append(text)

    def _break(self, *, hard: bool = False) -> None:
        """End the current line. Block tags break softly (no empty line for markup
        whitespace); <br> and a paragraph holding only &nbsp; (Outlook's blank line) count."""
        text = "".join(self._current)
        if text.strip(" \t\r\n\f") or hard:
            self.lines.append((self._current_depth, text))
        self._current = []

    def text(self) -> str:
        self._break()
        rendered = []
        for depth, line in self.lines:
            line = re.sub(r"\s+", " ", line.replace("\xa0", " ")).strip()
            rendered.append(("> " * depth + line).rstrip() if line else "")
        return _collapse_blank_lines("\n".join(rendered))


def html_to_text(html: str, cuts: Cuts | None = None) -> str:
    """Readable text from an HTML body: no script/style, line breaks for <br>, <p>,
    <div>, <li>..., entities unescaped, blank lines collapsed.

    Parsed by lexbor (selectolax), a browser's HTML5 parser in C. The stdlib's html.parser
    rescans the rest of the document for every unterminated tag: a 59 KiB mail of them
    took 15 s. As in a browser, a tag still open at the end of the document is dropped with
    all it swallowed, and the text before it stays. The document is read up to where its
    elements would nest deeper than MAX_HTML_DEPTH, which keeps lexbor linear; such a cut
    is counted in `cuts`.
    """
    html, deep = _shallow_prefix(html)
    if deep and cuts is not None:
        cuts.html_too_deep += 1
    from selectolax.lexbor import LexborHTMLParser  # a C extension every other Lambda can skip at cold start

    reader = _HTMLText()
    try:
        _walk(LexborHTMLParser(html).root, reader)
    except Exception:  # noqa: BLE001 - lexbor takes any str; should it ever fail, keep the mail readable
        # "[^<>]" keeps the crude fallback linear on a run of "<" characters.
        text = re.sub(r"<[^<>]*>", " ", html)
        lines = (" ".join(line.split()) for line in unescape(text).splitlines())
        return _collapse_blank_lines("\n".join(lines))
    return reader.text()


def _shallow_prefix(html: str) -> tuple[str, bool]:
    """(`html` up to the tag that would open element MAX_HTML_DEPTH + 1, whether it was cut).

    The depth is estimated from the tags alone, with a stack of open elements: an end tag
    closes up to its match and a stray one nothing; void and self-closing-by-sibling
    elements never count. Linear: each element is pushed and popped at most once.
    """
    stack: list[str] = []
    open_names: dict[str, int] = {}
    for tag in _START_OR_END_TAG.finditer(html):
        name = tag.group(2).lower()
        if tag.group(1):
            while open_names.get(name):
                top = stack.pop()
                open_names[top] -= 1
                if top == name:
                    break
        elif name not in _VOID_TAGS and name not in _IMPLIED_END_TAGS:
            if len(stack) == MAX_HTML_DEPTH:
                return html[: tag.start()], True
            stack.append(name)
            open_names[name] = open_names.get(name, 0) + 1
    return html, False


def _walk(root: LexborNode | None, reader: _HTMLText) -> None:
    """Tell `reader` the tree under `root` in document order: each element's start, its
    content (never that of script, style...), its end. A loop, not recursion: a hostile
    mail nests elements deeper than Python's recursion limit."""
    node, depth = root, 0
    while node is not None:
        tag = node.tag or "-"  # a node lexbor cannot name is no element: skipped like a comment
        if tag == "-text":
            reader.handle_data(node.text_content or "")
        elif not tag.startswith(("-", "!")):  # an element, not a comment or doctype
            reader.handle_starttag(tag)
            child = node.child if tag not in _SKIPPED_TAGS else None
            if child is not None:
                node, depth = child, depth + 1
                continue
            reader.handle_endtag(tag)
        while depth > 0 and node.next is None:  # the last child: its parent ends too
            parent = node.parent
            if parent is None:  # a node under `root` always has one; never walk off the tree
                return
            node, depth = parent, depth - 1
            reader.handle_endtag(node.tag or "")
        node = node.next if depth > 0 else None


def _collapse_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# --------------------------------------------------------------------------- language

_PRIMARY_SUBTAG = re.compile(r"[a-z]{2,3}")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UK_LETTERS = re.compile(r"[іїєґ]", re.IGNORECASE)
_RU_LETTERS = re.compile(r"[ыэъё]", re.IGNORECASE)
# Frequent words spelt without the telltale letters, so short messages still tell.
_UK_WORDS = {"що", "це", "як", "чи", "або", "дякую", "будь", "ласка", "його", "вона", "вони", "добрий"}
_RU_WORDS = {
    "и",
    "что",
    "это",
    "как",
    "или",
    "если",
    "его",
    "она",
    "они",
    "когда",
    "где",
    "спасибо",
    "здравствуйте",
    "пожалуйста",
    "привет",
    "работает",
}


def _language(msg: Message, text: str) -> str | None:
    """Content-Language, else Accept-Language, else a guess from the customer's text."""
    return (
        _primary_subtag(_header_text(msg, "Content-Language").split(",")[0])
        or _best_accept_language(_header_text(msg, "Accept-Language"))
        or guess_language(text)
    )


def _primary_subtag(tag: str) -> str | None:
    """ "uk-UA" -> "uk"; None for "*", empty or junk."""
    primary = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    return primary if _PRIMARY_SUBTAG.fullmatch(primary) else None


def _best_accept_language(value: str) -> str | None:
    """Primary subtag of the highest-q entry; the first one wins a tie."""
    best, best_q = None, 0.0
    for item in value.split(","):
        tag, _, params = item.partition(";")
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            q = float(match.group(1)) if match else 1.0
        except ValueError:
            continue
        primary = _primary_subtag(tag)
        if primary and q > best_q:
            best, best_q = primary, q
    return best


def guess_language(text: str) -> str | None:
    """ "uk" or "ru" for Cyrillic text that shows which; None otherwise.

    Ukrainian-only letters (і ї є ґ) vote "uk", Russian-only ones (ы э ъ ё) vote "ru",
    and so do a few common words spelt without them; the larger vote wins. Latin-only
    or undecided text gives None: replying in the wrong one of these two languages is
    worse than the desk's default.
    """
    if not _CYRILLIC.search(text):
        return None
    words = re.findall(r"[\u0400-\u04ff]+", text.lower())
    uk = len(_UK_LETTERS.findall(text)) + sum(w in _UK_WORDS for w in words)
    ru = len(_RU_LETTERS.findall(text)) + sum(w in _RU_WORDS for w in words)
    if uk > ru:
        return "uk"
    if ru > uk:
        return "ru"
    return None


# --------------------------------------------------------------------------- automated mail

_PRECEDENCE_AUTOMATED = {"bulk", "junk", "list", "auto_reply"}
# mailer-daemon, postmaster, noreply, no-reply, do_not_reply... optionally "+tag" or "-suffix".
_ROBOT_LOCAL_PART = re.compile(
    r"(mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)([-_.+].*)?",
    re.IGNORECASE,
)


def automated_reason(msg: Message) -> str | None:
    """Why this mail is machine-sent and must never be acknowledged, or None.

    Checked most specific first: a bounce, then auto-replies, then list and bulk mail.
    `X-Auto-Response-Suppress` is deliberately ignored: Outlook sets it on ordinary mail.
    The sender checked is the one an acknowledgement would go to (Reply-To, else From),
    so a web form sending from no-reply@ with the customer in Reply-To still gets one.
    """
    try:
        content_type = msg.get_content_type()
    except Exception:  # noqa: BLE001 - a malformed Content-Type is no bounce's
        content_type = ""
    if content_type == "multipart/report":
        return "multipart/report"
    return_path = _raw_header(msg, "Return-Path")
    if return_path is not None and "".join(return_path.split()) == "<>":
        return "return-path: <>"
    local_part = (_reply_address(msg) or "").rpartition("@")[0]
    if _ROBOT_LOCAL_PART.fullmatch(local_part):
        return f"sender: {local_part}"
    return _auto_header_reason(msg)


def _auto_header_reason(msg: Message) -> str | None:
    """RFC 3834 and the de-facto headers of auto-responders, bulk and list mail."""
    auto_submitted = _raw_header(msg, "Auto-Submitted")
    if auto_submitted is not None:
        keyword = auto_submitted.split(";")[0].strip().lower()
        if keyword != "no":
            return f"auto-submitted: {keyword}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _raw_header(msg, name) is not None:
            return name.lower()
    # List headers before Precedence: lists set both, and "list-id" says more.
    for name in ("List-Id", "List-Unsubscribe"):
        if _raw_header(msg, name) is not None:
            return name.lower()
    precedence = (_raw_header(msg, "Precedence") or "").strip().lower().replace("-", "_")
    if precedence in _PRECEDENCE_AUTOMATED:
        return f"precedence: {precedence}"
    return None
