"""What every console route shares: who is asking (`visit`), a page in their language, and a
refusal worded for a person.

`visit(request, action, write=...)` is the one door of every signed-in route. A signed-out
browser goes to the sign-in page (and comes back to where it was going: `next`); a POST must come
from the console's own page (Origin / Sec-Fetch-Site) and carry the session's CSRF token, or it is
a 403 before anything is read or changed; the errors the work raises become pages (another queue's
ticket is the same 404 as one that does not exist; a lead's page is a 403 for an agent), exactly
as the JSON API maps them. GETs never write (but a session's idle refresh).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from chalice.app import Request, Response

from chalicelib import assets, log, render, stage
from chalicelib.config import settings
from chalicelib.console import session, words
from chalicelib.console.session import Session
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound, PromptlyError
from chalicelib.http import console_response, headers
from chalicelib.models import Agent

# A form's body, as the API's: an answer of 20,000 Cyrillic characters is ~120 KB percent-encoded
# (6 bytes a letter); the composer's maxlength keeps a browser under it, so more is not ours.
MAX_FORM_BYTES = 256 * 1024
NEXT = re.compile(r"/console(/[A-Za-z0-9._~/-]*)?(\?[A-Za-z0-9._~=&%+-]*)?")  # where sign-in may return to


def url(path: str = "") -> str:
    """An absolute console URL, from the desk's public URL (never the Host header)."""
    return stage.console_url(path)


def static_urls() -> dict[str, str]:
    base = stage.public_url()
    return {
        "htmx": base + assets.path(assets.HTMX),
        "css": base + assets.path(assets.CSS),
        "js": base + assets.path(assets.JS),
    }


@dataclass
class Visit:
    """A signed-in request: the agent's session, the request, its form (POSTs) and language."""

    signed: Session
    request: Request
    form: dict[str, str] = field(default_factory=dict)

    @property
    def agent(self) -> Agent:
        return self.signed.agent

    @property
    def language(self) -> str:
        return page_language(self.request, self.signed.agent.language)

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params or {}

    @property
    def htmx(self) -> bool:
        """Asked by htmx for a fragment of a page, not by the browser for a whole page."""
        return headers(self.request).get("hx-request") == "true"

    def page(self, name: str, context: dict[str, Any], status: int = 200, *, section: str = "") -> Response:
        signed = {"agent": self.agent, "csrf": session.csrf_token(self.signed), "section": section}
        return console_response(render_page(name, self.language, {**signed, **context}), status)


def visit(request: Request, action: Callable[..., Response], *args: str, write: bool = False) -> Response:
    """Run a signed-in console route: `action(visit, *args)` (see the module docstring)."""
    if write and not session.same_origin(request):
        return refused(request, "csrf", 403)
    signed = session.current(request)
    if signed is None:
        return signed_out(request)
    if write and len(request.raw_body or b"") > MAX_FORM_BYTES:
        return refused(request, "too_large", 413, signed)
    form = read_form(request) if write else {}
    if write and not session.csrf_ok(request, signed, form):
        return refused(request, "csrf", 403, signed)
    try:
        return action(Visit(signed, request, form), *args)
    except (NotFound, Forbidden, BadRequest, Conflict) as error:
        return refused(request, _REASONS[type(error)], error.status, signed, detail=_detail(error))


_REASONS: dict[type[PromptlyError], str] = {
    NotFound: "missing",
    Forbidden: "role",
    BadRequest: "invalid",
    Conflict: "invalid",
}


def _detail(error: PromptlyError) -> str | None:
    """What went wrong, in words, for a refusal that is the agent's to fix (the API's message)."""
    return str(error) if isinstance(error, (BadRequest, Conflict)) else None


def refused(
    request: Request, reason: str, status: int, signed: Session | None = None, *, detail: str | None = None
) -> Response:
    """A refusal page: csrf (403), role (403), missing (404) or invalid (400/409); nothing changed."""
    log.info("console request refused", reason=reason, status=status)
    context: dict[str, Any] = {"reason": reason, "detail": detail}
    if signed is not None:
        context.update(agent=signed.agent, csrf=session.csrf_token(signed), section="")
    language = page_language(request, signed.agent.language if signed else None)
    return console_response(render_page("refused", language, context), status)


def signed_out(request: Request) -> Response:
    """To the sign-in page, then back to where the browser was going; a dead cookie is cleared.
    htmx (a list refreshing itself) is told to load the sign-in page as a whole page."""
    cookies = [session.clear_cookie()] if session.presented(request) else None
    back = _here(request)
    target = url("/sign-in") + (f"?next={quote(back, safe='')}" if back else "")
    if headers(request).get("hx-request") == "true":
        response = console_response("", 200, cookies=cookies)
        response.headers["HX-Redirect"] = target
        return response
    return console_response("", location=target, cookies=cookies)


def _here(request: Request) -> str | None:
    """The console path a signed-out GET asked for (to return to it after sign-in)."""
    if request.method != "GET":
        return None
    path = (request.context or {}).get("resourcePath") or request.path or ""
    if not (path == "/console" or path.startswith("/console/")) or path.startswith("/console/sign-"):
        return None
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in (request.query_params or {}).items())
    wanted = path + (f"?{query}" if query else "")
    return None if wanted == "/console" else safe_next(wanted)


def safe_next(candidate: str | None) -> str | None:
    """A path inside the console to go on to, or None: never another site (`//x`, `https:`)."""
    if not candidate or len(candidate) > 300 or "//" in candidate or not NEXT.fullmatch(candidate):
        return None
    return candidate


def render_page(name: str, language: str, context: dict[str, Any]) -> str:
    """A console template (`templates/console/<name>.html`) with the frame's values."""
    frame = {"desk_name": settings().desk.name, "console_url": url(), "static": static_urls()}
    template = render.environment().get_template(f"{render.CONSOLE}{name}.html")
    return template.render({**frame, **context, "language": language, "t": words.catalog(language)})


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


def read_form(request: Request) -> dict[str, str]:
    """A form post's fields (the first value of each); a body over MAX_FORM_BYTES reads as empty."""
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > MAX_FORM_BYTES:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def read_form_lists(request: Request) -> dict[str, list[str]]:
    """A form post's fields with every value (checkbox groups, multi-selects)."""
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    fields: dict[str, list[str]] = {}
    if len(raw) <= MAX_FORM_BYTES:
        for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            fields.setdefault(name, []).append(value)
    return fields


def source(request: Request) -> str:
    """The caller's IP as API Gateway saw it (a header could be forged; this cannot)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
