"""Loopback stand-ins for the messaging providers' send APIs (Telegram Bot API, Viber REST API,
Twilio Messages, the website chat backend), for the local desk and the tests.

They answer in each provider's documented response format, record every request (readable at
`GET /sent`), and can be told to fail the next matching requests in three ways:
- `fail("sendMessage", status=429, times=2, retry_after=3)`: an error answer (5xx, 429 with
  Retry-After, a 4xx refusal with the provider's `description`), optionally after `delay` seconds;
- `hang("Messages.json", seconds=2)`: no answer at all for that long, then the connection
  closes — a client with a shorter read timeout sees a timeout;
- `accept_then_drop("send_message")`: the message is taken (recorded as sent) and the
  connection closes before the answer — the provider accepted, the caller never learns it.
The files customers send (Telegram's getFile and downloads, Viber and Twilio media URLs) are
served by `media` (tools/fake_media.py); the failures above apply to those requests too.
Development only: never imported by the Lambda code.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from tools.fake_media import FakeMedia

ANSWER, HANG, ACCEPT_THEN_DROP = "answer", "hang", "accept_then_drop"  # how a Failure fails


@dataclass
class Failure:
    path_contains: str
    status: int
    times: int
    retry_after: float | None = None
    delay: float = 0.0
    mode: str = ANSWER
    description: str = "fake failure"


class FakeProviders:
    """Start with `start()`; `base` is the URL to point PROMPTLY_<PROVIDER>_API at."""

    def __init__(self, port: int = 0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self._ids = count(1000)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.media = FakeMedia(self.base)  # the files customers send, as bots download them

    def start(self) -> FakeProviders:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-providers", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(
        self,
        path_contains: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: float | None = None,
        delay: float = 0.0,
        description: str = "fake failure",
    ) -> None:
        self.failures.append(Failure(path_contains, status, times, retry_after, delay, description=description))

    def hang(self, path_contains: str, *, seconds: float, times: int = 1) -> None:
        self.failures.append(Failure(path_contains, 0, times, delay=seconds, mode=HANG))

    def accept_then_drop(self, path_contains: str, *, times: int = 1) -> None:
        self.failures.append(Failure(path_contains, 0, times, mode=ACCEPT_THEN_DROP))

    def messages(self, provider: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.sent if provider is None or m["provider"] == provider]

    def _failure_for(self, path: str) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.path_contains in path and failure.times > 0:
                    failure.times -= 1
                    return failure
        return None

    def _answer(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_info = self.media.answer_post(path, payload)
        if file_info is not None:
            return file_info
        number = next(self._ids)
        if re.search(r"/bot[^/]+/sendMessage$", path):
            return 200, {
                "ok": True,
                "result": {
                    "message_id": number,
                    "chat": {"id": payload.get("chat_id")},
                    "date": int(time.time()),
                    "text": payload.get("text"),
                },
            }
        if re.search(r"/bot[^/]+/send(Photo|Document)$", path):
            return 200, _file_sent(number, path, payload)
        if re.search(r"/bot[^/]+/setWebhook$", path):
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if path == "/pa/send_message":
            return 200, {"status": 0, "status_message": "ok", "message_token": 5000000000000000000 + number}
        if path == "/pa/set_webhook":
            return 200, {"status": 0, "status_message": "ok", "event_types": payload.get("event_types", [])}
        if re.search(r"/2010-04-01/Accounts/[^/]+/Messages\.json$", path):
            return 201, {
                "sid": f"SM{number:032x}",
                "status": "queued",
                "to": payload.get("To"),
                "body": payload.get("Body"),
            }
        if path.startswith("/chat/"):
            return 200, {"id": f"chat-{number}"}
        if path.startswith("/slack/"):  # an incoming webhook answers plain "ok"
            return 200, {"ok": True}
        return 404, {"error": f"no fake for {path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # keep test and desk output clean
                pass

            def do_GET(self) -> None:
                if self.path == "/sent":
                    self._reply(200, {"messages": [_without_bytes(message) for message in fake.sent]})
                    return
                failure = fake._failure_for(self.path)  # a download fails as a send does
                if failure is None:
                    fake.media.serve(self)
                    return
                time.sleep(failure.delay)
                if failure.mode == HANG:
                    self.close_connection = True
                else:
                    self._fail(failure)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = _decode(raw, self.headers.get("Content-Type", ""))
                failure = fake._failure_for(self.path)
                if failure is not None and failure.mode != ACCEPT_THEN_DROP:
                    time.sleep(failure.delay)
                    if failure.mode == HANG:
                        self.close_connection = True  # not a byte answered
                    else:
                        self._fail(failure)
                    return
                status, body = fake._answer(self.path, payload)
                if status < 300 and not self.path.endswith("/getFile"):  # a file asked for is not a message sent
                    fake.sent.append(
                        {
                            "provider": _provider(self.path),
                            "path": self.path,
                            "payload": payload,
                            "headers": dict(self.headers),
                            "response": body,
                            "body": raw.decode("utf-8", "replace"),
                        }
                    )  # as on the wire
                if failure is not None:  # ACCEPT_THEN_DROP: taken, but the answer never leaves
                    self.close_connection = True
                    return
                self._reply(status, body)

            def _fail(self, failure: Failure) -> None:
                headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
                body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": int(failure.retry_after)}
                self._reply(failure.status, body, headers)

            def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("multipart/form-data"):
        return _multipart(raw, content_type)
    if "json" in content_type:
        try:
            decoded: dict[str, Any] = json.loads(raw or b"{}")  # the providers post JSON objects
            return decoded
        except ValueError:
            return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace")))


def _provider(path: str) -> str:
    if path.startswith("/bot"):
        return "telegram"
    if path.startswith("/pa/"):
        return "viber"
    if path.startswith("/2010-04-01/"):
        return "twilio"
    if path.startswith("/slack/"):
        return "slack"
    return "chat"


# --- files an answer sends (att-send): Telegram's multipart uploads ----------------------------
# Viber's picture/file messages and Twilio's MediaUrl are JSON and form posts, recorded as sent.


def _multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body as its text fields, and its files as `files` entries (field,
    name, type, size, sha256 and the bytes as `data`, which `GET /sent` leaves out)."""
    from email import message_from_bytes, policy

    form = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw, policy=policy.HTTP)
    payload: dict[str, Any] = {"files": []}
    for part in form.iter_parts():
        field = part.get_param("name", header="content-disposition")
        decoded = part.get_payload(decode=True)
        data = decoded if isinstance(decoded, bytes) else b""
        if part.get_filename() is None:
            payload[str(field)] = data.decode("utf-8", "replace")
            continue
        payload["files"].append(
            {
                "field": str(field),
                "name": part.get_filename(),
                "type": part.get_content_type(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "data": data,
            }
        )
    return payload


def _file_sent(number: int, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Telegram's Message for a sent photo (its sizes) or document (its file)."""
    sent = (payload.get("files") or [{}])[0]
    file = {"file_id": f"F{number}", "file_unique_id": f"U{number}", "file_size": sent.get("size", 0)}
    kind = {"photo": [{**file, "width": 1, "height": 1}]} if path.endswith("sendPhoto") else {"document": file}
    return {"ok": True, "result": {"message_id": number, "chat": {"id": payload.get("chat_id")}, **kind}}


def _without_bytes(message: dict[str, Any]) -> dict[str, Any]:
    files = message["payload"].get("files")
    if not files:
        return message
    payload = {**message["payload"], "files": [{k: v for k, v in f.items() if k != "data"} for f in files]}
    return {**message, "payload": payload, "body": ""}
