"""A customer mails a screenshot; the agent sees it as a thumbnail in the thread, on a phone
(375 px) and at a desk (1280 px), and the image really loads: the page links to the desk's own
route, which redirects to a presigned link on the embedded S3 (moto), the one other origin the
console's CSP lets images come from. The embedded S3 serves the link as S3 would — inline, the
image's type, CORS for the console's origin — and answers the preflight of an upload POST.
Screenshots in build/screenshots/."""

from __future__ import annotations

import json
import re
import struct
import urllib.error
import urllib.request
import zlib
from email.message import EmailMessage
from typing import Any

from tests.browser import axe
from tests.browser.harness import ADMIN, Browser, LocalDesk, eventually, sign_in


def screenshot_png(width: int = 40, height: int = 30) -> bytes:
    """A real PNG, a blue rectangle, made without an image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def mail_a_screenshot(desk: LocalDesk, customer: str) -> str:
    """The customer's mail with a PNG attached, dropped into the local inbox as the README says;
    the ticket's reference, from the acknowledgement the desk sends."""
    mail = EmailMessage()
    mail["From"] = f"Olga <{customer}>"
    mail["To"] = "support@promptly.example"
    mail["Subject"] = "The checkout page breaks"
    mail["Message-ID"] = f"<shot-{customer}>"
    mail.set_content("Hello, see the screenshot: the button is gone.")
    mail.add_attachment(screenshot_png(), maintype="image", subtype="png", filename="screenshot.png")
    inbox = desk.local / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"{customer}.eml").write_bytes(mail.as_bytes())
    subjects = eventually(
        lambda: [m["subject"] for m in desk.mail_to(customer) if re.search(r"PR-[A-Z0-9]+", m["subject"])],
        what="the acknowledgement of the mail",
    )
    return re.search(r"PR-[A-Z0-9]+", subjects[0]).group(0)  # type: ignore[union-attr]


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_a_customers_screenshot_shows_as_a_thumbnail_that_loads(local_desk, admin, browser: Browser):
    ticket = mail_a_screenshot(local_desk, f"shot-{browser.viewport}@example.com")
    sign_in(local_desk, browser, ADMIN)

    browser.open(f"{local_desk.base}/console/t/{ticket}")
    browser.wait_for_text("The checkout page breaks")
    thumb = browser.find("#thread li.entry.customer ul.attachments a.thumb img")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumb)  # loading=lazy

    def loaded() -> Any:
        return browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumb)

    assert eventually(loaded, what="the thumbnail's image from the embedded S3") == 40
    assert thumb.get_attribute("alt") == "screenshot.png"
    assert thumb.get_attribute("src").startswith(f"{local_desk.base}/console/t/{ticket}/files/")
    assert 0 < thumb.size["width"] <= 160
    assert browser.page_width() <= browser.driver.execute_script("return window.innerWidth")  # no sideways scroll
    assert axe.serious_violations(browser.driver) == []
    browser.shot("thumbnail")


def test_the_embedded_s3_serves_a_presigned_link_with_cors_as_s3_would(local_desk, admin):
    ticket = mail_a_screenshot(local_desk, "cors@example.com")
    conversation = local_desk.call("GET", f"/api/tickets/{ticket}", admin)["conversation"]
    [shot] = [file for entry in conversation for file in entry["attachments"]]
    assert shot["state"] == "stored", shot  # the mail's bytes kept at intake (chalicelib/channels/email.py)
    link = local_desk.call("GET", shot["file"], admin)
    origin, bucket = local_desk.base, link["url"].split("?", 1)[0].rsplit("/tickets/", 1)[0] + "/"

    def preflight(origin: str) -> tuple[int, dict[str, str]]:
        try:
            status, headers, _ = fetch(bucket, "OPTIONS", {"Origin": origin, "Access-Control-Request-Method": "POST"})
        except urllib.error.HTTPError as refused:
            return refused.code, {}
        return status, headers

    status, headers, body = fetch(link["url"], headers={"Origin": origin})

    assert status == 200 and body == screenshot_png()
    assert headers["content-type"] == "image/png" and headers["content-disposition"].startswith("inline;")
    assert headers["access-control-allow-origin"] == origin, json.dumps(headers)
    allowed = preflight(origin)  # an agent's upload (a presigned POST) from the console's page
    assert allowed[0] == 200 and "POST" in allowed[1]["access-control-allow-methods"], allowed
    assert preflight("https://elsewhere.example")[0] == 403  # the bucket's CORS (infra/local.py), not "anyone"
