"""No log line carries a customer's address, phone number or words — checked over every line the
whole suite logged at INFO (this test runs last), after a pass through every channel of its own."""

from __future__ import annotations

import pytest

from tests import conftest, log_privacy
from tests.conftest import fixture_bytes
from tests.test_channels import telegram_update, twilio_sms, viber_message


@pytest.mark.run_last
def test_no_log_line_carries_a_customers_address_phone_or_words(desk, providers, team):
    desk.post_form(
        {
            "submission_id": "p1",
            "email": "olena@example.com",
            "name": "Olena",
            "message": "Hello, I cannot log in since this morning.",
        }
    )
    desk.post_chat(
        {"message_id": "p2", "visitor_id": "v-1", "text": "Can I change my plan?", "email": "ann@example.com"}
    )
    desk.post_telegram(telegram_update())
    desk.post_viber(viber_message())
    desk.post_twilio(twilio_sms())
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"))
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"), key="again")  # a redelivery logs too
    desk.pump()

    assert conftest.LOGS.lines, "nothing was logged: the suite must log at the stages' level (INFO)"
    assert log_privacy.leaks(conftest.LOGS.lines) == []
