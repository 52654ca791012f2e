"""One exception per failure a caller can act on, each with the HTTP status it maps to.

Domain code raises these; `chalicelib.http` turns them into JSON responses shaped like
Chalice's own errors: {"Code": "...", "Message": "...", "Field": "..."}.
"""

from __future__ import annotations


class PromptlyError(Exception):
    status = 500
    code = "InternalError"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(PromptlyError):
    status = 400
    code = "BadRequest"


class Unauthorized(PromptlyError):
    status = 401
    code = "Unauthorized"


class Forbidden(PromptlyError):
    status = 403
    code = "Forbidden"


class NotFound(PromptlyError):
    status = 404
    code = "NotFound"


class Conflict(PromptlyError):
    status = 409
    code = "Conflict"


class PayloadTooLarge(PromptlyError):
    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(PromptlyError):
    status = 415
    code = "UnsupportedMediaType"


class Unavailable(PromptlyError):
    """AWS stayed busy through every retry: nothing the sender did wrong, and delivering the same
    request again is safe (intake is idempotent) and will most likely succeed."""

    status = 503
    code = "ServiceUnavailable"
