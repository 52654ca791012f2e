"""What a customer typed as their name and subject can neither break our mail nor ride on it:
control characters are stripped at intake (a line break in a name used to dead-letter every
mail to that customer), and the acknowledgement — sent without a person, to whatever address
the form was given — echoes a capped name and subject and no link at all."""

from __future__ import annotations

import pytest

from chalicelib.customer_text import clean, echo_name, echo_subject
from chalicelib.models import Ticket

FORM = {
    "submission_id": "s1",
    "email": "ivan@example.com",
    "name": "Ivan",
    "subject": "Order 1042",
    "message": "Where is my order?",
}


def test_a_line_break_in_a_form_name_no_longer_stops_the_mail(desk, team):
    ticket_id = desk.post_form({**FORM, "name": "Ivan\r\nPetrenko\u202e\x00"}).json_body["ticket"]
    desk.pump()
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "It ships today."})
    failures = desk.pump()

    assert failures == 0 and desk.dead_letters() == []
    answer, ack = desk.sent_mail()
    assert ack["to"] == "Ivan Petrenko <ivan@example.com>" and "Hello Ivan Petrenko," in ack["text"]
    assert answer["to"] == "Ivan Petrenko <ivan@example.com>" and "It ships today." in answer["text"]
    assert desk.api("GET", f"/api/tickets/{ticket_id}", team["olena"]["token"]).json_body["customer"] == "Ivan Petrenko"


def test_a_line_break_in_a_chat_name_no_longer_stops_the_email_copy(desk, providers):
    desk.post_chat(
        {"message_id": "c-1", "visitor_id": "v-1", "text": "Hi", "name": "Ann\nMarie", "email": "ann@example.com"}
    )
    failures = desk.pump()

    assert failures == 0
    [mail] = desk.sent_mail()
    assert mail["to"] == "Ann Marie <ann@example.com>"


def test_an_advert_in_the_name_and_subject_is_not_echoed(desk, team):
    ticket_id = desk.post_form(
        {**FORM, "name": "Visit cheap-pills.example now", "subject": "Best prices at https://cheap-pills.example"}
    ).json_body["ticket"]
    desk.pump()

    [ack] = desk.sent_mail()
    for part in ("to", "subject", "text", "html"):
        assert "cheap-pills" not in ack[part], part
    assert ack["to"] == "ivan@example.com" and ack["subject"] == f"[{ticket_id}] We received your request"
    assert ack["text"].splitlines()[0] == "Hello,"
    view = desk.api("GET", f"/api/tickets/{ticket_id}", team["olena"]["token"]).json_body
    assert view["customer"] == "Visit cheap-pills.example now"  # the agent sees what was typed


def test_a_long_name_and_subject_are_cut_short_in_the_acknowledgement(desk):
    desk.post_form({**FORM, "name": "Ivan " + "Very" * 40, "subject": "Refund " + "please " * 40})
    desk.pump()

    [ack] = desk.sent_mail()
    greeted = ack["text"].splitlines()[0].removeprefix("Hello ").removesuffix(",")
    assert len(greeted) == 60 and greeted.endswith("…")
    quoted = ack["subject"].split("We received your request: ", 1)[1]
    assert len(quoted) <= 100 and quoted.endswith("…") and quoted.startswith("Refund please")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("Ivan\r\nPetrenko", "Ivan Petrenko"),
        ("\tOlena\u2028Koval ", "Olena Koval"),
        ("Ol\x00e\x07na", "Olena"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # a bidi override would show it reversed
        ("Zahra\u200cNouri", "Zahra\u200cNouri"),  # ZWNJ is spelling in Persian: kept
        ("Олена Коваль", "Олена Коваль"),
    ],
)
def test_names_are_stored_without_control_characters(typed, stored):
    assert clean(typed) == stored


@pytest.mark.parametrize(
    "name",
    [
        "Visit cheap-pills.example",
        "www.win-big.shop",
        "see http://x.example/y",
        "hxxps://evil",
        "192.168.10.20",
        "cheap-pills．example",
        "scam。example",
        "𝐜𝐡𝐞𝐚𝐩.𝐜𝐨𝐦",
    ],
)
def test_anything_like_a_link_is_not_echoed(name):
    assert echo_name(name) == "" and echo_subject(name) == ""


@pytest.mark.parametrize("name", ["Ivan", "J.R.R. Tolkien", "Dr. Olena Koval", "Invoice 10.50 EUR", "e.g. refund"])
def test_ordinary_names_and_subjects_are_echoed(name):
    assert echo_name(name) == name and echo_subject(name) == name


def test_a_ticket_keeps_the_name_as_typed_minus_control_characters(desk):
    ticket_id = desk.post_form({**FORM, "name": "Ivan\nPetrenko"}).json_body["ticket"]

    assert Ticket.get(ticket_id).customer_name == "Ivan Petrenko"
