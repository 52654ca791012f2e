"""The local desk's outbox: what the desk "sent" through the embedded AWS, for a person to read.

Served on the `local` stage only (404 elsewhere). Mail comes from moto's SES. When moto runs in
this process — the local desk's embedded AWS (tools/local.py calls `embedded_aws_in_this_process`)
or `mock_aws` in tests — the outbox reads moto's list of sent raw messages and parses only the
ones it has not seen (`MailIndex`), so a look costs the same at 1,000 mails as at 1. A moto
server in another process is read through its whole dump (`/moto-api/data.json`), as before.
"""

from __future__ import annotations

import html
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from chalice.app import Response

from chalicelib import stage
from chalicelib.errors import NotFound
from chalicelib.http import error_response, html_response, json_response

_embedded = False  # the desk's AWS endpoint is a moto server in this process


def embedded_aws_in_this_process() -> None:
    """Say that the AWS endpoint is a moto server in this process (tools/local.py), whose sent
    mail the outbox can read from memory."""
    global _embedded
    _embedded = True


class MailIndex:
    """Summaries of the mail moto's SES has sent in this process, oldest first, parsed once each.

    Moto keeps every raw message it sends, in order, in `RawMessage.instances_tracked` (what its
    `/moto-api/data.json` lists as `ses.RawMessage`); a reset of moto replaces that list. Each
    read parses only the messages after the last one it saw."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: list[Any] | None = None
        self._summaries: list[dict[str, Any]] = []
        self.parsed = 0  # messages parsed so far (the tests' evidence that old ones are not re-read)

    def newest_first(self) -> list[dict[str, Any]]:
        from moto.ses.models import RawMessage  # dev-only dependency; never imported in Lambda

        tracked: list[Any] = RawMessage.instances_tracked  # type: ignore[attr-defined]
        with self._lock:
            if tracked is not self._source or len(tracked) < len(self._summaries):  # moto was reset
                self._source, self._summaries = tracked, []
            for item in tracked[len(self._summaries) :]:
                self._summaries.append(_summary({"id": item.id, "raw_data": item.raw_data}))
                self.parsed += 1
            return self._summaries[::-1]


MAIL_INDEX = MailIndex()


def outbox_json() -> Response:
    if not stage.is_local():
        return error_response(NotFound("no such route"))
    return json_response({"messages": sent_mail(), "messengers": sent_messages()})


def outbox_page() -> Response:
    if not stage.is_local():
        return error_response(NotFound("no such route"))
    return html_response(_page(sent_mail(), sent_messages()))


def sent_mail() -> list[dict[str, Any]]:
    """Every email sent so far, newest first."""
    endpoint = stage.aws_endpoint_url()
    if endpoint is None or _embedded:  # moto in this process: read only what is new
        return MAIL_INDEX.newest_first()
    import requests  # dev-only dependency (comes with moto); never imported in Lambda

    base = endpoint
    data = requests.get(f"{base}/moto-api/data.json", timeout=5).json()
    raw_sends = data.get("ses", {}).get("RawMessage", [])
    if isinstance(raw_sends, dict):  # some moto versions group sends by account/region
        raw_sends = [item for items in raw_sends.values() for item in items]
    return [_summary(item) for item in reversed(raw_sends)]


def sent_messages() -> list[dict[str, Any]]:
    """Replies sent on Telegram, Viber, SMS/WhatsApp and chat to the local fake providers."""
    base = stage.fake_providers_url()
    if not base:
        return []
    import requests

    sent = requests.get(f"{base}/sent", timeout=5).json()["messages"]
    return [
        {
            "provider": m["provider"],
            "to": _recipient(m["payload"]),
            "text": _text(m["payload"]),
            "files": _messenger_files(m["payload"]),
        }
        for m in reversed(sent)
    ]


def _messenger_files(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The files a fake provider took: Telegram's uploads (name, type, size), Viber's picture or
    file message (its name and size; the URL Viber would fetch), Twilio's MediaUrl."""
    files = [{"name": f["name"], "type": f["type"], "size": f["size"]} for f in payload.get("files") or []]
    if payload.get("type") in ("picture", "file"):
        files.append(
            {"name": payload.get("file_name") or "picture", "size": payload.get("size"), "url": payload["media"]}
        )
    if payload.get("MediaUrl"):
        files.append({"name": payload.get("Body") or "media", "url": payload["MediaUrl"]})
    return files


def _recipient(payload: dict[str, Any]) -> str:
    return str(
        payload.get("chat_id") or payload.get("receiver") or payload.get("To") or payload.get("visitor_id") or ""
    )


def _text(payload: dict[str, Any]) -> str:
    return str(payload.get("text") or payload.get("Body") or "")


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    mail = message_from_bytes(item["raw_data"].encode(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    text = mail.get_body(preferencelist=("plain",))
    rich = mail.get_body(preferencelist=("html",))
    return {
        "id": item.get("id"),
        "from": str(mail["From"]),
        "to": str(mail["To"]),
        "subject": str(mail["Subject"]),
        "message_id": str(mail["Message-ID"]),
        "in_reply_to": str(mail["In-Reply-To"] or ""),
        "language": str(mail["Content-Language"] or ""),
        "auto_submitted": str(mail["Auto-Submitted"] or ""),
        "text": text.get_content() if text else "",
        "html": rich.get_content() if rich else "",
        "attachments": [
            {"name": part.get_filename() or "", "type": part.get_content_type(), "size": len(part.get_content())}
            for part in mail.iter_attachments()
        ],
    }


def _as_html(mail: dict[str, Any]) -> str:
    return str(mail["html"]) or f"<pre>{html.escape(mail['text'])}</pre>"


def _files_list(files: list[dict[str, Any]]) -> str:
    """The files a message carried: name, type and size (what the customer got)."""
    if not files:
        return ""
    items = "".join(
        f"<li class='file'>📎 {html.escape(str(f.get('name')))}"
        f"{' · ' + html.escape(str(f['type'])) if f.get('type') else ''}"
        f"{' · ' + format(int(f['size']), ',') + ' bytes' if f.get('size') else ''}</li>"
        for f in files
    )
    return f"<ul class='files'>{items}</ul>"


def _page(messages: list[dict[str, Any]], messengers: list[dict[str, Any]]) -> str:
    rows = (
        "".join(
            f"<section><h2>{html.escape(m['subject'])}</h2><p><b>To:</b> {html.escape(m['to'])} "
            f"&middot; <b>From:</b> {html.escape(m['from'])}</p>"
            f'<iframe sandbox srcdoc="{html.escape(_as_html(m))}"></iframe>'
            f"{_files_list(m['attachments'])}"
            f"<details><summary>plain text</summary><pre>{html.escape(m['text'])}</pre></details></section>"
            for m in messages
        )
        or "<p>No email sent yet. Post the contact form or drop an .eml into local/inbox/.</p>"
    )
    chats = "".join(
        f"<li><b>{html.escape(m['provider'])}</b> → {html.escape(m['to'])}: {html.escape(m['text'])}"
        f"{_files_list(m['files'])}</li>"
        for m in messengers
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Promptly local outbox</title>"
        "<meta http-equiv='refresh' content='5'><style>body{font-family:sans-serif;max-width:760px;margin:2em auto}"
        "iframe{width:100%;height:420px;border:1px solid #ccc}section{margin-bottom:2em}</style></head>"
        f"<body><h1>Local outbox ({len(messages)})</h1>{rows}"
        f"<h1>Messengers ({len(messengers)})</h1><ul>{chats}</ul></body></html>"
    )
