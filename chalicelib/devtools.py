"""The local desk's outbox: what the desk "sent" through the embedded AWS, for a person to read.

Served on the `local` stage only (404 elsewhere). Mail comes from moto's SES, read through
moto's own API (`/moto-api/data.json`): over HTTP from the local moto server, or in-process
under `mock_aws` in tests, where moto intercepts that address.
"""

from __future__ import annotations

import html
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from chalice.app import Response

from chalicelib import stage
from chalicelib.errors import NotFound
from chalicelib.http import error_response, html_response, json_response

MOTO_API = "http://motoapi.amazonaws.com"


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
    import requests  # dev-only dependency (comes with moto); never imported in Lambda

    base = stage.aws_endpoint_url() or MOTO_API
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
        {"provider": m["provider"], "to": _recipient(m["payload"]), "text": _text(m["payload"])} for m in reversed(sent)
    ]


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
    }


def _as_html(mail: dict[str, Any]) -> str:
    return str(mail["html"]) or f"<pre>{html.escape(mail['text'])}</pre>"


def _page(messages: list[dict[str, Any]], messengers: list[dict[str, Any]]) -> str:
    rows = (
        "".join(
            f"<section><h2>{html.escape(m['subject'])}</h2><p><b>To:</b> {html.escape(m['to'])} "
            f"&middot; <b>From:</b> {html.escape(m['from'])}</p>"
            f'<iframe sandbox srcdoc="{html.escape(_as_html(m))}"></iframe>'
            f"<details><summary>plain text</summary><pre>{html.escape(m['text'])}</pre></details></section>"
            for m in messages
        )
        or "<p>No email sent yet. Post the contact form or drop an .eml into local/inbox/.</p>"
    )
    chats = "".join(
        f"<li><b>{html.escape(m['provider'])}</b> → {html.escape(m['to'])}: {html.escape(m['text'])}</li>"
        for m in messengers
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Promptly local outbox</title>"
        "<meta http-equiv='refresh' content='5'><style>body{font-family:sans-serif;max-width:760px;margin:2em auto}"
        "iframe{width:100%;height:420px;border:1px solid #ccc}section{margin-bottom:2em}</style></head>"
        f"<body><h1>Local outbox ({len(messages)})</h1>{rows}"
        f"<h1>Messengers ({len(messengers)})</h1><ul>{chats}</ul></body></html>"
    )
