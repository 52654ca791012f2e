"""HTTP plumbing shared by every route: body limits, JSON validation, errors as JSON.

Errors are shaped like Chalice's own (`{"Code": ..., "Message": ...}`, plus `Field` when
one input field is at fault), so a client sees one format whoever refused the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from chalice.app import Request, Response

from chalicelib import log, stage
from chalicelib.errors import BadRequest, PayloadTooLarge, PromptlyError

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic_core import ErrorDetails

# pydantic is imported where a body is checked against a model, not here: every function loads
# this module, and the contact form's webhook reads its body without pydantic (channels/form.py)
Model = TypeVar("Model", bound="BaseModel")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **DATA_HEADERS, **(headers or {})}
    )


def error_response(error: PromptlyError) -> Response:
    body = {"Code": error.code, "Message": error.message}
    if error.field:
        body["Field"] = error.field
    return json_response(body, error.status)


def respond(route: str, handler: Callable[..., Response], *args: Any) -> Response:
    """Call `handler(*args)`; a PromptlyError (the sender's fault) becomes its JSON response."""
    try:
        return handler(*args)
    except PromptlyError as error:
        log.info("request refused", route=route, status=error.status, code=error.code)
        return error_response(error)


def body(raw: bytes | str | None, limit: int) -> bytes:
    """`raw` within `limit` bytes, or PayloadTooLarge. Chalice types `Request.raw_body` as
    str | bytes; it hands over bytes, and a str would be the same text in UTF-8."""
    raw = raw.encode() if isinstance(raw, str) else raw or b""
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limit}")
    return raw


def headers(request: Request) -> dict[str, str]:
    """Request headers with lower-cased names (API Gateway and `chalice local` differ in case)."""
    return {name.lower(): value for name, value in dict(request.headers).items()}


def query_string(request: Request) -> str:
    """ "?name=value&…" as the caller sent it, or "". API Gateway hands over the parameters decoded,
    not the raw string, so they are encoded again in their order: exact for names and values of
    letters, digits and -._~ (what a webhook URL in a provider's console should carry)."""
    params = request.query_params
    if not params:
        return ""
    pairs = [(name, value) for name in params for value in params.getlist(name)]
    return "?" + urlencode(pairs, quote_via=quote, safe="-._~")


def validated(model: type[Model], raw: bytes) -> Model:
    """Parse a JSON body into `model`, or raise BadRequest naming the first wrong field."""
    return checked(model, json_object(raw))


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON body that must be an object, or BadRequest saying what is wrong with it."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    except (ValueError, RecursionError):  # 4300+ digit numbers, absurd nesting
        raise BadRequest("body is not JSON we accept: a number too long or nesting too deep") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def checked(model: type[Model], data: dict[str, Any]) -> Model:
    """`data` (a JSON object, or a console form's fields) as `model`, or BadRequest naming the
    first wrong field in a sentence: the API and the console refuse the same input in the same words."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise BadRequest(f"{where}: {sentence(error)}", field=where) from None


# --- 400s a person reads -----------------------------------------------------------------------
# pydantic's own wording names Python types and quotes regexes ("String should match pattern
# '^[^@\s<>...'"): a person filling in a form learns nothing from it. Each pattern is registered
# with what it means where it is defined (`pattern(regex, meaning)`), and each kind of error has
# a sentence; anything else keeps pydantic's words, which say no more than the field's type.
_MEANINGS: dict[str, str] = {}
SENTENCES = {
    "missing": "this field is required",
    "extra_forbidden": "not a field we know",
    "string_too_long": "at most {max_length} characters, please",
    "string_too_short": "at least {min_length} characters, please",
    "too_long": "at most {max_length} items, please",
    "too_short": "at least {min_length} items, please",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
}


def pattern(regex: str, meaning: str) -> str:
    """`regex`, remembered with what a value that fails it is, in words: a field declared with
    `Field(pattern=pattern(EMAIL, "that is not an email address we can write to"))` answers
    "email: that is not an email address we can write to", never the regex."""
    _MEANINGS[regex] = meaning
    return regex


def sentence(error: ErrorDetails | dict[str, Any]) -> str:
    """One validation error as a person reads it."""
    kind, context = error["type"], dict(error.get("ctx") or {})
    if kind == "string_pattern_mismatch":
        return _MEANINGS.get(str(context.get("pattern")), "that is not in a form we can read")
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "must not be empty"
    if kind == "value_error":  # our own validators' messages are sentences already
        return str(context.get("error", error["msg"]))
    return SENTENCES[kind].format(**context) if kind in SENTENCES else error["msg"]


# --- headers on what we answer --------------------------------------------------------------------
# JSON carries tickets and people: no cache (browser, proxy) keeps it, no browser guesses another type.
DATA_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
# Pages carry a signed token in their URL and show a customer's ticket. Nothing runs on them and
# nothing loads from anywhere; their styles are inline (one self-contained file; the local outbox
# shows mails with inlined CSS), harmless when no image or font may be fetched to leak anything.
CONTENT_SECURITY_POLICY = "; ".join(  # noqa: FLY002 - one directive a line, each with its reason
    (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "form-action 'self'",  # the buttons post back to the page itself
        "base-uri 'none'",
        "frame-ancestors 'none'",  # no other site frames the buttons under a decoy (clickjacking)
    )
)
PAGE_HEADERS = {
    **DATA_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",  # the token in the URL never travels to another site
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}


def html_response(body: str, status: int = 200) -> Response:
    """Every HTML page we serve goes out through here, so none can miss its headers."""
    return Response(body=body, status_code=status, headers=dict(PAGE_HEADERS))


# The agents' console: its own scripts only (vendored, same origin), never inline ones or
# handlers; styles inline or its own; images its own and the files bucket's (a thumbnail's
# `<img>` is the console's file route, which redirects to a presigned link there); scripts
# connect to itself and to the files bucket (the composer's uploads); forms post only to itself;
# no site frames it.
CONSOLE_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' {files}",
    "connect-src 'self' {files}",  # the composer uploads a picked file straight there (presigned POST)
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


def console_policy() -> str:
    """The console's Content-Security-Policy, with this stage's files origin (stage.files_origin)."""
    return "; ".join(CONSOLE_DIRECTIVES).format(files=stage.files_origin())


def console_headers() -> dict[str, str]:
    return {
        **PAGE_HEADERS,
        "Content-Security-Policy": console_policy(),
        "Referrer-Policy": "same-origin",  # a ticket's address never travels to another site
    }


def console_response(
    body: str, status: int = 200, *, cookies: list[str] | None = None, location: str | None = None
) -> Response:
    """Every console answer goes out through here: a page, or a redirect (`location`, 303), with
    the console's headers and any `Set-Cookie` lines (a list: Chalice sends each on its own)."""
    headers: dict[str, str | list[str]] = dict(console_headers())
    if location is not None:
        headers["Location"] = location
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body=body, status_code=303 if location is not None else status, headers=headers)
