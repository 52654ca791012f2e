"""An agent sees a message's files in the thread and opens them: a screenshot as a thumbnail, a
PDF as a download, a file not kept labelled with why — each link the desk's own route, which
authorizes like the ticket page and only then redirects to a presigned S3 link that expires.
Anything that is not a file of a ticket the agent sees is a 404, never a 500; an SVG or an
HTML page a customer sent is only ever a download."""

from __future__ import annotations

import struct
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import stage
from chalicelib.attachments import files
from chalicelib.config import settings
from chalicelib.models import Message
from tests.console.pages import get, page, sign_in
from tests.test_agent_api import new_ticket

OLENA = "olena@promptly.example"
TINA = "tina@promptly.example"  # the tech queue only
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><rect width="9" height="9"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><script>fetch('/api/me')</script>"


def png(width: int = 3, height: int = 2) -> bytes:
    """A real PNG (one red pixel row after another), made without an image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def customer_message(ticket_id: str) -> Message:
    [message] = [m for m in Message.query(ticket_id) if m.direction == "in"]
    return message


def attach(ticket_id: str, *found: tuple[str, str, bytes] | dict[str, Any]) -> Message:
    """Keep each (name, declared type, bytes) as intake does (files.keep: real bytes in S3) on the
    ticket's customer message; a dict is an entry as it is (an old or a not-kept one)."""
    message = customer_message(ticket_id)
    budget = files.Budget(settings().attachments)
    entries: list[Any] = []
    for index, item in enumerate(found):
        if isinstance(item, dict):
            entries.append(item)
            continue
        name, declared, data = item
        entries.append(
            files.keep(ticket_id, message.message_id, index, name=name, declared=declared, data=data, budget=budget)
        )
    message.update(actions=[Message.attachments.set(entries)])
    return message


def shown_files(desk: Any, ticket_id: str, cookie: str) -> list[Any]:
    response = get(desk, f"/console/t/{ticket_id}", cookie)
    assert response.status_code == 200
    shown = page(response)
    [customer] = shown.css("#thread li.entry.customer")
    return customer.css("ul.attachments li")


def link_of(item: Any) -> str:
    return str(item.css_first("a").attributes["href"])


def path_of(url: str) -> str:
    return url.removeprefix(stage.public_url())


def presigned(desk: Any, path: str, cookie: str) -> dict[str, list[str]]:
    response = get(desk, path, cookie)
    assert response.status_code == 303, response.body[:300]
    location = response.headers["Location"]
    assert location.startswith(stage.files_origin() + "/")  # S3, and the origin the CSP allows
    assert response.headers["Cache-Control"] == "no-store"  # each click is authorized again
    return parse_qs(urlsplit(location).query)


@pytest.fixture
def screenshot_ticket(desk, team):
    ticket_id = new_ticket(desk)  # routed to general: Olena's queue, not Tina's
    message = attach(
        ticket_id,
        ("screenshot.png", "image/png", png()),
        ("invoice.pdf", "application/pdf", PDF),
        files.listed(
            name="eicar.zip", declared="application/zip", size=68, state=files.QUARANTINED, reason="SES: virus"
        ),
        {"name": "old-notes.txt", "content_type": "text/plain", "size": 120},  # before the desk kept files
        files.listed(
            name="voice.ogg", declared="audio/ogg", size=5000, state=files.PENDING, provider="telegram", source="F1"
        ),
        files.listed(name="huge.mov", declared="video/quicktime", size=0, state=files.REFUSED, reason="over 25 MB"),
    )
    return ticket_id, message


# --- what the thread shows -----------------------------------------------------------------------
def test_a_screenshot_is_a_thumbnail_a_pdf_a_download_and_files_not_kept_are_labelled(desk, team, screenshot_ticket):
    ticket_id, message = screenshot_ticket
    cookie = sign_in(desk, OLENA)

    image, pdf, quarantined, old, pending, refused = shown_files(desk, ticket_id, cookie)

    route = f"{stage.ticket_page(ticket_id)}/files/"
    thumb = image.css_first("a.thumb img")
    assert thumb.attributes["alt"] == "screenshot.png" and thumb.attributes["loading"] == "lazy"
    assert thumb.attributes["src"] == link_of(image) == route + f"{message_key_ref(message)}/0"  # ours, not S3's
    assert pdf.css_first("img") is None and link_of(pdf) == route + f"{message_key_ref(message)}/1"
    assert pdf.css_first(".file-name").text() == "invoice.pdf" and pdf.css_first(".file-size").text() == "0.1 kB"
    assert quarantined.css("a") == [] and "quarantined: the mail carried a virus" in quarantined.text()
    assert old.css("a") == [] and old.css_first(".file-name").text() == "old-notes.txt"
    assert pending.css("a") == [] and "arriving…" in pending.text()
    assert refused.css("a") == [] and "not kept: over 25 MB" in " ".join(refused.text().split())
    assert "X-Amz" not in get(desk, f"/console/t/{ticket_id}", cookie).body.decode()  # no presigned URL in the page


def message_key_ref(message: Message) -> str:
    """What the route names a message by: its key's time, compacted, and its id."""
    time, _, message_id = message.message_key.partition("#")
    return time.replace("-", "").replace(":", "").replace(".", "") + "." + message_id


def test_the_attachments_list_is_labelled_for_screen_readers_in_the_agents_language(desk, team, screenshot_ticket):
    ticket_id, _ = screenshot_ticket
    response = get(desk, f"/console/t/{ticket_id}", sign_in(desk, OLENA), {"Accept-Language": "uk"})
    [listing] = page(response).css("#thread li.entry.customer ul.attachments")

    assert listing.attributes["aria-label"] == "Attachments"  # Olena's own language (en) wins over the browser's
    assert "Content-Security-Policy" in response.headers
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["img-src"] == f"'self' {stage.files_origin()}"  # the thumbnails' redirect target, nothing else
    assert policy["connect-src"] == f"'self' {stage.files_origin()}"  # the composer's uploads (att-send)
    assert policy["default-src"] == "'none'"


# --- opening a file ------------------------------------------------------------------------------
def test_a_screenshot_opens_inline_through_a_link_that_expires(desk, team, screenshot_ticket):
    ticket_id, _ = screenshot_ticket
    cookie = sign_in(desk, OLENA)
    [image, *_] = shown_files(desk, ticket_id, cookie)

    query = presigned(desk, path_of(link_of(image)), cookie)

    assert query["response-content-disposition"][0].startswith("inline;")
    assert "screenshot.png" in query["response-content-disposition"][0]
    assert query["response-content-type"] == ["image/png"]
    assert query["X-Amz-Expires"] == [str(settings().attachments.link_minutes * 60)]


@pytest.mark.parametrize(
    "name, declared, data",
    [
        ("drawing.svg", "image/svg+xml", SVG),  # stored XSS through an SVG: never rendered
        ("page.html", "text/html", HTML),
        ("invoice.pdf", "application/pdf", PDF),
        ("photo.png", "image/png", HTML),  # labelled an image, its bytes a page
    ],
)
def test_anything_but_a_raster_image_downloads_as_octet_stream(desk, team, name, declared, data):
    ticket_id = new_ticket(desk)
    attach(ticket_id, (name, declared, data))
    cookie = sign_in(desk, OLENA)
    [item] = shown_files(desk, ticket_id, cookie)

    query = presigned(desk, path_of(link_of(item)), cookie)

    assert item.css("img") == []
    assert query["response-content-disposition"][0].startswith("attachment;")
    assert query["response-content-type"] == ["application/octet-stream"]


def test_another_queues_agent_gets_the_same_404_as_for_no_file(desk, team, screenshot_ticket):
    ticket_id, _ = screenshot_ticket
    path = path_of(link_of(shown_files(desk, ticket_id, sign_in(desk, OLENA))[0]))
    tina = sign_in(desk, TINA)

    refused = get(desk, path, tina)

    assert refused.status_code == 404 and "Location" not in refused.headers
    assert desk.api("GET", path.replace("/console/t/", "/api/tickets/"), team["tech"]["token"]).status_code == 404


def test_a_forged_or_altered_link_is_a_404_never_a_500(desk, team, screenshot_ticket):
    ticket_id, message = screenshot_ticket
    other = new_ticket(desk, submission_id="s2", message="Another question")
    ref = message_key_ref(message)
    cookie = sign_in(desk, OLENA)
    base = f"/console/t/{ticket_id}/files"
    forged = [
        f"{base}/{ref}/6",  # one past the last file
        f"{base}/{ref}/01",  # the same file, spelled otherwise
        f"{base}/{ref}/-1",
        f"{base}/{ref}/1e1",
        f"{base}/{ref}/99999999999999999999",
        f"{base}/{ref[:-1]}0/0",  # another message id
        f"{base}/{ref.replace('T', 'X', 1)}/0",
        f"{base}/{message.message_key.replace('#', '%23')}/0",  # the raw key
        f"{base}/..%2F..%2Fetc/0",
        f"{base}/{'9' * 500}/0",
        f"/console/t/{other}/files/{ref}/0",  # a real message, of another ticket
        f"/console/t/PR-NOPE/files/{ref}/0",
    ]
    for path in forged:
        response = get(desk, path, cookie)
        assert response.status_code == 404, (path, response.status_code)
        api = desk.api("GET", path.replace("/console/t/", "/api/tickets/"), team["olena"]["token"])
        assert api.status_code == 404, (path, api.status_code)


def test_a_file_whose_bytes_are_not_kept_is_a_409_saying_why(desk, team, screenshot_ticket):
    ticket_id, message = screenshot_ticket
    cookie = sign_in(desk, OLENA)
    base = f"/console/t/{ticket_id}/files/{message_key_ref(message)}"

    quarantined = get(desk, f"{base}/2", cookie)
    old = get(desk, f"{base}/3", cookie)

    assert quarantined.status_code == 409 and "Location" not in quarantined.headers
    assert "This file cannot be opened" in page(quarantined).words
    assert "quarantined: the mail carried a virus" in page(quarantined).words
    assert old.status_code == 409 and "before the desk kept files" in page(old).words
    api = desk.api("GET", f"/api/tickets/{ticket_id}/files/{message_key_ref(message)}/4", team["olena"]["token"])
    assert api.status_code == 409 and "still arriving" in api.json_body["Message"]


def test_signed_out_the_file_route_goes_to_sign_in_and_back(desk, team, screenshot_ticket):
    ticket_id, message = screenshot_ticket
    path = f"/console/t/{ticket_id}/files/{message_key_ref(message)}/0"

    response = get(desk, path)

    assert response.status_code == 303 and "/console/sign-in?next=" in response.headers["Location"]
    assert "X-Amz" not in response.headers["Location"]


# --- the JSON API ----------------------------------------------------------------------------------
def test_the_api_lists_files_and_gives_a_short_lived_link(desk, team, screenshot_ticket):
    ticket_id, message = screenshot_ticket
    token = team["olena"]["token"]

    conversation = desk.api("GET", f"/api/tickets/{ticket_id}", token).json_body["conversation"]
    [listed] = [entry["attachments"] for entry in conversation if entry["direction"] == "in"]
    image, pdf, quarantined, old = listed[:4]
    opened = desk.api("GET", image["file"], token)

    assert (image["name"], image["type"], image["state"], image["inline"]) == (
        "screenshot.png",
        "image/png",
        "stored",
        True,
    )
    assert image["sha256"] and "key" not in image
    assert message.attachments[0]["key"] not in str(listed)  # where it lies in S3 is the desk's business
    assert pdf["inline"] is False and quarantined["file"] is None and old["state"] == "listed"
    assert opened.status_code == 200
    body = opened.json_body
    assert (body["name"], body["type"], body["inline"], body["size"]) == (
        "screenshot.png",
        "image/png",
        True,
        len(png()),
    )
    assert body["url"].startswith(stage.files_origin() + "/")
    assert parse_qs(urlsplit(body["url"]).query)["X-Amz-Expires"] == [str(settings().attachments.link_minutes * 60)]
    pdf_link = desk.api("GET", pdf["file"], token).json_body
    assert (pdf_link["type"], pdf_link["inline"]) == ("application/octet-stream", False)
