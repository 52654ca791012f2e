"""Links to an answer's files for customers whose channel carries no files (SMS, the website
chat, a mail too big for its files): `GET /f/<token>` answers 303 to a presigned GET of the file.

A presigned S3 URL cannot be the link itself: made with Lambda's role credentials it dies with
them (hours), and it is long. The token is short and signed instead, under the stage's
`link_secret` (`signing.hmac_hex`): `<ticket>.<message>.<NN-sha16>.<expiry, base 36>.<MAC>`,
which names one kept file (`files.object_key`) and when the link stops working
(`[attachments] customer_link_days`). Nothing is stored; a forged or altered token is a 404, an
expired one a 410, and the file is presigned afresh at each click (as a download unless it is a
raster image, like an agent's link). A GET changes nothing.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta
from urllib.parse import unquote

from chalice.app import Response

from chalicelib import aws, clock, log, secrets, stage
from chalicelib.attachments import files, links
from chalicelib.config import settings
from chalicelib.errors import NotFound, PromptlyError
from chalicelib.http import error_response
from chalicelib.links import Expired
from chalicelib.signing import hmac_hex

MAC_CHARS = 32  # hex characters of the HMAC kept: 128 bits
_KEY = re.compile(r"tickets/([A-Za-z0-9-]{1,40})/(M-[0-9a-f]{16})/([0-9]{2}-[0-9a-f]{16})")
_TOKEN = re.compile(r"([A-Za-z0-9-]{1,40})\.(M-[0-9a-f]{16})\.([0-9]{2}-[0-9a-f]{16})\.([0-9a-z]{1,10})\.([0-9a-f]+)")


def url(entry: files.FileEntry, now: datetime) -> str:
    """The customer's link to a kept file, working for `customer_link_days` from `now`."""
    found = _KEY.fullmatch(entry["key"])
    if found is None:
        raise ValueError("not an answer's file")  # our own key: a bug, never a sender's doing
    expires = now + timedelta(days=settings().attachments.customer_link_days)
    body = ".".join((*found.groups(), _base36(int(expires.timestamp()))))
    return f"{stage.public_url()}/f/{body}.{_mac(body)}"


def open_file(token: str) -> Response:
    """303 to the file; 404 for a token we did not sign (or a file no longer kept), 410 when
    expired."""
    try:
        key, name, kind = _file_of(token)
    except PromptlyError as error:
        return error_response(error)
    entry = files.FileEntry(key=key, name=name, type=kind, state=files.STORED)
    return Response(
        body="",
        status_code=303,
        headers={"Location": links.download_url(entry), "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _file_of(token: str) -> tuple[str, str, str]:
    """The key, name and type of the file a genuine, unexpired token names."""
    found = _TOKEN.fullmatch(token)
    if found is None or not hmac.compare_digest(found.group(5), _mac(token.rsplit(".", 1)[0])):
        raise NotFound("no such file: this link is not one we sent")
    ticket_id, message_id, part, expires = found.group(1, 2, 3, 4)
    if clock.now().timestamp() > int(expires, 36):
        raise Expired("this link has expired: ask us to send the file again")
    key = f"tickets/{ticket_id}/{message_id}/{part}"
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=stage.files_bucket(), Key=key)
    except s3.exceptions.ClientError:
        log.info("a customer's file link names no kept file", ticket_id=ticket_id)
        raise NotFound("this file is no longer kept") from None
    name = files.safe_name(unquote(head.get("Metadata", {}).get("name", "")))
    return key, name, str(head.get("ContentType") or files.OCTET_STREAM)


def _mac(body: str) -> str:
    """The purpose is signed too: no other signed thing of the desk can pass for a file link."""
    return hmac_hex(secrets.get("link_secret"), f"file-link:{body}".encode())[:MAC_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"
