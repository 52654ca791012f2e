"""Presigned S3 links: how an agent's browser opens a kept file and uploads one, with the bytes
never passing through a Lambda. The caller has authorized the agent on the ticket first.

A GET link lasts `[attachments] link_minutes` and names how the browser must take the file: a
raster image (PNG, JPEG, GIF, WebP, by its bytes) inline, anything else — SVG, HTML, PDF — as a
download, so a file a customer sent can never run script in the desk's origin or S3's. An
upload is a presigned POST whose policy pins the key, the type and the size range: S3 itself
refuses any other file.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from chalicelib import aws, stage
from chalicelib.attachments.files import OCTET_STREAM, STORED, FileEntry
from chalicelib.config import RASTER_IMAGES, settings

UPLOAD_SECONDS = 600  # a picked file has ten minutes to reach S3
UPLOADS = "uploads"  # the prefix of agents' uploads, before an answer takes them


def is_inline(entry: FileEntry) -> bool:
    """Whether the browser may show the file itself (an image thumbnail) rather than download it."""
    return entry.get("state") == STORED and entry.get("type") in RASTER_IMAGES


def download_url(entry: FileEntry, *, seconds: int | None = None) -> str:
    """A presigned GET of a kept file: inline for raster images, else an attachment, with the
    type the bytes showed (octet-stream for anything not shown inline)."""
    inline = is_inline(entry)
    disposition = "inline" if inline else "attachment"
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": stage.files_bucket(),
            "Key": entry["key"],
            "ResponseContentDisposition": f"{disposition}; {content_disposition_name(entry.get('name', 'file'))}",
            "ResponseContentType": entry["type"] if inline else OCTET_STREAM,
        },
        ExpiresIn=seconds or settings().attachments.link_minutes * 60,
    )


def content_disposition_name(name: str) -> str:
    """The filename parameters of a Content-Disposition (RFC 6266): an ASCII fallback and the
    real name in RFC 5987 encoding, so a Cyrillic name arrives as written."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "file"
    return f"filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def upload_key(ticket_id: str, agent_id: str) -> str:
    """A fresh key for one agent's upload on one ticket: the answer that takes it checks the prefix."""
    return f"{UPLOADS}/{ticket_id}/{agent_id}/{secrets.token_hex(12)}"


def upload_form(key: str, content_type: str, max_bytes: int, *, name: str | None = None) -> dict[str, Any]:
    """A presigned POST (`url`, `fields`) for one file of `content_type` and 1..`max_bytes` bytes
    to `key`; S3 refuses any other key, type or size. `name` (the file's name, kept as the
    object's `name` metadata, percent-encoded) is pinned too: the answer that takes the upload
    reads it from there."""
    fields: dict[str, str] = {"Content-Type": content_type}
    if name is not None:
        fields["x-amz-meta-name"] = quote(name, safe="")
    return dict(
        aws.client("s3").generate_presigned_post(
            Bucket=stage.files_bucket(),
            Key=key,
            Fields=fields,
            Conditions=[*({k: v} for k, v in fields.items()), ["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_SECONDS,
        )
    )
