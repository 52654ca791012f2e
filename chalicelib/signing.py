"""HMAC signatures of webhook bodies, always compared in constant time."""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.errors import Unauthorized


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def require_sha256_header(header: str | None, secret: str, body: bytes, *, name: str) -> None:
    """Check a GitHub-style `sha256=<hex>` signature header; raise Unauthorized otherwise."""
    if not header:
        raise Unauthorized(f"missing {name} header")
    scheme, _, signature = header.strip().partition("=")
    if scheme != "sha256" or not signature:
        raise Unauthorized(f"{name} must look like 'sha256=<hex HMAC-SHA256 of the body>'")
    # compare bytes: compare_digest refuses non-ASCII str, and a header is the sender's to fill
    if not hmac.compare_digest(signature.lower().encode("utf-8", "replace"), hmac_hex(secret, body).encode()):
        raise Unauthorized(f"{name} does not match the body")
