"""The ticket page, as an agent opens it from a queue or an alert: the promise and the running
clocks on top, the conversation with notes marked apart, events as one-liners and attachments
listed, customer text shown as text, older entries on demand, the customer in a sidebar — for
exactly the people the JSON API lets see the ticket, in three DynamoDB calls, changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.agents import staff
from chalicelib.console import canned
from chalicelib.models import Message, Ticket
from tests.conftest import fixture_bytes
from tests.console.pages import HTMX, Page, get, page, sign_in, tables
from tests.test_agent_api import new_ticket
from tests.test_sender_identity import mail

OLENA = "olena@promptly.example"
TARAS = "taras@promptly.example"
TINA = "tina@promptly.example"
LEV = "lev@promptly.example"
ADA = "ada@promptly.example"


def ticket_page(desk: Any, ticket_id: str, cookie: str, headers: dict[str, str] | None = None) -> Page:
    response = get(desk, f"/console/t/{ticket_id}", cookie, headers)
    assert response.status_code == 200, response.body[:500]
    return page(response)


def entries(shown: Page, role: str) -> list[Any]:
    return shown.css(f"#thread li.entry.{role}")


def api(desk: Any, team: dict[str, Any], who: str, method: str, path: str, body: Any = None) -> Any:
    response = desk.api(method, path, team[who]["token"], body)
    assert response.status_code < 300, response.json_body
    return response.json_body


# --- what the page shows -------------------------------------------------------------------------
def test_the_page_shows_the_promise_every_running_clock_and_the_conversation(desk, team):
    ticket_id = new_ticket(desk)  # a form ticket on Monday 10:00 Kyiv: first answer due 14:00
    desk.pump()  # the acknowledgement promised 14:00
    desk.advance(timedelta(hours=3, minutes=20))  # 13:20: past the 75 % warning of the first response
    cookie = sign_in(desk, OLENA)

    shown = ticket_page(desk, ticket_id, cookie)

    assert "told a person would answer by 23 Nov, 14:00" in shown.one(".sla .promise").text()
    clocks = {node.css_first(".clock-label").text(): node for node in shown.css(".clocks .clock")}
    assert list(clocks) == ["First response", "Resolution"]
    first = clocks["First response"]
    assert "level-warn" in first.attributes["class"] and first.css_first("time").text() == "in 40 min · 14:00"
    assert "level-ok" in clocks["Resolution"].attributes["class"]
    [customer] = entries(shown, "customer")
    assert "Hello, I cannot log in." in customer.css_first(".body").text()
    assert customer.css_first(".who").text() == "Olga"
    [ack] = entries(shown, "desk")  # the acknowledgement: a compact line one can open
    assert "Acknowledgement sent" in ack.css_first("summary").text() and ack.css_first("details") is not None
    assert shown.one("#take").text() == "Take it"
    assert shown.one("form#composer textarea#composer-text") and shown.one("#mode-reply") and shown.one("#mode-note")
    assert "checked" in shown.one("#mode-reply").attributes


def test_the_usual_wait_said_in_the_acknowledgement_is_shown_with_the_promise(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    Ticket.get(ticket_id).update(actions=[Ticket.usual_by.set(Ticket.get(ticket_id).created_at + timedelta(hours=1))])

    promise = ticket_page(desk, ticket_id, sign_in(desk, OLENA)).one(".sla .promise").text()

    assert "14:00" in promise and "usually answer by 23 Nov, 11:00" in promise


def test_notes_answers_and_events_are_told_apart_and_attachments_listed(desk, team):
    desk.deliver_email(fixture_bytes("email", "mixed_pdf_inline_image.eml"))
    [ticket] = list(Ticket.scan())
    path = f"/api/tickets/{ticket.ticket_id}"
    api(desk, team, "olena", "POST", f"{path}/notes", {"text": "Customer is on the legacy plan"})
    api(desk, team, "olena", "POST", f"{path}/reply", {"text": "We are checking the payment."})
    api(desk, team, "olena", "POST", f"{path}/priority", {"priority": "high"})

    shown = ticket_page(desk, ticket.ticket_id, sign_in(desk, TARAS))

    [note] = entries(shown, "note")
    assert note.css_first(".note-label").text() == "Internal note"
    assert note.css_first(".who").text() == "Olena Koval" and "legacy plan" in note.css_first(".body").text()
    [answer] = entries(shown, "answer")
    assert answer.css_first(".who").text() == "Olena Koval"
    events = [" ".join(node.text().split()) for node in entries(shown, "event")]
    assert any("Olena Koval Priority: Normal → High" in line for line in events), events
    assert all(node.css_first("article") is None for node in entries(shown, "event"))  # one-liners, no cards
    [inbound] = entries(shown, "customer")
    files = [
        (li.css_first(".file-name").text(), li.css_first(".file-type").text()) for li in inbound.css(".attachments li")
    ]
    assert ("error.png", "image/png") in files and any(name.endswith(".pdf") for name, _ in files)
    assert all(li.css_first(".file-size").text().endswith("kB") for li in inbound.css(".attachments li"))


def test_customer_html_is_shown_as_text_and_only_web_and_mail_links_are_links(desk, team):
    body = (
        '<script>alert("x")</script><b>bold</b> <img src=x onmouseover=alert(1)>\n'
        "see https://shop.example/order?id=7&x=1. or javascript:alert(1) or mailto:help@shop.example\n"
        "second line"
    )
    ticket_id = new_ticket(desk, message=body)

    shown = ticket_page(desk, ticket_id, sign_in(desk, OLENA))  # page() fails on any inline script

    [customer] = entries(shown, "customer")
    text = customer.css_first(".body")
    assert text.css("script, b, img") == []
    assert '<script>alert("x")</script><b>bold</b>' in text.text() and "\nsecond line" in text.text()
    links = {a.attributes["href"]: a.attributes.get("rel") for a in text.css("a")}
    assert links == {
        "https://shop.example/order?id=7&x=1": "noopener noreferrer nofollow",
        "mailto:help@shop.example": "noopener noreferrer nofollow",
    }
    assert "javascript:" not in " ".join(a.attributes["href"] for a in shown.css("a[href]"))


def test_the_sidebar_tells_who_the_customer_is(desk, team):
    desk.deliver_email(mail("Jane Doe <jane.doe@acme.example>", subject="Access for a new colleague"))
    [ticket] = list(Ticket.scan())
    ticket.update(
        actions=[
            Ticket.rating.set("bad"),
            Ticket.rating_comment.set("Too slow"),
            Ticket.nps_score.set(3),
            Ticket.timezone.set("America/New_York"),
        ]
    )

    shown = ticket_page(desk, ticket.ticket_id, sign_in(desk, OLENA))

    side = shown.one(".ticket-side")
    facts = dict(zip([dt.text() for dt in side.css("dt")], [dd.text() for dd in side.css("dd")], strict=True))
    assert side.css_first("h2").text() == "Jane Doe"
    assert facts["Email"] == "jane.doe@acme.example" and facts["Language"] == "English"
    assert facts["Their time now"].startswith("23 Nov, 03:00") and "New York" in facts["Their time now"]
    assert "not known" not in facts["Their time now"]
    assert facts["Organization"] == "ACME Ltd verified"
    assert "Rated the answer: bad" in side.text() and "Too slow" in side.text() and "3 / 10" in side.text()


def test_a_customer_who_never_said_their_zone_is_not_shown_the_desks_as_theirs(desk, team):
    """An email (like Telegram, Viber or SMS) says no time zone: the ticket is in the desk's, and the page says so."""
    desk.deliver_email(mail("Jane Doe <jane.doe@acme.example>", subject="No zone in this mail"))
    [ticket] = list(Ticket.scan())
    shown = ticket_page(desk, ticket.ticket_id, sign_in(desk, OLENA))
    side = shown.one(".ticket-side")
    facts = dict(zip([dt.text() for dt in side.css("dt")], [dd.text() for dd in side.css("dd")], strict=True))
    assert "the desk's zone: theirs is not known" in facts["Their time now"]


def test_an_unverified_requester_and_a_stranger_are_flagged(desk, team):
    desk.deliver_email(mail("Boss <boss@acme.example>", subject="Reset the admin password"))
    [ticket] = list(Ticket.scan())

    side = ticket_page(desk, ticket.ticket_id, sign_in(desk, OLENA)).one(".ticket-side")

    assert "ACME Ltd not verified" in side.text() and "not one of its listed requesters" in side.text()


def test_the_customers_other_tickets_and_the_one_this_continues_are_links(desk, team):
    desk.deliver_email(mail("Ann <ann@customer.example>", subject="First", message_id="a1@customer.example"))
    [first] = list(Ticket.scan())
    api(desk, team, "olena", "POST", f"/api/tickets/{first.ticket_id}/status", {"status": "closed"})
    desk.deliver_email(
        mail(
            "Ann <ann@customer.example>",
            subject="Re: First",
            message_id="a2@customer.example",
            extra="In-Reply-To: <a1@customer.example>\r\n",
        ),
        key="ses-message-2",
    )
    second = next(t for t in Ticket.scan() if t.ticket_id != first.ticket_id)
    assert second.previous_ticket == first.ticket_id and second.customer_id == first.customer_id
    cookie = sign_in(desk, OLENA)

    shown = ticket_page(desk, second.ticket_id, cookie)
    more = page(get(desk, f"/console/t/{second.ticket_id}/customer", cookie, HTMX))

    assert shown.one(".history p a").attributes["href"] == f"http://127.0.0.1:8000/console/t/{first.ticket_id}"
    assert shown.one("#customer-more").attributes["hx-get"].endswith(f"/t/{second.ticket_id}/customer")
    [other] = more.css(".other-tickets li")
    assert other.css_first("a").attributes["href"].endswith(f"/console/t/{first.ticket_id}")
    assert "Closed" in other.text() and "First" in other.text()
    assert more.css("header.bar") == []  # a fragment, not a page


def test_the_customers_tickets_in_another_queue_are_not_listed(desk, team):
    desk.deliver_email(mail("Ann <ann@customer.example>", subject="Error 500 on login", message_id="t1@c.example"))
    desk.deliver_email(mail("Ann <ann@customer.example>", subject="Invoice", message_id="t2@c.example"), key="k2")
    tech = next(t for t in Ticket.scan() if t.queue == "tech")
    other = next(t for t in Ticket.scan() if t.queue != "tech")

    olena = page(get(desk, f"/console/t/{other.ticket_id}/customer", sign_in(desk, OLENA), HTMX))
    lev = page(get(desk, f"/console/t/{other.ticket_id}/customer", sign_in(desk, LEV), HTMX))

    assert tech.ticket_id not in olena.html and "No other tickets you can see" in olena.words
    assert tech.ticket_id in lev.html


# --- canned replies ------------------------------------------------------------------------------
def test_every_shipped_canned_reply_renders_in_every_language():
    context = {"customer_name": "Olga", "agent_name": "Olena Koval", "agent_first_name": "Olena"}
    context |= {"ticket_ref": "PR-7K3QX9M2", "subject": "Cannot log in", "desk_name": "Promptly Support"}
    shipped = canned.names()
    assert set(shipped) >= {"en", "uk", "ru"}
    assert {len(shipped[language]) for language in ("en", "uk", "ru")} == {5}
    assert shipped["en"] == shipped["uk"] == shipped["ru"]
    for language, names in shipped.items():
        for name in names:
            reply = canned.one(language, name, context)
            assert reply is not None and reply.title and "{{" not in reply.text, (language, name)


def test_the_picker_offers_the_tickets_language_first_filled_in_for_the_customer(desk, team):
    ticket_id = new_ticket(desk, name="Оксана", message="Добрий день, не можу увійти в кабінет", locale="uk")
    staff.update_agent(team["olena"]["id"], {"language": "en"})

    shown = ticket_page(desk, ticket_id, sign_in(desk, OLENA))

    groups = shown.css("#canned-picker optgroup")
    assert [group.attributes["label"] for group in groups] == ["UK", "EN"]
    texts = [option.attributes["data-text"] for option in groups[0].css("option")]
    assert len(texts) == 5 and any(text.startswith("Вітаємо, Оксана!") for text in texts)
    assert shown.one("#canned-insert")


# --- older entries -------------------------------------------------------------------------------
def test_a_long_conversation_loads_its_older_entries_on_demand(desk, team, dynamodb_calls):
    ticket_id = new_ticket(desk)
    desk.pump()  # the acknowledgement goes out first
    for number in range(25):
        desk.advance(timedelta(seconds=1))
        api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/notes", {"text": f"note number {number}"})
    cookie = sign_in(desk, OLENA)

    shown = ticket_page(desk, ticket_id, cookie)
    assert len(shown.css("#thread li.entry")) == 20
    assert "note number 24" in shown.css("#thread li.entry")[-1].text()  # the newest, right above the composer
    link = shown.one("#thread li.older a")
    dynamodb_calls.clear()
    fragment = page(get(desk, link.attributes["hx-get"], cookie, HTMX))

    # the session, the ticket (still the agent's to see: access is asked again, not remembered), the page
    assert dynamodb_calls == [("TransactGetItems", "agents,keys"), ("GetItem", "tickets"), ("Query", "messages")]
    older = fragment.css("li.entry")
    assert [node.text().strip().endswith("Hello, I cannot log in.") for node in older][:1] == [True]
    assert "note number 4" in older[-1].text() and len(older) == 7  # message, acknowledgement, note 0..4
    assert fragment.css("li.older") == [] and fragment.css("header.bar") == []
    whole = page(get(desk, link.attributes["href"], cookie))  # without script: a page of them
    assert whole.css("header.bar") and len(whole.css("li.entry")) == 7


def test_an_older_page_cursor_works_only_for_whom_it_was_made(desk, team):
    ticket_id = new_ticket(desk)
    for number in range(21):
        api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/notes", {"text": f"n{number}"})
    olena = sign_in(desk, OLENA)
    link = ticket_page(desk, ticket_id, olena).one("#thread li.older a").attributes["href"]
    path = link.removeprefix("http://127.0.0.1:8000")
    cursor = path.split("before=", 1)[1]

    assert get(desk, path, olena).status_code == 200
    assert get(desk, path, sign_in(desk, TARAS)).status_code == 404  # signed for Olena
    assert get(desk, path, sign_in(desk, TINA)).status_code == 404
    assert get(desk, path.replace(cursor, cursor[:-2] + "xx"), olena).status_code == 404
    assert get(desk, f"/console/t/{ticket_id}/messages", olena).status_code == 404


# --- who may see it, and what it costs -----------------------------------------------------------
@pytest.mark.parametrize("part", ["", "/customer", "/people"])
def test_the_page_and_its_parts_are_for_those_the_api_lets_see_the_ticket(desk, team, part):
    ticket_id = new_ticket(desk)  # the general queue
    path = f"/console/t/{ticket_id}{part}"

    assert get(desk, path, sign_in(desk, OLENA)).status_code == 200
    assert get(desk, path, sign_in(desk, LEV)).status_code == 200
    assert get(desk, path, sign_in(desk, ADA)).status_code == 200
    refused = get(desk, path, sign_in(desk, TINA))  # tech only: the same 404 as no ticket at all
    assert refused.status_code == 404 and "not in your queues" in page(refused).words
    assert get(desk, f"/console/t/PR-00000000{part}", sign_in(desk, LEV)).status_code == 404
    signed_out = get(desk, path)
    assert signed_out.status_code == 303 and "/console/sign-in?next=" in signed_out.headers["Location"]
    taras = sign_in(desk, TARAS)
    staff.update_agent(team["taras"]["id"], {"active": False})
    assert get(desk, path, taras).status_code == 303  # deactivated: the session ends


def test_no_get_of_the_page_or_its_parts_changes_anything(desk, team):
    ticket_id = new_ticket(desk)
    for number in range(21):
        api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/notes", {"text": f"n{number}"})
    desk.pump()
    cookie = sign_in(desk, OLENA)
    older = ticket_page(desk, ticket_id, cookie).one("#thread li.older a").attributes["href"]
    before = tables()

    for path in ("", "/customer", "/people", older.split(ticket_id, 1)[1]):
        for headers in (None, HTMX):
            assert get(desk, f"/console/t/{ticket_id}{path}", cookie, headers).status_code == 200

    assert tables() == before


def test_the_page_costs_three_dynamodb_calls(desk, team, dynamodb_calls):
    ticket_id = new_ticket(desk)
    desk.pump()
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/reply", {"text": "Hello"})
    cookie = sign_in(desk, TARAS)
    dynamodb_calls.clear()

    ticket_page(desk, ticket_id, cookie)

    assert dynamodb_calls == [("TransactGetItems", "agents,keys"), ("GetItem", "tickets"), ("Query", "messages")]


def test_the_owner_is_named_and_an_agent_who_cannot_answer_is_offered_a_note(desk, team):
    ticket_id = new_ticket(desk)
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/take")

    shown = ticket_page(desk, ticket_id, sign_in(desk, TARAS))

    assert "Owner: Olena Koval" in shown.one(".ticket-facts").text()
    assert shown.css("#take") == [] and shown.css("form.statuses") == []
    assert "disabled" in shown.one("#mode-reply").attributes
    assert "checked" in shown.one("#mode-note").attributes
    assert shown.css("button.send") == [] and shown.one("button.add-note").text() == "Add internal note"


def test_the_status_buttons_are_the_moves_the_state_machine_allows(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)

    def offered() -> list[str]:
        return [b.attributes["value"] for b in ticket_page(desk, ticket_id, cookie).css("form.statuses button")]

    assert offered() == ["open", "pending", "solved", "closed"]  # new
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/status", {"status": "solved"})
    assert offered() == ["open", "closed"]
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/status", {"status": "closed"})
    assert offered() == []


def test_messages_keep_their_authors_name(desk, team):
    ticket_id = new_ticket(desk)
    api(desk, team, "taras", "POST", f"/api/tickets/{ticket_id}/notes", {"text": "x"})

    [note] = [m for m in Message.query(ticket_id) if m.direction == "note"]

    assert (note.author, note.author_name) == (team["taras"]["id"], "Taras Shevchuk")
