"""Static files the pages load (htmx, the console's own CSS and JS), served by the app itself:
`GET /static/{name}`.

Only the names in FILES are served; anything else is the same 404, so no path a caller makes up
can reach another file of the package. Each file is vendored under chalicelib/static/ (so Chalice
packages it into the Lambda zip) with its version in its name: a new version is a new URL, which
is what lets browsers keep a file for a year without asking again. The versions and checksums
are in chalicelib/static/VENDORED.md and pinned by tests/test_assets.py.

The console's own CSS and JS are bundles: every `chalicelib/static/console/*.css` (or `*.js`) in
name order, joined, so each part of the console keeps its own file and a page still loads one
stylesheet and one script. Their URL carries the bundle's hash (`?v=`), so they are cached as
long as the vendored files and a deploy that changes them changes the URL.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from chalice.app import Response

from chalicelib.errors import NotFound
from chalicelib.http import error_response

STATIC_DIR = Path(__file__).resolve().parent / "static"
HTMX = "htmx-4.0.1.min.js"  # npm htmx.org 4.0.1, dist/htmx.min.js (BSD-0-Clause)
CSS = "console.css"  # the console's own styles: the bundle of static/console/*.css
JS = "console.js"  # the console's own script: the bundle of static/console/*.js
BUNDLES = {CSS: "*.css", JS: "*.js"}
FILES = {  # name → Content-Type; the only files served
    HTMX: "text/javascript; charset=utf-8",
    CSS: "text/css; charset=utf-8",
    JS: "text/javascript; charset=utf-8",
}

HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",  # the name changes with the version
    "X-Content-Type-Options": "nosniff",  # a browser runs it only as the type we name
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",  # opened on its own, it is inert
    "Cross-Origin-Resource-Policy": "same-origin",  # other sites cannot embed it from us
    "Referrer-Policy": "no-referrer",
}


def path(name: str) -> str:
    """The URL path of an allowed file, for a page's `<script src>` (prefix the public URL)."""
    if name not in FILES:
        raise KeyError(f"{name} is not a served static file: add it to assets.FILES")
    if name in BUNDLES:
        return f"/static/{name}?v={hashlib.sha256(_text(name).encode()).hexdigest()[:12]}"
    return f"/static/{name}"


@cache
def _text(name: str) -> str:
    pattern = BUNDLES.get(name)
    if pattern is None:
        return (STATIC_DIR / name).read_text(encoding="utf-8")
    parts = sorted((STATIC_DIR / "console").glob(pattern))
    return "\n".join(f"/* {part.name} */\n{part.read_text(encoding='utf-8')}" for part in parts)


def serve(name: str) -> Response:
    """The file `name` if it is on the allow-list, else 404 (the same answer for any other name)."""
    content_type = FILES.get(name)
    if content_type is None:
        return error_response(NotFound("no such file"))
    return Response(body=_text(name), status_code=200, headers={"Content-Type": content_type, **HEADERS})
