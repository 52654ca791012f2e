"""The website contact form: a customer writes, a ticket opens, an acknowledgement names the
time a person will answer — in their language and zone, honest about hours and holidays."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.models import Customer, Fact, Message, Ticket
from tests.harness import KYIV


def submission(**overrides: object) -> dict:
    payload = {
        "submission_id": "sub-001",
        "email": "olena@example.com",
        "name": "Olena Petrenko",
        "subject": "Cannot log in",
        "message": "Hello, I cannot log in since this morning.",
        "locale": "en-GB",
    }
    payload.update(overrides)
    return payload


def test_friday_evening_form_promises_monday_1300_kyiv(desk):
    desk.at(datetime(2026, 11, 20, 19, 40, tzinfo=KYIV))  # Friday, desk closed at 18:00

    response = desk.post_form(submission())
    desk.pump()

    assert response.status_code == 200
    ticket = Ticket.get(response.json_body["ticket"])
    assert ticket.first_response_due == datetime(2026, 11, 23, 13, 0, tzinfo=KYIV)
    [mail] = desk.sent_mail()
    assert mail["to"] == "Olena Petrenko <olena@example.com>"
    assert "Monday 23 November, 13:00" in mail["text"]
    assert "Kyiv" in mail["text"]
    assert ticket.ticket_id in mail["subject"] and "Cannot log in" in mail["subject"]
    assert "Monday 23 November, 13:00" in mail["html"]


def test_desk_days_off_move_the_promise_further(desk):
    # desk.toml closes 31 December and 1 January; 2 and 3 January 2027 are a weekend
    desk.at(datetime(2026, 12, 30, 16, 0, tzinfo=KYIV))

    response = desk.post_form(submission())
    desk.pump()

    ticket = Ticket.get(response.json_body["ticket"])
    # 2 business hours on Wednesday 30th, 2 more on Monday 4 January
    assert ticket.first_response_due == datetime(2027, 1, 4, 11, 0, tzinfo=KYIV)
    assert "Monday 4 January, 11:00" in desk.sent_mail()[0]["text"]


def test_public_holiday_from_the_holidays_package_is_skipped(desk, desk_config):
    desk_config("desk-warsaw.toml")
    warsaw = ZoneInfo("Europe/Warsaw")
    desk.at(datetime(2026, 11, 10, 15, 0, tzinfo=warsaw))  # Tuesday; Wednesday 11th is Independence Day

    response = desk.post_form(submission(timezone="Europe/Warsaw"))
    desk.pump()

    assert Ticket.get(response.json_body["ticket"]).first_response_due == datetime(2026, 11, 12, 11, 0, tzinfo=warsaw)
    assert "Thursday 12 November, 11:00" in desk.sent_mail()[0]["text"]


def test_dst_weekend_promise_is_in_local_wall_time(desk):
    desk.at(datetime(2026, 3, 27, 17, 0, tzinfo=KYIV))  # Friday before Kyiv springs forward

    response = desk.post_form(submission())
    desk.pump()

    due = Ticket.get(response.json_body["ticket"]).first_response_due
    assert due.astimezone(KYIV).replace(tzinfo=None) == datetime(2026, 3, 30, 12, 0)
    assert due.utcoffset().total_seconds() == 0 and due.hour == 9  # UTC+3 after the change
    assert "Monday 30 March, 12:00" in desk.sent_mail()[0]["text"]


def test_customer_language_and_time_zone_shape_the_acknowledgement(desk):
    desk.at(datetime(2026, 11, 20, 19, 40, tzinfo=KYIV))

    desk.post_form(submission(locale="uk-UA", timezone="America/New_York", name="Олена"))
    desk.pump()

    [mail] = desk.sent_mail()
    assert "понеділок 23 листопада, 06:00" in mail["text"]  # 13:00 Kyiv is 06:00 in New York
    assert "New York" in mail["text"]
    assert mail["language"] == "uk"
    assert "Ми отримали ваше звернення" in mail["subject"]


def test_russian_locale_and_unsupported_locale_fall_back_sensibly(desk):
    desk.post_form(submission(submission_id="a", email="a@example.com", locale="ru"))
    desk.post_form(submission(submission_id="b", email="b@example.com", locale="de-DE"))
    desk.pump()

    by_address = {m["to"].split("<")[-1].rstrip(">"): m for m in desk.sent_mail()}
    assert "Мы получили ваше обращение" in by_address["a@example.com"]["subject"]
    assert by_address["b@example.com"]["language"] == "en"  # the desk's default language


def test_twenty_four_seven_desk_counts_every_hour(desk, desk_config):
    desk_config("desk-24x7.toml")
    desk.at(datetime(2026, 10, 25, 1, 0, tzinfo=KYIV))  # Sunday night, clocks fall back at 04:00

    response = desk.post_form(submission())

    due = Ticket.get(response.json_body["ticket"]).first_response_due
    assert due - datetime(2026, 10, 25, 1, 0, tzinfo=KYIV) == timedelta(hours=4)  # real hours
    assert due.astimezone(KYIV).strftime("%H:%M") == "04:00"  # wall clock shows only 3 more hours


def test_ticket_customer_message_and_fact_are_stored_together(desk):
    response = desk.post_form(submission(subject="Refund for invoice 42"))

    ticket = Ticket.get(response.json_body["ticket"])
    assert ticket.queue == "billing"  # routed by topic at intake
    assert ticket.status == "new" and ticket.channel == "form"
    assert Customer.get(ticket.customer_id).email == "olena@example.com"
    [message] = list(Message.query(ticket.ticket_id))
    assert message.direction == "in" and message.body.startswith("Hello")
    [fact] = list(Fact.query("2026-11-23"))
    assert fact.kind == "created" and fact.ticket_id == ticket.ticket_id


def test_same_submission_three_times_is_one_ticket_and_one_ack(desk):
    answers = [desk.post_form(submission()) for _ in range(3)]
    desk.pump()

    assert {a.status_code for a in answers} == {200}
    assert len({a.json_body["ticket"] for a in answers}) == 1
    assert [a.json_body["duplicate"] for a in answers] == [False, True, True]
    assert len(list(Ticket.scan())) == 1
    assert len(desk.sent_mail()) == 1


def test_a_typed_address_never_finds_a_customer(desk):
    """Anyone can type anyone's address into the form: it must not lead to that person's record."""
    first = desk.post_form(submission(submission_id="one"))
    second = desk.post_form(submission(submission_id="two", subject="Another question"))

    one, two = Ticket.get(first.json_body["ticket"]), Ticket.get(second.json_body["ticket"])
    assert one.ticket_id != two.ticket_id
    assert one.customer_id != two.customer_id
    assert one.sender_trust == "claimed" and one.email == "olena@example.com"  # still where answers go


def test_acknowledgements_to_one_address_are_rate_limited(desk):
    for number in range(3):
        desk.post_form(submission(submission_id=f"s{number}", subject=f"Question {number}"))
    desk.pump()

    assert len(desk.sent_mail()) == 1  # within the 5-minute cooldown
    states = sorted(ticket.ack_state for ticket in Ticket.scan())
    assert states == ["sent", "suppressed", "suppressed"]


def test_acknowledgement_threads_and_marks_itself_automatic(desk):
    response = desk.post_form(submission())
    desk.pump()

    [mail] = desk.sent_mail()
    assert mail["auto_submitted"] == "auto-replied"
    assert response.json_body["ticket"] not in mail["message_id"]  # not derivable from the public reference
    assert Ticket.get(response.json_body["ticket"]).ack_state == "sent"
    outbound = [m for m in Message.query(response.json_body["ticket"]) if m.direction == "out"]
    assert [m.kind for m in outbound] == ["ack"]


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "Pacific/Chatham"])
def test_promise_is_shown_in_odd_offset_zones(desk, tz):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    desk.post_form(submission(timezone=tz))
    desk.pump()

    due_local = datetime(2026, 11, 23, 14, 0, tzinfo=KYIV).astimezone(ZoneInfo(tz))
    assert due_local.strftime("%H:%M") in desk.sent_mail()[0]["text"]


def test_a_listed_requester_typing_their_address_into_the_form_is_not_verified(desk):
    """The form's address is a claim: speaking for an organization takes a proven one (email)."""
    response = desk.post_form(submission(email="jane.doe@acme.example"))
    desk.pump()

    ticket = Ticket.get(response.json_body["ticket"])
    assert ticket.organization is None and ticket.requester_unverified == "ACME Ltd"
    assert "could not confirm that you may ask on behalf of ACME Ltd" in desk.sent_mail()[0]["text"]


def test_a_stranger_claiming_an_organization_is_flagged_and_told_politely(desk):
    response = desk.post_form(submission(email="boss@acme.example", subject="I own this site, reset the admin"))
    desk.pump()

    ticket = Ticket.get(response.json_body["ticket"])
    assert ticket.organization is None and ticket.requester_unverified == "ACME Ltd"
    assert ticket.queue == "general"  # the verification queue
    text = desk.sent_mail()[0]["text"]
    assert "could not confirm that you may ask on behalf of ACME Ltd" in text
    assert "\n\n\n" not in text
