"""An agent's files on an answer: the checks before a file is uploaded, and the answer taking
its uploads.

The composer asks for each picked file (`upload`): the desk's caps, the types agents may
attach and the customer's channel (`reach`) are checked against what the browser says, and a
presigned POST pinned to a fresh key under `uploads/<ticket>/<agent>/` comes back; the bytes go
from the browser to S3. The browser's word is only a courtesy to the agent (a refusal said at
once): the answer (`take`) checks each upload again from the object itself — its key under this
ticket and this agent, its size, its type read from its bytes — and copies it under the answer
(`files.object_key`). Taking is safe to run again (an answer's write retried on a fresh read):
it reads and copies to the same keys, and the uploads are deleted only once the answer is saved.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from chalicelib import aws, log, stage
from chalicelib.attachments import files, links, reach
from chalicelib.config import RASTER_IMAGES, settings
from chalicelib.errors import BadRequest

_UPLOAD_KEY = re.compile(r"uploads/([^/]+)/([^/]+)/[0-9a-f]{24}")
CHUNK = 1 << 20  # bytes read at a time while hashing an upload
_TEXT_RULE = "a text file goes only as plain text (no markup) named .txt, .csv, .log or without an extension"


class Refused(BadRequest):
    """A file the answer cannot carry: `key` names the console's words for it, `values` fill
    them (the message is the same in English)."""

    def __init__(self, key: str, message: str, **values: str) -> None:
        super().__init__(message, field="files")
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Picked:
    """A file the agent picked, as their browser describes it, and the answer's files before it."""

    name: str
    type: str
    size: int
    count: int = 0  # files already on the answer
    total: int = 0  # their bytes together
    links: int | None = None  # their link lines' UTF-16 units (reach.link_units), once their names are known


def upload(ticket_id: str, agent_id: str, channel: str, picked: Picked) -> dict[str, Any]:
    """The presigned POST for one picked file, after the checks (`Refused` says which failed)."""
    admit(channel, picked)
    key = links.upload_key(ticket_id, agent_id)
    caps = settings().attachments
    form = links.upload_form(key, picked.type, caps.max_file_bytes, name=files.safe_name(picked.name))
    return {"upload_key": key, "upload_form": form}


def admit(channel: str, picked: Picked) -> None:
    """Raise Refused unless a file like `picked` may go with the answer to `channel`."""
    caps = settings().attachments
    name, kind = files.safe_name(picked.name), picked.type.split(";", 1)[0].strip().lower()
    if kind not in caps.agent_types:
        raise Refused("upload_type", f"{name}: files of type {kind or 'unknown'} cannot be attached", name=name)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind in files.TEXT_TYPES and extension and extension not in files.TEXT_EXTENSIONS:
        raise Refused("upload_sniffed", f"{name}: {_TEXT_RULE}", name=name)
    if picked.size <= 0:
        raise Refused("upload_empty", f"{name} is empty", name=name)
    if picked.size > caps.max_file_bytes:
        raise Refused(
            "upload_too_big", f"{name} is over {caps.max_file_mb} MB", name=name, limit=f"{caps.max_file_mb} MB"
        )
    if picked.count >= caps.max_count:
        raise Refused("upload_too_many", f"an answer carries at most {caps.max_count} files", limit=str(caps.max_count))
    if picked.total + picked.size > caps.max_message_bytes:
        limit = f"{caps.max_message_mb} MB"
        raise Refused("upload_total", f"an answer's files together are at most {limit}", name=name, limit=limit)
    # the composer says how many files, not their names: counted at the shortest, exact at `take`
    links = picked.links if picked.links is not None else picked.count * reach.link_units("x")
    refusal = reach.refusal(channel, name, picked.size, picked.total, links)
    if refusal is not None:
        raise Refused(refusal.key, f"{name}: {refusal.text}", name=name, **refusal.values)


def check_keys(keys: Sequence[str], ticket_id: str, agent_id: str) -> list[str]:
    """The upload keys an answer names, each this agent's upload on this ticket; BadRequest for
    anything else (another agent's or ticket's upload, any other object of the bucket)."""
    caps = settings().attachments
    if len(keys) > caps.max_count:
        raise BadRequest(f"an answer carries at most {caps.max_count} files", field="files")
    if len(set(keys)) != len(keys):
        raise BadRequest("the same upload is named twice", field="files")
    for key in keys:
        found = _UPLOAD_KEY.fullmatch(key) if isinstance(key, str) else None
        if found is None or found.groups() != (ticket_id, agent_id):
            raise BadRequest("a file is not one you uploaded to this ticket", field="files")
    return list(keys)


def take(ticket_id: str, message_id: str, channel: str, keys: Sequence[str]) -> list[files.FileEntry]:
    """Each upload checked from its own bytes and copied under the answer (GetObject and
    CopyObject per file); Refused or BadRequest, with nothing recorded, when one may not go."""
    taken: list[tuple[files.FileEntry, str]] = []
    budget = files.Budget(settings().attachments)
    for index, key in enumerate(keys):
        entry, etag = _take_one(ticket_id, message_id, index, key)
        refusal = budget.admit(entry["size"])
        if refusal is not None:
            raise Refused("upload_refused", f"{entry['name']}: {refusal}", name=entry["name"], reason=refusal)
        links = sum(reach.link_units(earlier["name"]) for earlier, _ in taken)
        admit(
            channel,
            Picked(entry["name"], entry["type"], entry["size"], total=budget.total - entry["size"], links=links),
        )
        taken.append((entry, etag))
    for index, (key, (entry, etag)) in enumerate(zip(keys, taken, strict=True)):
        _copy(key, etag, entry, files.object_key(ticket_id, message_id, index, entry["sha256"]))
    if taken:
        log.info("answer's files taken", ticket_id=ticket_id, files=len(taken), bytes=budget.total)
    return [entry for entry, _ in taken]


def discard(keys: Sequence[str]) -> None:
    """Delete the uploads an answer took (after it is saved). A failure costs only storage: the
    bucket's lifecycle rule expires what is left under uploads/."""
    s3 = aws.client("s3")
    for key in keys:
        try:
            s3.delete_object(Bucket=stage.files_bucket(), Key=key)
        except Exception as error:  # noqa: BLE001 - the answer is saved; an upload left over is harmless
            log.warning("upload not deleted", error=type(error).__name__)


def _take_one(ticket_id: str, message_id: str, index: int, key: str) -> tuple[files.FileEntry, str]:
    """The entry of one upload, its bytes hashed and their type sniffed in one streamed read,
    and the ETag of the bytes read (the copy takes those or none)."""
    s3 = aws.client("s3")
    try:
        found = s3.get_object(Bucket=stage.files_bucket(), Key=key)
    except s3.exceptions.NoSuchKey:
        raise BadRequest("a file did not finish uploading, or its upload expired: attach it again", field="files")
    meta = found.get("Metadata", {})
    name = files.safe_name(unquote(meta.get("name", "")))
    declared = files.declared_type(found.get("ContentType"))
    digest, head, size = hashlib.sha256(), b"", 0
    for chunk in found["Body"].iter_chunks(CHUNK):
        digest.update(chunk)
        if len(head) < files.SNIFF_BYTES:
            head += chunk[: files.SNIFF_BYTES - len(head)]
        size += len(chunk)
    kind = files.sniff(head, declared, name)
    if kind not in settings().attachments.agent_types:
        shown = "unknown" if kind == files.OCTET_STREAM else kind
        said = _TEXT_RULE if declared in files.TEXT_TYPES else f"its bytes are {shown}, which cannot be attached"
        raise Refused("upload_sniffed", f"{name}: {said}", name=name)
    sha = digest.hexdigest()
    entry = files.FileEntry(
        name=name,
        type=kind,
        declared=declared,
        size=size,
        sha256=sha,
        key=files.object_key(ticket_id, message_id, index, sha),
        state=files.STORED,
    )
    return entry, str(found["ETag"])


def _copy(source: str, etag: str, entry: files.FileEntry, key: str) -> None:
    """One CopyObject, with the headers and metadata a kept file has (`files.keep`), of the
    bytes `_take_one` checked: the presigned POST works for minutes and may be used again, so
    the upload may have been replaced since (S3 answers 412 then, and nothing is sent)."""
    from botocore.exceptions import ClientError

    bucket = stage.files_bucket()
    try:
        aws.client("s3").copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": source},
            CopySourceIfMatch=etag,
            MetadataDirective="REPLACE",
            ContentType=entry["type"] if entry["type"] in RASTER_IMAGES else files.OCTET_STREAM,
            ContentDisposition="attachment",
            Metadata={"sha256": entry["sha256"], "name": quote(entry["name"]), "declared": quote(entry["declared"])},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
            raise
        log.warning("upload changed after its check", key=key)
        name = entry["name"]
        raise Refused("upload_changed", f"{name} changed while it was being attached: attach it again", name=name)
