"""The console's routes: each takes the request and answers a page or a redirect.

GETs read and never write anything but a session's idle refresh (no sign-in, no sign-out by a
link: mail scanners and link previews fetch GETs). Every POST passes the origin check first;
the signed-in ones carry the session's CSRF token too: a refusal is a 403 before anything changes.
Pages are Jinja2 templates (`templates/console/<page>/<lang>.html`, autoescaped) sent with the
console's security headers (http.console_response), in the signed-in agent's language, else (the
sign-in pages: no one is known there, and the typed address must not choose the language, or the
page would tell whose address it is) the browser's Accept-Language among the desk's languages,
else the desk default.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from chalice.app import Request, Response

from chalicelib import clock, stage
from chalicelib.config import settings
from chalicelib.console import session, sign_in
from chalicelib.http import console_response, headers
from chalicelib.render import console_page

MAX_FORM_BYTES = 4096


def url(path: str = "") -> str:
    """An absolute console URL, from the desk's public URL (never the Host header)."""
    return f"{stage.public_url()}/console{path}"


def sign_in_page(request: Request) -> Response:
    """GET /console/sign-in: the address field (or straight to the console when signed in)."""
    if session.current(request) is not None:
        return console_response("", location=url())
    return _page(request, "sign_in", {"email": "", "error": None})


def ask_for_code(request: Request) -> Response:
    """POST /console/sign-in: send a code to the address, if it is an agent's; one answer for all."""
    if not session.same_origin(request):
        return _forbidden(request)
    form = _form(request)
    email = sign_in.address(form.get("email", ""))
    if email is None:
        return _page(request, "sign_in", {"email": form.get("email", "")[:254], "error": "address"}, 400)
    refused = sign_in.request_code(email, _source(request), clock.now())
    if refused is not None:
        return _page(request, "sign_in", {"email": email, "error": "limit"}, 429)
    return _page(
        request, "code", {"email": email, "error": None, "minutes": int(sign_in.CODE_LIFETIME.total_seconds() // 60)}
    )


def enter_code(request: Request) -> Response:
    """POST /console/sign-in/code: the right code begins a session (303 to the console)."""
    if not session.same_origin(request):
        return _forbidden(request)
    form = _form(request)
    email = sign_in.address(form.get("email", ""))
    agent = sign_in.verify(email, form.get("code", ""), clock.now()) if email else None
    if agent is None:
        minutes = int(sign_in.CODE_LIFETIME.total_seconds() // 60)
        return _page(request, "code", {"email": email or "", "error": "code", "minutes": minutes}, 400)
    return console_response("", location=url(), cookies=[session.begin(agent, clock.now())])


def home(request: Request) -> Response:
    """GET /console: who is signed in, and the sign-out button (the queue comes next)."""
    signed = session.current(request)
    if signed is None:
        return _signed_out(request)
    context = {"agent": signed.agent, "csrf": session.csrf_token(signed)}
    return _page(request, "home", context, language=signed.agent.language)


def sign_out(request: Request) -> Response:
    """POST /console/sign-out: end the session and forget the cookie."""
    if not session.same_origin(request):
        return _forbidden(request)
    signed = session.current(request)
    if signed is None:
        return _signed_out(request)
    if not session.csrf_ok(request, signed, _form(request)):
        return _forbidden(request)
    session.end(signed)
    return console_response("", location=url("/sign-in"), cookies=[session.clear_cookie()])


def _signed_out(request: Request) -> Response:
    """To the sign-in page; a dead cookie the browser still sends is cleared on the way."""
    cookies = [session.clear_cookie()] if session.presented(request) else None
    return console_response("", location=url("/sign-in"), cookies=cookies)


def _forbidden(request: Request) -> Response:
    return _page(request, "forbidden", {}, 403)


def _page(
    request: Request, name: str, context: dict[str, Any], status: int = 200, *, language: str | None = None
) -> Response:
    chosen = page_language(request, language)
    return console_response(
        console_page(name, chosen, {"desk_name": settings().desk.name, "console_url": url(), **context}), status
    )


def page_language(request: Request, agent_language: str | None = None) -> str:
    """The agent's language when known and spoken by the desk, else the first of the browser's
    Accept-Language (by preference) the desk speaks, else the desk default."""
    spoken = settings().desk.languages
    if agent_language and agent_language in spoken:
        return agent_language
    return next((tag for tag in _accepted(headers(request).get("accept-language", "")) if tag in spoken), None) or (
        settings().desk.default_language
    )


def _accepted(header: str) -> list[str]:
    """`uk-UA,uk;q=0.9,en;q=0.5` → primary tags by preference (q=0 means not wanted)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().lower().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary and weight > 0:
            ranked.append((-weight, position, primary))
    return [primary for _, _, primary in sorted(ranked)]


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
