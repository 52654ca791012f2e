"""The contact form cannot be used as a mail cannon: acknowledgements by email are capped per
recipient domain and overall per hour (desk.toml [limits]). One over a cap is not sent; the
ticket stays, says why, and a person answers it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.config import CONFIG_PATH, settings
from chalicelib.models import Message, Ticket
from tests.test_channels import telegram_update
from tests.test_outbox import ses_fails


@pytest.fixture
def caps(tmp_path, monkeypatch):
    """The shipped desk file with small caps: 2 per domain, 3 overall, per hour."""
    text = CONFIG_PATH.read_text(encoding="utf-8")
    for old, new in (
        ("acks_per_domain_per_hour = 50", "acks_per_domain_per_hour = 2"),
        ("acks_per_hour = 500", "acks_per_hour = 3"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "desk.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("PROMPTLY_CONFIG", str(path))
    settings.cache_clear()
    yield
    settings.cache_clear()


def ask(desk, email: str) -> str:
    return desk.post_form(
        {"submission_id": f"s-{email}", "email": email, "name": "Pat", "message": "Please call me back."}
    ).json_body["ticket"]


def recipients(desk) -> list[str]:
    return sorted(mail["to"].rsplit("<", 1)[-1].rstrip(">") for mail in desk.sent_mail())


def withheld(ticket_id: str) -> list[str]:
    return [m.body for m in Message.query(ticket_id) if m.direction == "event" and m.kind == "withheld"]


def test_one_ack_over_the_domain_cap_is_not_sent_and_the_ticket_says_why(desk, caps, capsys):
    first, second, third = (ask(desk, f"{who}@victim.example") for who in ("ann", "bob", "cy"))
    other = ask(desk, "dan@other.example")

    failures = desk.pump()

    assert failures == 0 and desk.dead_letters() == []
    assert recipients(desk) == ["ann@victim.example", "bob@victim.example", "dan@other.example"]
    assert [Ticket.get(t).ack_state for t in (first, second, third, other)] == ["sent", "sent", "suppressed", "sent"]
    [why] = withheld(third)
    assert why == "Acknowledgement not sent by email: more than 2 acknowledgements to this email domain in an hour."
    assert Ticket.get(third).status == "new"  # kept for a person to answer
    assert '"AcksRefusedByLimit":[1.0]' in capsys.readouterr().out.replace(" ", "")  # the metric (EMF)


def test_the_overall_cap_holds_across_domains(desk, caps):
    tickets = [ask(desk, f"pat@d{n}.example") for n in range(4)]

    desk.pump()

    assert len(desk.sent_mail()) == 3
    assert [Ticket.get(t).ack_state for t in tickets] == ["sent", "sent", "sent", "suppressed"]
    assert withheld(tickets[3]) == [
        "Acknowledgement not sent by email: more than 3 acknowledgements by email in an hour."
    ]


def test_the_next_hour_has_room_again(desk, caps):
    for who in ("ann", "bob", "cy"):
        ask(desk, f"{who}@victim.example")
    desk.pump()

    desk.advance(timedelta(hours=1))
    later = ask(desk, "dee@victim.example")
    desk.pump()

    assert Ticket.get(later).ack_state == "sent"
    assert len(desk.sent_mail()) == 3


def test_a_retried_acknowledgement_is_counted_once(desk, caps):
    ses_fails(1)  # the first send is throttled after the count; the retry must not count again
    first = ask(desk, "ann@victim.example")
    second = ask(desk, "bob@victim.example")

    failures = desk.pump()

    assert failures == 1
    assert [Ticket.get(t).ack_state for t in (first, second)] == ["sent", "sent"]


def test_messenger_acknowledgements_are_not_capped(desk, caps, providers):
    """They answer the person the provider authenticated, who wrote to us: nobody can aim them."""
    for n in range(3):
        ask(desk, f"pat@d{n}.example")
    desk.pump()

    desk.post_telegram(telegram_update())
    desk.pump()

    [telegram] = [t for t in Ticket.scan() if t.channel == "telegram"]
    assert telegram.ack_state == "sent" and len(providers.messages("telegram")) == 1


def test_an_ack_refused_by_a_cap_still_holds_its_address_for_the_cooldown(desk, caps):
    """The cooldown is taken with the count, in one write; a count refused by a cap takes it on
    its own, as before: the same address writing again within the cooldown is not counted against
    the caps again, nor told why twice: it is suppressed by the cooldown."""
    for who in ("ann", "bob", "cy"):
        ask(desk, f"{who}@victim.example")
    desk.pump()
    again = desk.post_form(
        {"submission_id": "s-cy-again", "email": "cy@victim.example", "name": "Pat", "message": "Hello?"}
    ).json_body["ticket"]
    desk.pump()

    assert recipients(desk) == ["ann@victim.example", "bob@victim.example"]
    assert Ticket.get(again).ack_state == "suppressed"
    assert withheld(again) == []  # the cooldown's doing, not a cap's
