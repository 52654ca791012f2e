"""The console's doors: the sign-in pages (address → code → session), the console's home, and
sign-out.

GETs read and never write (no sign-in, no sign-out by a link: mail scanners and link previews
fetch GETs). Every POST passes the origin check first and carries a CSRF token: the sign-in forms
the token of the browser's door cookie (session.door: there is no session yet), sign-out the
session's. A refusal is a 403 before anything changes. The sign-in pages speak the browser's
Accept-Language among the desk's: no one is known there, and the typed address must not choose
the language, or the page would tell whose address it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice.app import Request, Response

from chalicelib import clock
from chalicelib.console import session, sign_in, web
from chalicelib.http import console_response

MINUTES = int(sign_in.CODE_LIFETIME.total_seconds() // 60)


def sign_in_page(request: Request) -> Response:
    """GET /console/sign-in: the address field (or straight on when already signed in)."""
    query: Mapping[str, str] = request.query_params or {}
    back = web.safe_next(query.get("next"))
    if session.current(request) is not None:
        return console_response("", location=web.url((back or "/console")[len("/console") :]))
    return _door(request, "sign_in", {"email": "", "error": None, "next": back or ""})


def ask_for_code(request: Request) -> Response:
    """POST /console/sign-in: send a code to the address, if it is an agent's; one answer for all."""
    form = web.read_form(request)
    if not (session.same_origin(request) and session.door_ok(request, form)):
        return web.refused(request, "csrf", 403)
    back = web.safe_next(form.get("next")) or ""
    email = sign_in.address(form.get("email", ""))
    if email is None:
        return _door(request, "sign_in", {"email": form.get("email", "")[:254], "error": "address", "next": back}, 400)
    if sign_in.request_code(email, web.source(request), clock.now()) is not None:
        return _door(request, "sign_in", {"email": email, "error": "limit", "next": back}, 429)
    return _door(request, "code", {"email": email, "error": None, "minutes": MINUTES, "next": back})


def enter_code(request: Request) -> Response:
    """POST /console/sign-in/code: the right code begins a session (303 on to the console)."""
    form = web.read_form(request)
    if not (session.same_origin(request) and session.door_ok(request, form)):
        return web.refused(request, "csrf", 403)
    back = web.safe_next(form.get("next"))
    email = sign_in.address(form.get("email", ""))
    agent = sign_in.verify(email, form.get("code", ""), web.source(request), clock.now()) if email else None
    if agent is None:
        context = {"email": email or "", "error": "code", "minutes": MINUTES, "next": back or ""}
        return _door(request, "code", context, 400)
    target = web.url((back or "/console")[len("/console") :])
    return console_response("", location=target, cookies=[session.begin(agent, clock.now())])


def home(visit: web.Visit) -> Response:
    """GET /console: on to the queue (signed out: to the sign-in page, as every console page)."""
    return console_response("", location=web.url("/queue"))


def sign_out(visit: web.Visit) -> Response:
    """POST /console/sign-out: end the session and forget the cookie."""
    session.end(visit.signed)
    return console_response("", location=web.url("/sign-in"), cookies=[session.clear_cookie()])


def _door(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A sign-in page, with the form's CSRF token (and its cookie, the first time)."""
    token, cookie = session.door(request)
    page = web.render_page(name, web.page_language(request), {**context, "door": token})
    return console_response(page, status, cookies=[cookie] if cookie else None)
