"""No GET of the console changes anything: mail scanners, link previews and prefetching browsers
open every link an alert carries, so only a button (a POST) may take, send or sign in. Every GET
route app.py declares under /console is fetched — as the admin, who may see every page, as an
htmx refresh and as a whole page, and signed out — with every table compared before and after."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.attachments import opening
from chalicelib.models import Message, Ticket
from tests.conftest import fixture_bytes
from tests.console.pages import HTMX, get, sign_in, tables
from tests.test_agent_api import new_ticket

ADA = "ada@promptly.example"


def console_gets() -> list[str]:
    import app

    return sorted(path for path, methods in app.app.routes.items() if path.startswith("/console") and "GET" in methods)


def filled(path: str, ticket_id: str, agent_id: str, email: tuple[str, str] | None = None) -> str:
    """`path` with its parameters filled; a message's routes name `email`'s (ticket, message ref)."""
    if "{message}" in path and email is not None:
        ticket_id = email[0]
        path = path.replace("{message}", email[1]).replace("{index}", "0")
    concrete = path.replace("{ticket_id}", ticket_id).replace("{agent_id}", agent_id)
    queries = {
        "/console/search": "?q=olga@example.com",
        "/console/queue": "?view=all",
        "/console/roster": "?queue=general&week=2026-W48",
    }
    return concrete + queries.get(path, "")


def test_the_routes_covered_are_every_console_get():
    """A new GET route joins the check below by itself; this pins that there are some to check."""
    assert {"/console/queue", "/console/t/{ticket_id}", "/console/search", "/console/me"} <= set(console_gets())
    assert "/console/t/{ticket_id}/messages/{message}/original" in console_gets()  # reads S3: changes nothing


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_no_console_get_changes_any_table(desk: Any, team: dict[str, Any], as_htmx: bool) -> None:
    ticket_id = new_ticket(desk)
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))  # a message with its raw mail in S3
    desk.pump()
    [mail] = [
        m for t in Ticket.scan() if t.channel == "email" for m in Message.query(t.ticket_id) if m.direction == "in"
    ]
    email = (mail.ticket_id, str(opening.ref(mail.message_key)))
    cookie = sign_in(desk, ADA)
    for path in console_gets():
        url = filled(path, ticket_id, team["olena"]["id"], email)
        for who in (cookie, ""):
            before = tables()
            response = get(desk, url, who, HTMX if as_htmx else None)
            assert response.status_code < 500, (url, response.status_code)
            assert tables() == before, f"GET {url} changed a table"
            if path.endswith("/original") and who:
                assert response.status_code == 200, "the whole message was really read"
