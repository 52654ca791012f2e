"""A provider's download as the wire brings it: a gzip body is not inflated on the way in."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib import providers

BOMB = gzip.compress(bytes(50_000_000))  # 50 MB of zeros in ~50 KB


class _Gzipped(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BOMB)))
        self.end_headers()
        self.wfile.write(BOMB)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/media"
    httpd.shutdown()
    httpd.server_close()


def test_a_gzip_body_is_kept_as_sent_and_capped_by_its_wire_bytes(server: str) -> None:
    found = providers.download(server, {}, limit=1_000_000)

    assert found.status == 200
    assert found.data == BOMB  # not 50 MB inflated in memory on the way to the cap
