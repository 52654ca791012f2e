"""Outbound email as the customer's mail program reads it (chalicelib/mail.py): threading headers,
the marks that keep robots from answering automatic mail, names and subjects in any script that
arrive as written, a Message-ID nobody outside can guess, and a refusal (not a retry) for a
message that cannot be built. Nothing is sent: `compose` is the bytes SES would get.
"""

from __future__ import annotations

import random
import re
from email import message_from_bytes, policy

import pytest

from chalicelib import mail
from chalicelib.providers import ProviderError
from chalicelib.render import Rendered

ENVELOPE = mail.Envelope(
    sender="support@promptly.example",
    sender_name="Служба підтримки Promptly",
    to="olga@example.com",
    to_name="Ольга Петренко",
    language="uk",
    in_reply_to="CAF=abc@mail.example.com",
)
RENDERED = Rendered(
    subject="Ваше звернення PR-7K3QX9M2 прийнято: ми відповімо протягом 12 робочих годин",
    text="Дякуємо, ми отримали ваше звернення.",
    html="<p>Дякуємо, ми отримали ваше звернення.</p>",
)
MSG_ID = "<0123456789abcdef0123456789abcdef@promptly.example>"


def received(envelope: mail.Envelope = ENVELOPE, rendered: Rendered = RENDERED):
    """The message as the recipient's mail program parses it."""
    return message_from_bytes(mail.compose(envelope, rendered, MSG_ID), policy=policy.default)


def test_names_and_subject_in_cyrillic_arrive_as_written():
    got = received()
    assert got["Subject"] == RENDERED.subject  # spaces between words kept (no folds on the wire)
    assert got["From"].addresses[0].display_name == "Служба підтримки Promptly"
    assert got["From"].addresses[0].addr_spec == "support@promptly.example"
    assert got["To"].addresses[0].display_name == "Ольга Петренко"
    assert got["Content-Language"] == "uk"


def test_no_header_line_is_folded():
    raw = mail.compose(ENVELOPE, RENDERED, MSG_ID)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"\r\n[ \t]", head)


def test_a_reply_threads_into_the_customers_conversation():
    got = received()
    assert got["Message-ID"] == MSG_ID
    assert got["In-Reply-To"] == got["References"] == "<CAF=abc@mail.example.com>"


def test_a_first_message_threads_to_nothing():
    got = received(mail.Envelope(**{**vars(ENVELOPE), "in_reply_to": None}))
    assert got["In-Reply-To"] is None and got["References"] is None


@pytest.mark.parametrize(("automatic", "marked"), [(True, True), (False, False)])
def test_only_automatic_mail_tells_robots_not_to_answer(automatic, marked):
    got = received(mail.Envelope(**{**vars(ENVELOPE), "automatic": automatic}))
    assert (got["Auto-Submitted"], got["X-Auto-Response-Suppress"]) == (
        ("auto-replied", "All") if marked else (None, None)
    )


def test_text_and_html_go_as_alternatives_and_text_alone_as_plain_text():
    both = received()
    assert both.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in both.iter_parts()] == ["text/plain", "text/html"]
    assert both.get_body(("plain",)).get_content().strip() == RENDERED.text
    alone = received(rendered=Rendered(subject="Hi", text="Thanks!", html=None))
    assert alone.get_content_type() == "text/plain"
    assert alone.get_content().strip() == "Thanks!"


@pytest.mark.parametrize(
    "envelope",
    [
        mail.Envelope(**{**vars(ENVELOPE), "to_name": "Olga\r\nBcc: everyone@example.com"}),
        mail.Envelope(**{**vars(ENVELOPE), "sender_name": "Desk\nX-Evil: 1"}),
    ],
)
def test_a_name_with_a_line_break_is_refused_for_good_not_retried(envelope):
    with pytest.raises(ProviderError) as refused:
        mail.compose(envelope, RENDERED, MSG_ID)
    assert refused.value.retryable is False


def test_a_message_id_is_the_same_for_a_retry_and_unguessable_from_the_job():
    first = mail.message_id("support@promptly.example", "ack-PR-7K3QX9M2")
    assert first == mail.message_id("support@promptly.example", "ack-PR-7K3QX9M2")  # a retry repeats it
    assert first != mail.message_id("support@promptly.example", "ack-PR-7K3QX9M3")
    assert re.fullmatch(r"<[0-9a-f]{32}@promptly\.example>", first)
    assert "7K3QX9M2" not in first


def test_a_message_id_changes_with_the_stage_secret(monkeypatch):
    before = mail.message_id("support@promptly.example", "ack-PR-1")
    monkeypatch.setenv("PROMPTLY_SECRET_LINK_SECRET", "another stage")
    assert mail.message_id("support@promptly.example", "ack-PR-1") != before


@pytest.mark.parametrize(
    ("region", "ids"),
    [
        (
            "eu-central-1",
            ["own@promptly.example", "0102-abc@eu-central-1.amazonses.com", "0102-abc@email.amazonses.com"],
        ),
        ("us-east-1", ["own@promptly.example", "0102-abc@us-east-1.amazonses.com", "0102-abc@email.amazonses.com"]),
    ],
)
def test_a_reply_may_quote_our_id_or_either_of_the_ids_ses_gave_it(region, ids):
    assert mail.delivered_ids("<own@promptly.example>", "0102-abc", region) == ids


def test_composing_makes_no_class_per_header_and_the_same_bytes_as_the_standard_registry(monkeypatch):
    # Each mail of every new ticket is composed on the job's CPU: the stdlib's registry built a
    # new class for each of a mail's ~35 headers, a fifth of the composing; the bytes are the same.
    first, second = (mail.build(ENVELOPE, RENDERED, MSG_ID) for _ in range(2))
    assert type(first["From"]) is type(second["From"])
    assert type(first["Subject"]) is type(second["Subject"])
    files = (mail.Attached("звіт.pdf", "application/pdf", bytes(range(256)) * 8),)
    random.seed(16)
    ours = mail.compose(ENVELOPE, RENDERED, MSG_ID, files)
    monkeypatch.setattr(mail, "BUILD_POLICY", policy.default)
    monkeypatch.setattr(mail, "WIRE_POLICY", policy.SMTP.clone(max_line_length=998))
    random.seed(16)  # the same multipart boundary
    assert ours == mail.compose(ENVELOPE, RENDERED, MSG_ID, files)
