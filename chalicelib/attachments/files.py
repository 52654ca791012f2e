"""A file's entry on its message, and keeping its bytes in S3.

Every attachment a message carries is listed on it (`Message.attachments`, a list of
`FileEntry`), whether or not its bytes are kept: an empty, oversized, quarantined or
uncountable file is listed with the reason in words an agent reads, never dropped in silence,
and never holds the message's text up. A kept file is one S3 object in the files bucket under
its ticket and message (`object_key`); its key names no user text (the name is in the entry and
the object's metadata), so a hostile name cannot shape a path or a header.

The type an agent's browser is given is the one the bytes show (`sniff`), not the sender's
label: a "photo.png" that is an HTML page is stored and served as a download.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import quote

from chalicelib import aws, stage
from chalicelib.config import RASTER_IMAGES, Attachments

# What an entry's `state` says of the file's bytes.
STORED = "stored"  # in S3 under `key`: agents may open it
PENDING = "pending"  # a messenger's file, fetched by a queued job (attachments/fetch.py)
QUARANTINED = "quarantined"  # SES found a virus in the mail: listed and labelled, never kept
REFUSED = "refused"  # not kept: empty, over a cap (`reason` says which)
FAILED = "failed"  # the provider would not give it (`reason` says why)
LISTED = "listed"  # recorded before the desk kept files: name, type and size only

OCTET_STREAM = "application/octet-stream"
TEXT_TYPES = ("text/plain", "text/csv")  # no magic number: trusted when the bytes are UTF-8 text
TEXT_EXTENSIONS = ("txt", "csv", "log")  # a text type's name ends in one of these, or in none
SNIFF_BYTES = 8192  # filetype reads at most the first 8 KB
MAX_NAME = 120  # UTF-16 units of a file's name kept (its extension survives the cut)
MAX_REASON = 300  # characters of an entry's reason: words the desk writes, around a short type
MAX_TYPE = 127  # characters of a media type (RFC 6838 caps each half at 127)
# type/subtype in RFC 6838's restricted-name characters; anything else is a sender's junk
_MEDIA_TYPE = r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*"  # compiled on first use (re caches it)


class FileEntry(TypedDict, total=False):
    """One attachment as its message lists it (a JSON object in DynamoDB)."""

    name: str  # sanitized: what the agent sees and the download is called
    type: str  # the type its bytes show (else its declared text type, else octet-stream)
    declared: str  # the type the sender gave it
    size: int  # bytes (declared by the provider until fetched)
    sha256: str  # of the kept bytes
    key: str  # its object in the files bucket, when STORED
    state: str  # STORED, PENDING, QUARANTINED, REFUSED, FAILED or LISTED
    reason: str  # why it is not kept, or what is odd about a kept one
    cid: str  # an email inline image's Content-ID (the body says "cid:<this>")
    provider: str  # PENDING: whose file it is (telegram, viber, twilio)
    source: str  # PENDING: the provider's reference to fetch it by (a file id, a media URL)


@dataclass
class Budget:
    """What one message may still keep: files counted and bytes summed against the desk's caps,
    in the order the files come."""

    caps: Attachments
    count: int = 0
    total: int = 0
    refusals: list[str] = field(default_factory=list)

    def admit(self, size: int) -> str | None:
        """None when a file of `size` bytes may be kept (and is counted), else the reason not."""
        if size == 0:
            return "empty file (0 bytes)"
        if size > self.caps.max_file_bytes:
            return f"{_mb(size)} is over the {self.caps.max_file_mb} MB a file may be"
        if self.count >= self.caps.max_count:
            return f"more than {self.caps.max_count} files on one message"
        if self.total + size > self.caps.max_message_bytes:
            return f"the message's files together pass {self.caps.max_message_mb} MB"
        self.count += 1
        self.total += size
        return None


def safe_name(name: str | None, fallback: str = "file") -> str:
    """A file name fit to show and to offer as a download: no folders, no control or
    direction-changing characters (a "\u202egpj.exe" that reads as "exe.jpg"), NFC, at most
    MAX_NAME UTF-16 units (an emoji is two: as a JSON escape in DynamoDB it is 12 bytes) with its
    extension kept."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().strip(".").strip()
    if not text:
        return fallback
    if _units(text) <= MAX_NAME:
        return text
    stem, dot, extension = text.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return _cut(stem, MAX_NAME - _units(extension) - 1).rstrip() + "." + extension
    return _cut(text, MAX_NAME).rstrip()


def sniff(data: bytes, declared: str, name: str) -> str:
    """The type the bytes show; a declared text type when they are plain text (`_plain_text`);
    else OCTET_STREAM. SVG and HTML have no magic number and are never trusted as such."""
    import filetype  # ~30 ms the first time: only where a file is kept

    found = filetype.guess_mime(data[:SNIFF_BYTES])
    if found:
        return str(found)
    base = declared.split(";", 1)[0].strip().lower()
    return base if base in TEXT_TYPES and _plain_text(data[:SNIFF_BYTES], name) else OCTET_STREAM


def declared_type(value: str | None) -> str:
    """A sender's Content-Type as the desk records it: `type/subtype`, lower case, no
    parameters, at most MAX_TYPE characters; else OCTET_STREAM. The sender controls it, and
    unchecked it once filled a message's DynamoDB item past 400 KB and S3's 2 KB of metadata."""
    base = (value or "")[: MAX_TYPE + 200].split(";", 1)[0].strip().lower()
    return base if len(base) <= MAX_TYPE and re.fullmatch(_MEDIA_TYPE, base) else OCTET_STREAM


def object_key(ticket_id: str, message_id: str, index: int, sha256: str) -> str:
    """Where a kept file lives: under its ticket and message, by its place and content hash."""
    return f"tickets/{ticket_id}/{message_id}/{index:02d}-{sha256[:16]}"


def keep(
    ticket_id: str,
    message_id: str,
    index: int,
    *,
    name: str,
    declared: str,
    data: bytes,
    budget: Budget,
    expected: int | None = None,
    cid: str | None = None,
    note: str | None = None,
) -> FileEntry:
    """The file's entry, its bytes put in S3 when the budget admits them (one PutObject), else
    listed with the reason. `expected` is the size the sender announced: fewer bytes than that
    are kept and said to be truncated. `note` joins the reason of a kept file (what the agent
    should know before opening it)."""
    declared = declared_type(declared)
    reason = budget.admit(len(data))
    if reason is not None:
        return listed(name=name, declared=declared, size=expected or len(data), state=REFUSED, reason=reason)
    digest = hashlib.sha256(data).hexdigest()
    kind = sniff(data, declared, name)
    key = object_key(ticket_id, message_id, index, digest)
    aws.client("s3").put_object(
        Bucket=stage.files_bucket(),
        Key=key,
        Body=data,
        ContentType=kind if kind in RASTER_IMAGES else OCTET_STREAM,
        ContentDisposition="attachment",  # whoever reaches the object without our link downloads it
        Metadata={"sha256": digest, "name": quote(safe_name(name)), "declared": quote(declared)},
    )
    entry = FileEntry(
        name=safe_name(name), type=kind, declared=declared, size=len(data), sha256=digest, key=key, state=STORED
    )
    if cid:
        entry["cid"] = cid
    reason = "; ".join(text for text in (_oddity(kind, declared, len(data), expected), note) if text)
    if reason:
        entry["reason"] = reason[:MAX_REASON]
    return entry


def listed(*, name: str, declared: str, size: int, state: str, reason: str = "", **extra: Any) -> FileEntry:
    """The entry of a file whose bytes are not (or not yet) kept."""
    declared = declared_type(declared)
    entry = FileEntry(name=safe_name(name), type=declared, declared=declared, size=size, state=state)
    if reason:
        entry["reason"] = reason[:MAX_REASON]
    entry.update(extra)  # type: ignore[typeddict-item]
    return entry


def entries(message_attachments: list[dict[str, Any]] | None) -> list[FileEntry]:
    """A message's entries, those written before the desk kept files ({name, content_type, size,
    provider_file_id}) read as LISTED."""
    found: list[FileEntry] = []
    for raw in message_attachments or []:
        if "state" in raw:
            found.append(FileEntry(**raw))  # type: ignore[typeddict-item]
            continue
        kind = str(raw.get("content_type") or OCTET_STREAM)
        found.append(
            FileEntry(
                name=str(raw.get("name") or "file"),
                type=kind,
                declared=kind,
                size=int(raw.get("size") or 0),
                state=LISTED,
            )
        )
    return found


def _oddity(kind: str, declared: str, size: int, expected: int | None) -> str:
    if expected is not None and size < expected:
        return f"truncated: {size:,} of {expected:,} bytes arrived"
    if declared not in (kind, OCTET_STREAM) and kind != OCTET_STREAM and not _same_family(kind, declared):
        return f"sent as {declared}, but its bytes are {kind}"
    if kind == OCTET_STREAM and declared.startswith("image/"):
        return f"sent as {declared}, but its bytes are no image the desk knows"
    return ""


def _same_family(kind: str, declared: str) -> bool:
    """image/jpg for image/jpeg and the like: the same thing under a sender's spelling."""
    aliases = {
        "image/jpg": "image/jpeg",
        "image/pjpeg": "image/jpeg",
        "application/x-zip-compressed": "application/zip",
    }
    return aliases.get(declared, declared) == kind


def _plain_text(head: bytes, name: str) -> bool:
    """UTF-8 without NULs, not starting with markup ("<" after a BOM and spaces: an HTML page
    or a script called notes.txt), under a text name: any UTF-8 is text, but a customer who
    gets "invoice.html" as text/plain opens a web page."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension and extension not in TEXT_EXTENSIONS:
        return False
    if b"\x00" in head or not _is_utf8(head):
        return False
    return not head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, units: int) -> str:
    """The longest start of `text` of at most `units` UTF-16 units (never half a character)."""
    kept = text[:units]
    while _units(kept) > units:
        kept = kept[: -max(1, (_units(kept) - units) // 2)]
    return kept


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as cut:
        return cut.start >= len(data) - 3  # a character cut by the 8 KB window is still text
    return True


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
