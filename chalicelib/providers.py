"""HTTP calls to messaging providers (Telegram, Viber, Twilio, the chat backend).

urllib3 is already in the package (botocore needs it), so no HTTP library is added to Lambda.
Every failure becomes a ProviderError saying whether a retry can help and when: the outbox
uses `retry_after` (Telegram's `parameters.retry_after`, an HTTP `Retry-After`) as its backoff.
Its message never quotes a person's number or address (`scrub`): it is logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import urllib3

from chalicelib import stage

# Named in errors.py (the webhooks' outbox and destinations raise and catch it without loading
# this module), and here still, where every sender imports it from: an explicit re-export.
from chalicelib.errors import ProviderError as ProviderError  # noqa: PLC0414
from chalicelib.errors import scrub as scrub  # noqa: PLC0414

TIMEOUT = urllib3.Timeout(connect=3.0, read=8.0)
DOWNLOAD_SECONDS = 20.0  # a file still arriving after this is tried again later (the worker has 30 s)
CHUNK_BYTES = 64 * 1024
DEFAULT_BASES = {
    "telegram": "https://api.telegram.org",
    "viber": "https://chatapi.viber.com",
    "twilio": "https://api.twilio.com",
}


def base_url(provider: str) -> str:
    """Provider API root; `PROMPTLY_<PROVIDER>_API` points it elsewhere (the local fakes)."""
    return stage.provider_api(provider, DEFAULT_BASES.get(provider, ""))


@lru_cache(maxsize=1)
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(timeout=TIMEOUT, retries=False)


def post_json(
    url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    body = json.dumps(payload).encode()
    return post_bytes(url, body, {"Content-Type": "application/json", **(headers or {})})


def post_form(
    url: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    body = urlencode(fields).encode()
    return post_bytes(url, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def post_multipart(
    url: str, fields: Mapping[str, str], file_field: str, file: tuple[str, bytes, str]
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """POST `fields` and one file (name, bytes, type) as multipart/form-data: how Telegram takes
    the bytes of a photo or document."""
    body, content_type = urllib3.encode_multipart_formdata({**fields, file_field: file})
    return post_bytes(url, body, {"Content-Type": content_type})


def post_bytes(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """POST exactly `body` (what a signature covers) and return (status, JSON body or {},
    response headers); network failures and timeouts raise a retryable ProviderError.
    Status handling is the adapter's business."""
    try:
        response = _pool().request("POST", url, body=body, headers=dict(headers))
    except urllib3.exceptions.HTTPError as error:  # timeouts, refused connections, TLS
        raise ProviderError(f"{type(error).__name__} calling the provider", retryable=True) from None
    try:
        data = json.loads(response.data or b"{}")
    except ValueError:
        data = {}
    return response.status, data if isinstance(data, dict) else {}, response.headers


@dataclass(frozen=True)
class Download:
    """What a GET answered: its status and headers, and its body when it was a 2xx (else b"")."""

    status: int
    headers: Mapping[str, str]
    data: bytes = b""


class TooLarge(Exception):
    """A body longer than the caller's limit: reading stopped there (or before it began, when
    Content-Length said so)."""


def download(url: str, headers: Mapping[str, str], limit: int, *, seconds: float = DOWNLOAD_SECONDS) -> Download:
    """GET `url` without following redirects (the caller checks where one points) and read a
    2xx body up to `limit` bytes, streamed in chunks: one byte more raises TooLarge, so a body
    of any length costs at most `limit` bytes of memory. A body still arriving after `seconds`
    (a trickle), network failures and timeouts raise a retryable ProviderError, which never
    quotes the URL (a Telegram download URL holds the bot token)."""
    try:
        response = _pool().request("GET", url, headers=dict(headers), redirect=False, preload_content=False)
    except urllib3.exceptions.HTTPError as error:
        raise ProviderError(f"{type(error).__name__} downloading from the provider", retryable=True) from None
    try:
        if not 200 <= response.status < 300:
            response.close()  # an error page or a redirect: its body is not wanted
            return Download(response.status, response.headers)
        return Download(response.status, response.headers, _read_within(response, limit, seconds))
    finally:
        response.release_conn()


def _read_within(response: urllib3.BaseHTTPResponse, limit: int, seconds: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()  # not a byte read of what would not be kept
        raise TooLarge(f"the provider announced {int(declared):,} bytes")
    started, body = time.monotonic(), bytearray()
    try:
        # decode_content=False: a gzip body is kept as sent, so the cap counts wire bytes (no bomb)
        for chunk in response.stream(CHUNK_BYTES, decode_content=False):
            body += chunk
            if len(body) > limit:
                response.close()
                raise TooLarge(f"more than {limit:,} bytes")
            if time.monotonic() - started > seconds:
                response.close()
                raise ProviderError(f"the download was still arriving after {seconds:.0f} s", retryable=True)
    except urllib3.exceptions.HTTPError as error:  # a connection cut mid-body, a short body
        raise ProviderError(f"{type(error).__name__} while downloading", retryable=True) from None
    return bytes(body)


def raise_for_status(provider: str, status: int, headers: Mapping[str, str], detail: str = "") -> None:
    """The common HTTP rules: 2xx fine; 429 and 5xx retry (honouring Retry-After); other
    4xx are permanent (bad token, unknown recipient) and go to the dead-letter queue."""
    if 200 <= status < 300:
        return
    retry_after = _seconds(headers.get("Retry-After"))
    if status == 429 or status >= 500:
        raise ProviderError(f"{provider} answered {status} {detail}".strip(), status=status, retry_after=retry_after)
    raise ProviderError(f"{provider} refused with {status} {detail}".strip(), status=status, retryable=False)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
