"""The vendored htmx is the file npm's `htmx.org` package ships, pinned by checksum, and the app
serves exactly it, with long caching and its security headers, and nothing else under /static/."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib import assets

# npm htmx.org@4.0.1, package/dist/htmx.min.js (chalicelib/static/VENDORED.md)
HTMX_SHA256 = "a0abb04f2f45a1f89d1d4844023245537e5e6014c87b144553e0607b4cc32130"


def test_the_vendored_htmx_is_the_pinned_release():
    data = (assets.STATIC_DIR / assets.HTMX).read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    assert assets.HTMX == "htmx-4.0.1.min.js"
    assert "4.0.1" in (assets.STATIC_DIR / "VENDORED.md").read_text(encoding="utf-8")


def test_only_the_allowed_files_are_in_the_static_folder():
    """A file dropped into chalicelib/static/ without joining the allow-list (or the reverse) fails here."""
    present = {path.name for path in assets.STATIC_DIR.iterdir()} - {"VENDORED.md"}
    assert present == (set(assets.FILES) - set(assets.BUNDLES)) | {"console"}


def test_the_console_bundles_join_every_part_and_their_url_moves_with_their_content(desk):
    """One stylesheet and one script per page, whatever the number of parts; a changed part is a
    new URL (so a year's caching never serves yesterday's script)."""
    for name, pattern in assets.BUNDLES.items():
        parts = sorted((assets.STATIC_DIR / "console").glob(pattern))
        assert parts, name
        response = desk.client.http.get(assets.path(name))
        assert response.status_code == 200
        body = response.body.decode()
        for part in parts:
            assert part.read_text(encoding="utf-8") in body
        assert (
            body.index(parts[0].read_text(encoding="utf-8")) < body.index(parts[-1].read_text(encoding="utf-8"))
            or len(parts) == 1
        )
        assert response.headers["Content-Type"] == assets.FILES[name]
        assert assets.path(name).startswith(f"/static/{name}?v=")
    before = assets.path(assets.JS)
    assets._text.cache_clear()
    extra = assets.STATIC_DIR / "console" / "zz-probe.js"
    extra.write_text("// probe\n", encoding="utf-8")
    try:
        assert assets.path(assets.JS) != before
    finally:
        extra.unlink()
        assets._text.cache_clear()


def test_the_app_serves_exactly_the_vendored_bytes_with_long_caching_and_security_headers(desk):
    response = desk.client.http.get(assets.path(assets.HTMX))

    assert response.status_code == 200
    assert hashlib.sha256(response.body).hexdigest() == HTMX_SHA256
    headers = response.headers
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "name",
    [
        "htmx.min.js",  # the unversioned name
        "htmx-4.0.0.min.js",
        "VENDORED.md",  # in the folder, not on the list
        "..%2Fassets.py",
        "..%2F..%2Fapp.py",
        "%2E%2E%2Fdesk.toml",
        "..",
        "assets.py",
        "HTMX-4.0.1.MIN.JS",
    ],
)
def test_any_other_name_is_a_404_that_reads_no_file(desk, name):
    response = desk.client.http.get(f"/static/{name}")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json_body == {"Code": "NotFound", "Message": "no such file"}


def test_a_path_traversal_never_reaches_the_route(desk):
    for path in ("/static/../app.py", "/static/sub/htmx-4.0.1.min.js", "/static/"):
        assert desk.client.http.get(path).status_code in (403, 404), path


def test_path_names_only_allowed_files():
    assert assets.path(assets.HTMX) == "/static/htmx-4.0.1.min.js"
    with pytest.raises(KeyError):
        assets.path("app.py")
