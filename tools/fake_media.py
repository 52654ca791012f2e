"""The download side of the fake providers (tools/fake_providers.py): the files customers send,
as each provider hands them to a bot.

- Telegram: `getFile` (POST /bot<token>/getFile) answers the file's `file_path` (400 "file is
  too big" past 20 MB, 400 "invalid file_id" for an id it does not hold), and
  GET /file/bot<token>/<file_path> serves the bytes (404 with another token).
- Viber: GET on a media URL (/viber-media/<name>) serves the bytes, no credentials.
- Twilio: GET /2010-04-01/Accounts/<sid>/Messages/<MM>/Media/<ME> wants HTTP Basic auth with
  the account SID and auth token (401 otherwise) and redirects (307) to a short-lived CDN link,
  /twilio-cdn/<ME>, which serves the bytes without credentials — as Twilio does with "Enforce
  HTTP Auth on Media URLs".

Every GET is recorded (`requests`), credentials as sent. `endless(path)` makes a path stream a
body that never ends (chunked, up to ENDLESS_CAP), counting what it wrote, to show a client
stops reading at its cap. The local desk starts with a few samples (SAMPLE_*): the README's
curl commands send a photo, a document and a voice message that point at them.
Development only: never imported by the Lambda code.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any
from urllib.parse import unquote, urlsplit

from tools import sample_media

TELEGRAM_LIMIT = 20 * 1024 * 1024
ENDLESS_CAP = 64 * 1024 * 1024  # an "endless" body ends here, so a client that reads it all ends too
CHUNK = 64 * 1024
LOCAL_ACCOUNT = "AC0123456789abcdef0123456789abcdef"  # the local stage's Twilio account (.chalice/config.json)
SAMPLE_TELEGRAM = {"local-photo": "photo", "local-document": "document", "local-voice": "voice"}
SAMPLE_VIBER = ("picture.jpg", "report.pdf")
SAMPLE_TWILIO = "MElocal0"


@dataclass
class Served:
    data: bytes
    content_type: str


class FakeMedia:
    """Files the fake providers hold, by the URL path they are served under."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.files: dict[str, Served] = {}
        self.telegram_files: dict[str, tuple[str, int]] = {}  # file_id → (file_path, file_size)
        self.endless_paths: set[str] = set()
        self.streamed: dict[str, int] = {}  # bytes an endless path wrote before the client left
        self.requests: list[dict[str, Any]] = []
        self._numbers = count()
        self._lock = threading.Lock()
        self.bot_token: str | None = None  # the bot's token, when the desk reads it elsewhere than the env (SSM)
        self._samples()

    # what a test (or the local desk) puts there -------------------------------------------
    def telegram(self, file_id: str, data: bytes, *, path: str | None = None, size: int | None = None) -> str:
        """Hold `data` as Telegram's file `file_id`; its `file_path` (getFile's answer)."""
        file_path = path or f"documents/file_{next(self._numbers)}"
        self.telegram_files[file_id] = (file_path, len(data) if size is None else size)
        self.files[f"/file/{file_path}"] = Served(data, "application/octet-stream")
        return file_path

    def viber(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Hold `data` as a Viber media file; the URL a callback's `media` carries."""
        path = f"/viber-media/{next(self._numbers)}/{name}"
        self.files[path] = Served(data, content_type)
        return f"{self.base}{path}?Expires=1717490532&Signature=fake"

    def twilio(self, data: bytes, content_type: str, *, account: str = LOCAL_ACCOUNT, media: str | None = None) -> str:
        """Hold `data` as a Twilio Media resource; the MediaUrl{N} a webhook carries."""
        sid = media or f"ME{next(self._numbers):032x}"
        self.files[f"/twilio-cdn/{sid}"] = Served(data, content_type)
        return f"{self.base}/2010-04-01/Accounts/{account}/Messages/MM{'0' * 32}/Media/{sid}"

    def endless(self, url: str) -> None:
        """The file at `url` becomes a body that never ends."""
        self.endless_paths.add(urlsplit(url).path)

    def fetched(self, part: str = "") -> list[dict[str, Any]]:
        return [request for request in self.requests if part in request["path"]]

    # answers --------------------------------------------------------------------------------
    def answer_post(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """getFile's answer, or None for a POST that is not one."""
        if not re.search(r"/bot[^/]+/getFile$", path):
            return None
        file_id = str(payload.get("file_id") or "")
        if file_id not in self.telegram_files:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
        file_path, size = self.telegram_files[file_id]
        if size > TELEGRAM_LIMIT:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}
        result = {"file_id": file_id, "file_unique_id": f"u-{file_id[:16]}", "file_size": size, "file_path": file_path}
        return 200, {"ok": True, "result": result}

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer a GET for a file (or 404)."""
        path = unquote(urlsplit(handler.path).path)
        with self._lock:
            self.requests.append({"path": path, "authorization": handler.headers.get("Authorization")})
        telegram = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        twilio = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages/[^/]+/Media/([^/]+)", path)
        if telegram:
            if telegram.group(1) != (self.bot_token or os.environ.get("PROMPTLY_SECRET_TELEGRAM_BOT_TOKEN")):
                return _status(handler, 404)
            path = f"/file/{telegram.group(2)}"
        elif twilio:
            return self._twilio(handler, twilio.group(1), twilio.group(2))
        if path in self.endless_paths:
            return self._endless(handler, path)
        served = self.files.get(path)
        if served is None:
            return _status(handler, 404)
        handler.send_response(200)
        handler.send_header("Content-Type", served.content_type)
        handler.send_header("Content-Length", str(len(served.data)))
        handler.end_headers()
        handler.wfile.write(served.data)

    def _twilio(self, handler: BaseHTTPRequestHandler, account: str, sid: str) -> None:
        ours = os.environ.get("PROMPTLY_SECRET_TWILIO_ACCOUNT_SID", "")
        token = os.environ.get("PROMPTLY_SECRET_TWILIO_AUTH_TOKEN", "")
        if account != ours or handler.headers.get("Authorization", "") != _basic(f"{ours}:{token}"):
            return _status(handler, 401)
        if f"/twilio-cdn/{sid}" not in self.files:
            return _status(handler, 404)
        handler.send_response(307)
        handler.send_header("Location", f"{self.base}/twilio-cdn/{sid}?Expires=14400&Signature=fake")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _endless(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        written, chunk = 0, b"\0" * CHUNK
        try:
            while written < ENDLESS_CAP:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                written += len(chunk)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up: what it refused to read is the point
            handler.close_connection = True
        finally:
            self.streamed[path] = written

    def _samples(self) -> None:
        made = {"photo": sample_media.jpeg(), "document": sample_media.pdf(), "voice": sample_media.ogg_opus()}
        paths = {"photo": "photos/file_0.jpg", "document": "documents/file_1.pdf", "voice": "voice/file_2.oga"}
        for file_id, kind in SAMPLE_TELEGRAM.items():
            self.telegram(file_id, made[kind], path=paths[kind])
        self.files["/viber-media/picture.jpg"] = Served(sample_media.jpeg(), "image/jpeg")
        self.files["/viber-media/report.pdf"] = Served(sample_media.pdf(), "application/pdf")
        self.files[f"/twilio-cdn/{SAMPLE_TWILIO}"] = Served(sample_media.png(), "image/png")


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _status(handler: BaseHTTPRequestHandler, status: int) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", "0")
    handler.end_headers()
