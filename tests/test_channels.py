"""Every channel a customer uses: the acknowledgement comes back in the same conversation with
that channel's own promised time, follow-ups thread, retries store nothing twice, and a
provider that fails is retried through the outbox without losing anything."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.models import Customer, Message, Ticket
from tests.harness import KYIV


def telegram_update(
    update_id: int = 10001, text: str = "Привіт! Не проходить оплата карткою", chat_id: int = 777, **extra: object
) -> dict:
    message = {
        "message_id": update_id - 10000,
        "date": 1795420800,
        "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Olena", "last_name": "Koval", "language_code": "uk"},
        "chat": {"id": chat_id, "first_name": "Olena", "last_name": "Koval", "type": "private"},
    }
    message.update(extra)
    return {"update_id": update_id, "message": message}


def viber_message(token: int = 4912661846655238145, text: str = "Hi, where is my parcel?") -> dict:
    return {
        "event": "message",
        "timestamp": 1795420800000,
        "chat_hostname": "SN-376_",
        "message_token": token,
        "sender": {
            "id": "01234567890A=",
            "name": "John McClane",
            "avatar": "http://avatar.example/1.jpg",
            "language": "en",
            "country": "GB",
            "api_version": 1,
        },
        "message": {"text": text, "type": "text"},
        "silent": False,
    }


def twilio_sms(
    sid: str = "SM0123456789abcdef0123456789abcdef",
    sender: str = "+380501234567",
    body: str = "Hello, my order 1042 has not arrived",
    **extra: str,
) -> dict:
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": "+15005550006",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def test_telegram_message_gets_its_ack_in_the_same_chat_with_the_messenger_clock(desk, providers):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))

    response = desk.post_telegram(telegram_update())
    desk.pump()

    assert response.status_code == 200
    [ticket] = list(Ticket.scan())
    assert (ticket.channel, ticket.language, ticket.queue) == ("telegram", "uk", "billing")
    assert ticket.first_response_due == datetime(2026, 11, 23, 10, 10, tzinfo=KYIV)  # 10 business minutes
    [sent] = providers.messages("telegram")
    assert sent["payload"]["chat_id"] == 777
    assert ticket.ticket_id in sent["payload"]["text"]
    assert "понеділок 23 листопада, 10:10" in sent["payload"]["text"]
    assert desk.sent_mail() == []  # no email address known


def test_second_message_in_the_chat_joins_the_open_ticket(desk, providers):
    desk.post_telegram(telegram_update(10001))
    desk.advance(timedelta(minutes=1))
    desk.post_telegram(telegram_update(10002, text="I also attached a screenshot"))
    desk.pump()

    [ticket] = list(Ticket.scan())
    assert ticket.message_count == 2
    assert len(providers.messages("telegram")) == 1


def test_provider_retrying_the_same_delivery_five_times_stores_one_message(desk, providers):
    for _ in range(5):
        assert desk.post_telegram(telegram_update(10001)).status_code == 200
        assert desk.post_viber(viber_message()).status_code == 200
        assert desk.post_twilio(twilio_sms()).status_code == 200
    desk.pump()

    tickets = list(Ticket.scan())
    assert sorted(t.channel for t in tickets) == ["sms", "telegram", "viber"]
    assert all(len([m for m in Message.query(t.ticket_id) if m.direction == "in"]) == 1 for t in tickets)
    assert len(providers.messages()) == 3


def test_viber_message_is_acknowledged_through_send_message(desk, providers):
    desk.post_viber(viber_message())
    desk.pump()

    [ticket] = list(Ticket.scan())
    assert ticket.channel == "viber" and ticket.address == "01234567890A="
    [sent] = providers.messages("viber")
    assert sent["payload"]["receiver"] == "01234567890A="
    assert "Monday 23 November, 10:10" in sent["payload"]["text"]


@pytest.mark.parametrize("event", ["seen", "delivered", "subscribed", "conversation_started", "webhook"])
def test_viber_events_we_ignore_are_200_and_store_nothing(desk, providers, event):
    payload = {
        "event": event,
        "timestamp": 1795420800000,
        "message_token": 4912661846655238145,
        "user_id": "01234567890A=",
        "user": {"id": "01234567890A=", "name": "John"},
        "chat_hostname": "SN-1",
    }

    response = desk.post_viber(payload)

    assert response.status_code == 200
    assert list(Ticket.scan()) == []


def test_sms_is_answered_with_twiml_and_acknowledged_by_sms(desk, providers):
    response = desk.post_twilio(twilio_sms())
    desk.pump()

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml"
    assert b"<Response>" in response.body
    [ticket] = list(Ticket.scan())
    assert ticket.channel == "sms"
    assert ticket.first_response_due == datetime(2026, 11, 23, 10, 30, tzinfo=KYIV)  # SMS: 30 minutes
    [sent] = providers.messages("twilio")
    assert sent["payload"]["To"] == "+380501234567" and sent["payload"]["From"] == "+15005550006"


def test_the_same_phone_on_sms_and_whatsapp_is_one_customer(desk, providers):
    desk.post_twilio(twilio_sms())
    desk.post_twilio(
        twilio_sms(sid="SMffffffffffffffffffffffffffffffff", sender="whatsapp:+380501234567", ProfileName="Olena")
    )
    desk.pump()

    tickets = sorted(Ticket.scan(), key=lambda t: t.channel)
    assert [t.channel for t in tickets] == ["sms", "whatsapp"]
    assert tickets[0].customer_id == tickets[1].customer_id
    assert len(list(Customer.scan())) == 1
    whatsapp = [m for m in providers.messages("twilio") if m["payload"]["To"].startswith("whatsapp:")]
    assert whatsapp and whatsapp[0]["payload"]["From"] == "whatsapp:+14155238886"


def test_chat_with_an_email_is_acknowledged_in_the_chat_and_by_email(desk, providers):
    desk.post_chat(
        {
            "message_id": "c-1",
            "visitor_id": "v-42",
            "text": "Can I change my plan?",
            "name": "Ann",
            "email": "ann@example.com",
            "locale": "en",
        }
    )
    desk.pump()

    [ticket] = list(Ticket.scan())
    assert ticket.first_response_due == datetime(2026, 11, 23, 10, 1, tzinfo=KYIV)  # chat: 1 minute
    [chat] = providers.messages("chat")
    assert chat["payload"]["visitor_id"] == "v-42" and ticket.ticket_id in chat["payload"]["text"]
    [mail] = desk.sent_mail()
    assert mail["to"].endswith("<ann@example.com>") and ticket.ticket_id in mail["subject"]


def test_media_message_is_recorded_with_its_file_id_and_acknowledged(desk, providers):
    update = telegram_update(
        text=None,
        caption="My screenshot",
        photo=[
            {"file_id": "AgACAgIAAxk-small", "file_unique_id": "s", "width": 90, "height": 51, "file_size": 1200},
            {"file_id": "AgACAgIAAxk-large", "file_unique_id": "l", "width": 1280, "height": 720, "file_size": 81234},
        ],
    )
    del update["message"]["text"]

    desk.post_telegram(update)

    [ticket] = list(Ticket.scan())
    [message] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    # the largest size, left for the fetch job to bring (tests/test_messenger_files.py)
    assert message.attachments[0]["source"] == "AgACAgIAAxk-large"
    assert (message.attachments[0]["state"], message.attachments[0]["provider"]) == ("pending", "telegram")
    desk.pump()
    assert len(providers.messages("telegram")) == 1


def solve(ticket_id: str, at: datetime) -> None:
    Ticket.get(ticket_id).update(actions=[Ticket.status.set("solved"), Ticket.solved_at.set(at)])


def test_reply_soon_after_solve_reopens_the_ticket(desk, providers):
    desk.post_telegram(telegram_update(10001))
    [ticket] = list(Ticket.scan())
    solve(ticket.ticket_id, datetime(2026, 11, 23, 12, 0, tzinfo=KYIV))
    desk.at(datetime(2026, 11, 25, 9, 0, tzinfo=KYIV))

    desk.post_telegram(telegram_update(10002, text="It broke again"))

    [reopened] = list(Ticket.scan())
    assert reopened.status == "open" and reopened.solved_at is None and reopened.message_count == 2


def test_reply_long_after_solve_opens_a_new_ticket_linking_the_old(desk, providers):
    desk.post_telegram(telegram_update(10001))
    desk.pump()
    [old] = list(Ticket.scan())
    solve(old.ticket_id, datetime(2026, 11, 23, 12, 0, tzinfo=KYIV))
    desk.at(datetime(2026, 12, 7, 10, 0, tzinfo=KYIV))  # two weeks later: past the 7-day window

    desk.post_telegram(telegram_update(10002, text="New question"))
    desk.advance(timedelta(minutes=1))
    desk.post_telegram(telegram_update(10003, text="And one more detail"))
    desk.pump()

    new = next(t for t in Ticket.scan() if t.ticket_id != old.ticket_id)
    assert new.previous_ticket == old.ticket_id and new.message_count == 2
    assert Ticket.get(old.ticket_id).status == "solved"
    assert len(providers.messages("telegram")) == 2  # the new ticket gets its own promise


def test_provider_500_twice_then_ok_sends_one_ack(desk, providers):
    providers.fail("sendMessage", status=500, times=2)

    desk.post_telegram(telegram_update())
    failures = desk.pump()

    assert failures == 2
    assert len(providers.messages("telegram")) == 1
    assert next(iter(Ticket.scan())).ack_state == "sent"


def test_429_retry_after_is_honoured_as_the_backoff(desk, providers):
    from chalicelib import aws, stage

    providers.fail("sendMessage", status=429, times=1, retry_after=7)
    desk.post_telegram(telegram_update())
    sqs = aws.client("sqs")
    url = aws.queue_url(stage.outbox_queue())

    desk.pump(rounds=1)  # the one failing attempt
    desk.advance(timedelta(seconds=5))
    early = [
        m
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if '"kind": "new_ticket"' in m["Body"]
    ]
    desk.advance(timedelta(seconds=3))
    desk.pump()

    assert early == []  # still hidden 5 s after a 7 s Retry-After
    assert len(providers.messages("telegram")) == 1


def test_provider_down_for_good_leaves_the_job_in_the_dlq(desk, providers):
    providers.fail("send_message", status=503, times=100)

    desk.post_viber(viber_message())
    desk.pump(rounds=40)

    [ticket] = list(Ticket.scan())
    names = {  # what the job reads with the ticket: where it answers, its queue
        "channel": "viber",
        "address": ticket.address,
        "email": None,
        "queue": ticket.queue,
        "acknowledge": True,
        "offer": True,
        "on_duty": [],  # nobody on the queue's roster this week, as intake read it
    }
    assert desk.dead_letters() == [
        {"kind": "new_ticket", "job_id": f"new-{ticket.ticket_id}", "ticket_id": ticket.ticket_id, "names": names}
    ]
    assert ticket.ack_state == "pending"


def test_blocked_bot_is_not_retried_but_the_email_copy_still_goes(desk, providers):
    providers.fail("/chat/replies", status=410, times=100)

    desk.post_chat({"message_id": "c-1", "visitor_id": "v-gone", "text": "Hello?", "email": "gone@example.com"})
    failures = desk.pump()

    assert failures == 0
    assert len(desk.sent_mail()) == 1
    assert next(iter(Ticket.scan())).ack_state == "sent"


@pytest.mark.parametrize(
    "post",
    [
        lambda desk: desk.post_telegram(telegram_update(), secret=""),
        lambda desk: desk.post_telegram(telegram_update(), secret="wrong"),
        lambda desk: desk.post_viber(viber_message(), signature="0" * 64),
        lambda desk: desk.post_twilio(twilio_sms(), signature="bm90IGl0"),
        lambda desk: desk.client.http.post(
            "/webhooks/chat",
            headers={"Content-Type": "application/json"},
            body=b'{"message_id": "1", "visitor_id": "v", "text": "hi"}',
        ),
    ],
)
def test_wrong_or_missing_signature_is_401_and_stores_nothing(desk, providers, post):
    response = post(desk)

    assert response.status_code == 401
    assert response.json_body["Code"] == "Unauthorized"
    assert list(Ticket.scan()) == [] and list(Customer.scan()) == []


@pytest.mark.parametrize(
    "post, detail",
    [
        (lambda desk: desk.post_telegram({"update_id": "x"}), "update_id"),
        (lambda desk: desk.post_viber({"event": "message", "sender": {"id": "a"}}), "message_token"),
        (lambda desk: desk.post_twilio({"From": "+380501234567", "Body": "no sid"}), "MessageSid"),
        (lambda desk: desk.post_chat({"visitor_id": "v", "text": "no id"}), "message_id"),
    ],
)
def test_malformed_payloads_are_400_with_a_specific_message(desk, providers, post, detail):
    response = post(desk)

    assert response.status_code == 400
    assert detail in response.json_body["Message"]
    assert list(Ticket.scan()) == []


def test_ignored_telegram_update_is_200_and_stores_nothing(desk, providers):
    edited = telegram_update()
    edited["edited_message"] = edited.pop("message")

    assert desk.post_telegram(edited).status_code == 200
    assert list(Ticket.scan()) == []
