"""The console's routes: each takes the request and answers a page or a redirect.

GETs read and never write anything but a session's idle refresh (no sign-in, no sign-out by a
link: mail scanners and link previews fetch GETs). Every POST passes the origin check first;
the signed-in ones carry the session's CSRF token too: a refusal is a 403 before anything changes.
Pages are Jinja2 templates (`templates/console/`, autoescaped) sent with the console's
security headers (http.console_response).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from chalice.app import Request, Response

from chalicelib import clock, stage
from chalicelib.config import settings
from chalicelib.console import session, sign_in
from chalicelib.http import console_response
from chalicelib.render import console_page

MAX_FORM_BYTES = 4096


def url(path: str = "") -> str:
    """An absolute console URL, from the desk's public URL (never the Host header)."""
    return f"{stage.public_url()}/console{path}"


def sign_in_page(request: Request) -> Response:
    """GET /console/sign-in: the address field (or straight to the console when signed in)."""
    if session.current(request) is not None:
        return console_response("", location=url())
    return _page("sign_in", {"email": "", "error": None})


def ask_for_code(request: Request) -> Response:
    """POST /console/sign-in: send a code to the address, if it is an agent's; one answer for all."""
    if not session.same_origin(request):
        return _forbidden()
    form = _form(request)
    email = sign_in.address(form.get("email", ""))
    if email is None:
        return _page("sign_in", {"email": form.get("email", "")[:254], "error": "address"}, 400)
    refused = sign_in.request_code(email, _source(request), clock.now())
    if refused is not None:
        return _page("sign_in", {"email": email, "error": "limit"}, 429)
    return _page("code", {"email": email, "error": None, "minutes": int(sign_in.CODE_LIFETIME.total_seconds() // 60)})


def enter_code(request: Request) -> Response:
    """POST /console/sign-in/code: the right code begins a session (303 to the console)."""
    if not session.same_origin(request):
        return _forbidden()
    form = _form(request)
    email = sign_in.address(form.get("email", ""))
    agent = sign_in.verify(email, form.get("code", ""), clock.now()) if email else None
    if agent is None:
        minutes = int(sign_in.CODE_LIFETIME.total_seconds() // 60)
        return _page("code", {"email": email or "", "error": "code", "minutes": minutes}, 400)
    return console_response("", location=url(), cookies=[session.begin(agent, clock.now())])


def home(request: Request) -> Response:
    """GET /console: who is signed in, and the sign-out button (the queue comes next)."""
    signed = session.current(request)
    if signed is None:
        return _signed_out(request)
    return _page("home", {"agent": signed.agent, "csrf": session.csrf_token(signed)})


def sign_out(request: Request) -> Response:
    """POST /console/sign-out: end the session and forget the cookie."""
    if not session.same_origin(request):
        return _forbidden()
    signed = session.current(request)
    if signed is None:
        return _signed_out(request)
    if not session.csrf_ok(request, signed, _form(request)):
        return _forbidden()
    session.end(signed)
    return console_response("", location=url("/sign-in"), cookies=[session.clear_cookie()])


def _signed_out(request: Request) -> Response:
    """To the sign-in page; a dead cookie the browser still sends is cleared on the way."""
    cookies = [session.clear_cookie()] if session.presented(request) else None
    return console_response("", location=url("/sign-in"), cookies=cookies)


def _forbidden() -> Response:
    return _page("forbidden", {}, 403)


def _page(name: str, context: dict[str, Any], status: int = 200) -> Response:
    return console_response(
        console_page(name, {"desk_name": settings().desk.name, "console_url": url(), **context}), status
    )


def _form(request: Request) -> dict[str, str]:
    """A form post's fields (the first value of each); a body over MAX_FORM_BYTES reads as empty."""
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > MAX_FORM_BYTES:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def _source(request: Request) -> str:
    """The caller's IP as API Gateway saw it (a header could be forged; this cannot)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
