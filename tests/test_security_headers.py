"""What the desk answers keeps to itself: every HTML page (customers' links, their error pages,
the local outbox) is never cached, never framed, runs nothing, loads nothing and never sends its
URL — with the customer's signed token in it — on as a referrer; the agents' console's pages
likewise, except that they may run the desk's own scripts (never inline ones) and send their
URL as a referrer to the desk itself; every API answer is never cached or type-sniffed.

The routes are not listed here: every route of the app is called, and whatever answers HTML is
checked, so a new page cannot forget its headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app import app
from chalicelib import clock, stage
from chalicelib.attachments import customer_links
from chalicelib.feedback import confirm, csat, nps
from chalicelib.models import Ticket
from tests.test_openapi import operations, resolve

FORM = {
    "submission_id": "s1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}
# A valid answer to each customer's page; its link comes from a solved ticket (see `links`).
ANSWERS = {"confirm": "answer=yes", "rate": "rating=good&comment=thanks", "survey": "score=9&comment=fine"}
FORGED = "eyJ0IjoiUFItWCJ9.forged"


def links(desk, team) -> dict[str, str]:
    """The confirm, rate and survey paths of a ticket Olena answered and solved."""
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Reset your password."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    ticket, now = Ticket.get(ticket_id), clock.now()
    urls = {
        "confirm": confirm.confirm_url(ticket, now),
        "rate": csat.rate_url(ticket),
        "survey": nps.survey_url(ticket, now),
        "f": customer_links.url({"key": f"tickets/{ticket_id}/M-0123456789abcdef/00-0123456789abcdef"}, now),
    }
    return {name: str(url).removeprefix(stage.public_url()) for name, url in urls.items()}


def requests(path: str, method: str, content_types: list[str], valid: dict[str, str]) -> Iterator[dict[str, Any]]:
    """One request per way the route can answer that matters here: for a customer's page its real
    link (with a valid answer when it is a POST) and a forged one; anything else, dummy values."""
    content_type = content_types[0]
    body = "{}" if content_type == "application/json" else ""
    if "{token}" not in path:
        yield {"path": path.replace("{", "").replace("}", ""), "body": body, "content_type": content_type}
        return
    page = path.strip("/").split("/")[0]
    yield {"path": valid[page], "body": ANSWERS[page] if method == "POST" else "", "content_type": content_type}
    yield {"path": path.replace("{token}", FORGED), "body": body, "content_type": content_type}


def every_answer(desk, team) -> Iterator[tuple[str, str, Any]]:
    valid = links(desk, team)
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            for request in requests(path, method, entry.content_types, valid):
                headers = {"Content-Type": request["content_type"], "Authorization": f"Bearer {team['admin']['token']}"}
                response = desk.client.http.request(method, request["path"], headers=headers, body=request["body"])
                yield path, method, response


def test_every_html_page_is_uncached_unframed_scriptless_and_keeps_its_url_to_itself(desk, team):
    pages: dict[tuple[str, str], set[int]] = {}

    for path, method, response in every_answer(desk, team):
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        pages.setdefault((path, method), set()).add(response.status_code)
        headers = response.headers
        policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        where = f"{method} {path} ({response.status_code})"
        assert headers["Cache-Control"] == "no-store", where
        assert headers["X-Content-Type-Options"] == "nosniff", where
        assert headers["X-Frame-Options"] == "DENY", where
        assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'", where
        assert policy["form-action"] == "'self'" and policy["default-src"] == "'none'", where
        if path.startswith("/console"):  # the agents' console: its own vendored scripts, never inline ones
            assert headers["Referrer-Policy"] == "same-origin", where
            assert policy["script-src"] == "'self'" and policy["style-src"] == "'self' 'unsafe-inline'", where
        else:  # customers' pages carry a signed token in their URL, and run nothing
            assert headers["Referrer-Policy"] == "no-referrer", where
            assert "script-src" not in policy and policy["style-src"] == "'unsafe-inline'", where

    documented = {
        (path, method)
        for (path, method), op in operations().items()
        if any("text/html" in resolve(response).get("content", {}) for response in op["responses"].values())
    }
    assert set(pages) == documented  # each page the contract lists was reached, and no other answers HTML
    # the console's pages and refusals are driven with a session by tests/test_console_sign_in.py
    customers = {
        key: codes for key, codes in pages.items() if key[0] != "/dev/mail" and not key[0].startswith("/console")
    }
    assert all(200 in codes and codes - {200} for codes in customers.values()), customers  # pages and refusals


def test_every_api_answer_is_uncached_and_never_sniffed(desk, team):
    answers = [
        (path, method, response) for path, method, response in every_answer(desk, team) if path.startswith("/api/")
    ]

    assert answers and {response.status_code // 100 for _, _, response in answers} >= {2, 4}
    for path, method, response in answers:
        assert response.headers["Cache-Control"] == "no-store", (method, path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", (method, path)
