"""One exception per failure a caller can act on, each with the HTTP status it maps to.

Domain code raises these; `chalicelib.http` turns them into JSON responses shaped like
Chalice's own errors: {"Code": "...", "Message": "...", "Field": "..."}.

Below them, the storage refusals: DynamoDB's reasons for cancelling a transaction, named once
(by chalicelib/writes.py). They have no HTTP status, because each caller says what a refusal
means to it (a 409, a retry, a skip). Each is still the TransactWriteError it replaces, with its
message and cause, so where nobody names it, it is handled as before (chalicelib/transient.py
reads the cause to decide on a retry).

Last, a provider's refusal (`ProviderError`, raised by chalicelib/providers.py and the channels'
senders): here so that the outbox and destinations.py, which every webhook loads, can name it
without loading the HTTP client module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pynamodb.exceptions import TransactWriteError


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


class Gone(PromptlyError):
    """What was asked for existed and no longer does, for good (raw mail past its keeping days)."""

    status = 410
    code = "Gone"


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


class WriteRefused(TransactWriteError):
    """DynamoDB cancelled a transaction for one of the reasons below; `codes` has its reason per item."""

    def __init__(self, refused: TransactWriteError, codes: Sequence[str | None]) -> None:
        super().__init__(refused.msg, refused.cause)
        self.codes = tuple(codes)  # in the order the items were written; None for an item not at fault


class ConditionFailed(WriteRefused):
    """A condition of the transaction did not hold: another writer got there first."""

    @property
    def failed(self) -> tuple[bool, ...]:
        """Whose condition failed, item by item in the order they were written."""
        return tuple(code == "ConditionalCheckFailed" for code in self.codes)


class WriteConflict(WriteRefused):
    """Another transaction was writing one of its items at that moment: trying again may succeed."""


# What a provider's error text may quote about the person: their number (Twilio: "The 'To' number
# +15005550001 is not a valid phone number"), a WhatsApp id, an email address.
_ADDRESS = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_NUMBER = r"\+\d[\d ().-]*\d|\d[\d ().-]{5,}\d"  # "+…" of any length, or 7+ digits with separators


class ProviderError(Exception):
    """A provider refused or failed a call. `retryable` False means a retry cannot help
    (e.g. the user blocked the bot); `retry_after` is the provider's own wait, in seconds."""

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(scrub(message))
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def scrub(text: str) -> str:
    """`text` without the email addresses and phone-like numbers it quotes. Provider errors end
    up in exception messages and logs, which carry ticket ids, never a person's contact; a
    Twilio error code (5 digits) or an HTTP status stays readable."""
    return re.sub(_NUMBER, "<number>", re.sub(_ADDRESS, "<address>", text))
