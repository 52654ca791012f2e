"""Reply stripping rules the corpus shows less directly: which subjects make a forward, the
seams between blocks, what is never cut, the data read once and only by the email path."""

from __future__ import annotations

import pytest

from chalicelib.channels.email import parse_email
from chalicelib.channels.reply_text import FORWARDED_MARK, is_forward_subject, strip_quoted
from tests.channels.test_email_parse import RECEIVED, mail
from tests.conftest import ROOT
from tests.harness import in_a_fresh_interpreter

OUTLOOK_BLOCK = (
    "________________________________\nFrom: Dan <dan@vendor.example>\nSent: Thursday, June 6, 2024 3:44 PM\n"
    "To: Jane <jane@acme.example>\nSubject: Renewal\n\nSign by June 30."
)


@pytest.mark.parametrize(
    "subject", ["Fwd: x", "FW: x", "Fw: x", "WG: x", "TR: x", "Re: Fwd: x", "AW: WG: x", "Пересл: x", "RE[2]: FW: x"]
)
def test_a_forward_prefix_anywhere_in_the_leading_prefixes_makes_a_forward(subject: str) -> None:
    assert is_forward_subject(subject)
    assert strip_quoted(f"Please check.\n\n{OUTLOOK_BLOCK}", subject) == (
        f"Please check.\n\n{FORWARDED_MARK}\n" + OUTLOOK_BLOCK.split("\n", 1)[1]
    )


@pytest.mark.parametrize("subject", ["", "Re: x", "AW: x", "Forward planning: x", "x Fwd: y", "RE: TRAINING: x"])
def test_other_subjects_make_the_header_block_history(subject: str) -> None:
    assert not is_forward_subject(subject)
    assert strip_quoted(f"Please check.\n\n{OUTLOOK_BLOCK}", subject) == "Please check."


def test_blank_lines_at_a_seam_become_one_and_none_are_added() -> None:
    text = "Hi,\n\n\n> q1\n\n\n\nanswer 1\n> q2\nanswer 2\n\n\n"
    assert strip_quoted(text) == "Hi,\n\nanswer 1\nanswer 2"


def test_kept_lines_are_the_mails_own_bytes_and_crlf_becomes_lf() -> None:
    text = "  indented   answer \t\r\n> quoted\r\nlast line  \r\n"
    assert strip_quoted(text) == "  indented   answer \t\nlast line  "


def test_a_signature_ends_at_the_next_quote_and_the_customer_goes_on_after_it() -> None:
    text = "answer 1\n-- \nAnna, ACME\n> question 2\nanswer 2\nSent from my iPhone"
    assert strip_quoted(text) == "answer 1\nanswer 2"


def test_a_client_signature_in_the_middle_of_the_text_is_the_customers() -> None:
    text = "My phone says:\nSent from my iPhone\nunder every mail, can you remove it?"
    assert strip_quoted(text) == text


def test_the_closing_line_of_a_forward_goes_and_nothing_inside_it_is_stripped() -> None:
    text = (
        "FYI\n-------- Пересылаемое сообщение --------\nОт: Банк\n> quoted in the forward\n-- \nБанк\n"
        "-------- Конец пересылаемого сообщения --------\n"
    )
    assert strip_quoted(text) == (f"FYI\n{FORWARDED_MARK}\nОт: Банк\n> quoted in the forward\n-- \nБанк")


def test_an_attribution_wrapped_after_its_address_goes_whole() -> None:
    # Turkish and Hungarian Gmail put the verb last and wrap after "<address>, <date>,"
    text = "Fine, thanks.\n\nSupport <s@promptly.example>, 5 Jun 2024 Wed,\n14:02 wrote:\n\n> Which address?"
    assert strip_quoted(text) == "Fine, thanks."


def test_one_line_and_bold_outlook_headers_start_the_history() -> None:
    assert strip_quoted("Done.\n*From:* Anna <a@x.com> *Sent:* Monday *To:* Bob *Subject:* x\nold") == "Done."
    assert strip_quoted("Done.\n\n*From:* Anna\n*Sent:* Monday\n\nold") == "Done."


@pytest.mark.parametrize(
    "text",
    [
        "Route:\nFrom: Kyiv\nTo: Lviv\nPlease quote a price.",  # no date, no subject: not a mail's header
        "My colleague wrote to you on 03.06.2024 about this:\nthe export fails at 10%.",
        "On Monday at 10:15 I wrote:\nthe export fails at 10%.",
        "---- my notes ----\nstep 1",
        "Hi,\nFrom: Bob, date: unknown, the invoice came.\nIt has no number.",
    ],
)
def test_lines_that_only_look_like_history_are_kept(text: str) -> None:
    assert strip_quoted(text) == text


def test_parse_email_reads_a_forward_through_its_subject() -> None:
    body = "Please check.\r\n\r\n" + OUTLOOK_BLOCK.replace("\n", "\r\n")
    raw = mail(body=body, headers={"Subject": "FW: Renewal"})
    stored = parse_email(raw, received_at=RECEIVED, fallback_id="x").body
    assert stored.startswith(f"Please check.\n\n{FORWARDED_MARK}\nFrom: Dan") and stored.endswith("Sign by June 30.")


READ_ON_FIRST_USE = """
import json
from chalicelib.channels import email, reply_text
before = reply_text._patterns.cache_info().currsize
email.strip_quoted("Hi\\n> old")
print(json.dumps({"before": before, "after": reply_text._patterns.cache_info().currsize}))
"""


def test_the_pattern_files_are_read_on_the_first_reply_not_on_import() -> None:
    assert in_a_fresh_interpreter(READ_ON_FIRST_USE, cwd=ROOT, root=ROOT) == {"before": 0, "after": 1}
