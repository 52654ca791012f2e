"""Finding things from the console's search box: a reference goes straight to its ticket; an email
address, a phone number in any spelling or a messenger id lists the customer's tickets the agent
may see; anything else is told what the box understands. Exact lookups only: never a Scan."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chalicelib import stage
from chalicelib.console import search
from tests.console.pages import get, page, sign_in, tables
from tests.test_channels import telegram_update, twilio_sms, viber_message

OLENA, TINA, LEV = "olena@promptly.example", "tina@promptly.example", "lev@promptly.example"


def form_ticket(desk, submission: str, email: str, subject: str = "Cannot log in") -> str:
    fields = {"submission_id": submission, "email": email, "name": "Olga", "subject": subject, "message": "Hello."}
    return desk.post_form(fields).json_body["ticket"]


def find(desk, cookie: str, typed: str):
    return get(desk, "/console/search?q=" + quote(typed, safe=""), cookie)


def listed(response) -> list[str]:
    return [
        row.attributes["data-href"].rsplit("/", 1)[1] for row in page(response).css("#search-results tr.ticket-row")
    ]


# --------------------------------------------------------------------------- each kind


@pytest.mark.parametrize("typed", ["{ref}", "{lower}", " {ref} ", "{spaced}"])
def test_a_reference_goes_straight_to_its_ticket_page(desk, team, typed):
    ticket = form_ticket(desk, "s1", "olga@example.com")
    cookie = sign_in(desk, OLENA)
    spelled = typed.format(ref=ticket, lower=ticket.lower(), spaced=ticket.replace("-", " "))

    found = find(desk, cookie, spelled)

    assert found.status_code == 303
    assert found.headers["Location"] == stage.ticket_page(ticket)


def test_another_queues_reference_is_answered_as_one_that_does_not_exist(desk, team):
    general = form_ticket(desk, "s1", "olga@example.com")
    cookie = sign_in(desk, TINA)  # tech only

    theirs, none = find(desk, cookie, general), find(desk, cookie, "PR-ZZZZZZZZ")

    assert theirs.status_code == none.status_code == 404
    assert "No ticket" in page(theirs).one("#search-none").text()
    assert page(theirs).one("#search-none").text().replace(general, "X") == page(none).one(
        "#search-none"
    ).text().replace("PR-ZZZZZZZZ", "X")
    assert "Location" not in theirs.headers


def test_an_email_address_in_any_case_lists_the_customers_tickets(desk, team):
    first = form_ticket(desk, "s1", "olga@example.com")
    second = form_ticket(desk, "s2", "Olga@Example.COM", subject="Still cannot log in")
    other = form_ticket(desk, "s3", "ivan@example.com")
    cookie = sign_in(desk, OLENA)

    found = find(desk, cookie, "OLGA@example.com")

    assert found.status_code == 200
    assert sorted(listed(found)) == sorted([first, second]) and other not in listed(found)
    shown = page(found)
    row = shown.one(f'tr[data-href$="/{first}"]')
    assert row.css_first("a").attributes["href"] == stage.ticket_page(first)
    assert [cell.text().strip() for cell in row.css("td")][1:4] == ["Cannot log in", "Olga", "New"]
    assert "23 Nov 2026, 10:00" in row.text()  # updated, in the agent's zone (the desk's: Kyiv)
    assert shown.one("#search-q").attributes["value"] == "OLGA@example.com"  # the box keeps what was typed


@pytest.mark.parametrize("typed", ["+380501234567", "+38 (050) 123-45-67", "00380 50 123 45 67", "380501234567"])
def test_a_phone_number_in_another_format_finds_the_sms_customer(desk, team, providers, typed):
    desk.post_twilio(twilio_sms(sender="+380501234567"))
    desk.post_twilio(twilio_sms(sid="SM" + "1" * 32, sender="+380509999999", body="Someone else"))
    cookie = sign_in(desk, OLENA)

    found = find(desk, cookie, typed)

    assert found.status_code == 200
    assert [cell.text().strip() for cell in page(found).css("#search-results tbody td:nth-child(2)")] == [
        "Hello, my order 1042 has not arrived"
    ]


def test_a_telegram_chat_id_finds_the_customers_tickets(desk, team, providers):
    desk.post_telegram(telegram_update(chat_id=4242, text="Payment by card fails"))
    desk.post_telegram(telegram_update(update_id=10009, chat_id=5151, text="Another person"))
    cookie = sign_in(desk, LEV)

    found = find(desk, cookie, "4242")

    assert len(listed(found)) == 1
    assert "Payment by card fails" in page(found).one("#search-results").text()


def test_a_viber_user_id_finds_the_customers_tickets(desk, team, providers):
    desk.post_viber(viber_message())
    cookie = sign_in(desk, LEV)

    found = find(desk, cookie, "01234567890A=")

    assert len(listed(found)) == 1
    assert "John McClane" in page(found).one("#search-results").text()


# --------------------------------------------------------------------------- who sees what


def test_tickets_of_another_queue_are_not_listed(desk, team):
    general = form_ticket(desk, "s1", "olga@example.com")
    tech = form_ticket(desk, "s2", "olga@example.com", subject="Error 500 on login")

    assert listed(find(desk, sign_in(desk, OLENA), "olga@example.com")) == [general]
    assert listed(find(desk, sign_in(desk, TINA), "olga@example.com")) == [tech]
    assert sorted(listed(find(desk, sign_in(desk, LEV), "olga@example.com"))) == sorted([general, tech])


def test_only_another_queues_tickets_read_as_nothing_found(desk, team):
    form_ticket(desk, "s2", "olga@example.com", subject="Error 500 on login")

    found = find(desk, sign_in(desk, OLENA), "olga@example.com")

    assert found.status_code == 200
    assert not page(found).css("#search-results")
    assert "No tickets of yours" in page(found).one("#search-none").text()


# --------------------------------------------------------------------------- what it cannot read


@pytest.mark.parametrize("typed", ["two words", "olga@", "@example.com", "x" * 300, "Cannot log in"])
def test_what_the_search_cannot_read_is_told_what_it_can(desk, team, typed):
    found = find(desk, sign_in(desk, OLENA), typed)

    assert found.status_code == 400
    assert "Search by reference, email, phone or messenger id" in page(found).one("#search-help").text()


def test_an_empty_search_explains_itself(desk, team):
    found = get(desk, "/console/search?q=", sign_in(desk, OLENA))

    assert found.status_code == 200
    assert "Search by reference" in page(found).one("#search-help").text()


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("PR-7K3QX9M2", "reference"),
        ("pr-7k3qxom2", "reference"),  # O read as 0, as Crockford's base32 says
        ("olga@example.com", "email"),
        ("+44 20 7946 0958", "phone"),
        ("4242", "messenger"),
        ("-1001234567", "messenger"),  # a Telegram group chat
        ("visitor-1", "messenger"),
        ("050 123 45 67", "unknown"),  # a local number names no country
        ("hello there", "unknown"),
    ],
)
def test_what_is_typed_is_read_as_one_kind(desk, typed, kind):
    read = search.read(typed)
    assert read.kind == kind
    if typed == "pr-7k3qxom2":
        assert read.reference == "PR-7K3QX0M2"


def test_a_bare_number_is_looked_up_as_a_phone_and_as_a_messenger_id_at_once(desk):
    wanted = search.read("380501234567").contacts
    assert "contact#phone#+380501234567" in wanted and "contact#telegram#380501234567" in wanted


# --------------------------------------------------------------------------- cost, and nothing changes


def test_search_reads_by_exact_keys_and_never_scans(desk, team, providers, dynamodb_calls):
    ticket = form_ticket(desk, "s1", "olga@example.com")
    desk.post_telegram(telegram_update(chat_id=4242))
    desk.post_twilio(twilio_sms())
    cookie = sign_in(desk, LEV)
    costs = {}
    for typed in (ticket, "olga@example.com", "4242", "+380501234567", "two words"):
        dynamodb_calls.clear()
        assert find(desk, cookie, typed).status_code in (200, 303, 400)
        assert not [call for call in dynamodb_calls if call[0] == "Scan"], typed
        costs[typed] = [operation for operation, _ in dynamodb_calls]

    session = ["TransactGetItems"]
    assert costs[ticket] == [*session, "GetItem"]
    assert costs["olga@example.com"] == [*session, "Query", "BatchGetItem"]
    assert costs["4242"] == costs["+380501234567"] == [*session, "BatchGetItem", "Query", "BatchGetItem"]
    assert costs["two words"] == session


def test_search_changes_nothing(desk, team, providers):
    ticket = form_ticket(desk, "s1", "olga@example.com")
    desk.post_telegram(telegram_update(chat_id=4242))
    cookie = sign_in(desk, OLENA)
    desk.pump()
    for typed in (ticket, "olga@example.com", "4242", "+380501234567", "two words", ""):
        before = tables()
        find(desk, cookie, typed)
        assert tables() == before, typed


def test_signed_out_search_goes_to_sign_in_and_comes_back(desk, team):
    response = get(desk, "/console/search?q=olga%40example.com")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("http://127.0.0.1:8000/console/sign-in?next=")
    assert "search" in response.headers["Location"]
