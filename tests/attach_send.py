"""Helpers of the tests of an answer's files: a file uploaded the way the composer does it (ask
the desk, then POST the bytes straight to S3 with the presigned form)."""

from __future__ import annotations

import base64
from typing import Any

import requests

# A real 1×1 PNG, and a PDF's first bytes followed by filler: what `files.sniff` recognizes.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + b"0" * 2000 + b"\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
FORM = {
    "submission_id": "files-1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Invoice needed",
    "message": "Please send me the invoice.",
}


def ask(desk: Any, token: str, ticket_id: str, name: str, kind: str, size: int, **more: int) -> Any:
    """The desk's answer to "may I attach this file?" (the API twin of the composer's ask)."""
    return desk.api(
        "POST", f"/api/tickets/{ticket_id}/uploads", token, {"name": name, "type": kind, "size": size, **more}
    )


def upload(desk: Any, token: str, ticket_id: str, name: str, kind: str, data: bytes) -> str:
    """Upload one file as the composer does; its upload key."""
    asked = ask(desk, token, ticket_id, name, kind, len(data))
    assert asked.status_code == 201, asked.json_body
    links = asked.json_body["links"]
    form = links["upload_form"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": (name, data, kind)}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    return str(links["upload_key"])


def answer(desk: Any, token: str, ticket_id: str, text: str, files: list[str]) -> Any:
    return desk.api("POST", f"/api/tickets/{ticket_id}/reply", token, {"text": text, "files": files})
