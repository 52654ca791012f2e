"""What a customer typed as their name cannot break our mail: control characters are stripped
at intake (a line break in a name used to dead-letter every mail to that customer)."""
from __future__ import annotations

import pytest

from chalicelib.customer_text import clean
from chalicelib.models import Ticket

FORM = {"submission_id": "s1", "email": "ivan@example.com", "name": "Ivan", "subject": "Order 1042",
        "message": "Where is my order?"}


def test_a_line_break_in_a_form_name_no_longer_stops_the_mail(desk, team):
    ticket_id = desk.post_form({**FORM, "name": "Ivan\r\nPetrenko\u202e\x00"}).json_body["ticket"]
    desk.pump()
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "It ships today."})
    failures = desk.pump()

    assert failures == 0 and desk.dead_letters() == []
    answer, ack = desk.sent_mail()
    assert ack["to"] == "Ivan Petrenko <ivan@example.com>" and "Hello Ivan Petrenko," in ack["text"]
    assert answer["to"] == "Ivan Petrenko <ivan@example.com>" and "It ships today." in answer["text"]
    assert desk.api("GET", f"/api/tickets/{ticket_id}", team["olena"]["token"]).json_body["customer"] == \
        "Ivan Petrenko"


def test_a_line_break_in_a_chat_name_no_longer_stops_the_email_copy(desk, providers):
    desk.post_chat({"message_id": "c-1", "visitor_id": "v-1", "text": "Hi", "name": "Ann\nMarie",
                    "email": "ann@example.com"})
    failures = desk.pump()

    assert failures == 0
    [mail] = desk.sent_mail()
    assert mail["to"] == "Ann Marie <ann@example.com>"


@pytest.mark.parametrize("typed, stored", [
    ("Ivan\r\nPetrenko", "Ivan Petrenko"),
    ("\tOlena\u2028Koval ", "Olena Koval"),
    ("Ol\x00e\x07na", "Olena"),
    ("evil\u202egnp.exe", "evilgnp.exe"),  # a bidi override would show it reversed
    ("Zahra\u200cNouri", "Zahra\u200cNouri"),  # ZWNJ is spelling in Persian: kept
    ("Олена Коваль", "Олена Коваль"),
])
def test_names_are_stored_without_control_characters(typed, stored):
    assert clean(typed) == stored


def test_a_ticket_keeps_the_name_as_typed_minus_control_characters(desk):
    ticket_id = desk.post_form({**FORM, "name": "Ivan\nPetrenko"}).json_body["ticket"]

    assert Ticket.get(ticket_id).customer_name == "Ivan Petrenko"
