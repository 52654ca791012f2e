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
                    self._reply(200, {"messages": fake.sent})
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
                if status < 300:
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
