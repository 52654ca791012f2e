"""`email.whole_text`: the mail's body as intake read it before the quoted history and the
signature were cut, what "Show the whole message" gives an agent."""

from __future__ import annotations

from chalicelib.channels.email import MAX_BODY_CHARS, whole_text
from tests.channels.test_email_parse import fixture, mail, parse


def test_the_whole_text_keeps_the_signature_and_history_the_stored_body_cut() -> None:
    raw = fixture("gmail_plain_en.eml")

    whole = whole_text(raw)

    assert parse(raw).body in whole  # the customer's words, as stored, are part of it
    assert whole.endswith("-- \nJane Doe | Finance | ACME Ltd | +44 20 7946 0321")


def test_a_reply_keeps_its_quoted_lines_and_attribution() -> None:
    raw = fixture("gmail_reply_uk.eml")

    whole = whole_text(raw)

    assert "пише:" not in parse(raw).body and "пише:" in whole
    assert any(line.startswith(">") and "Вітаємо, Олено" in line for line in whole.splitlines())


def test_html_only_mail_is_read_the_same_way_with_quotes_marked() -> None:
    html = (
        "<div>Still broken.</div><blockquote><div>We fixed it</div><blockquote>It is broken</blockquote></blockquote>"
    )
    raw = mail(html, content_type="text/html; charset=utf-8")

    assert parse(raw).body == "Still broken."
    assert whole_text(raw) == "Still broken.\n> We fixed it\n> > It is broken"


def test_a_cyrillic_body_in_a_legacy_charset_is_decoded_as_intake_decodes_it() -> None:
    raw = fixture("mailru_ru_cp1251.eml")

    assert parse(raw).body in whole_text(raw)


def test_the_same_caps_and_notes_as_intake() -> None:
    long = mail("x" * (MAX_BODY_CHARS + 10) + "\n")
    assert whole_text(long).endswith("[message truncated; the full text is in the original email]")

    cut = whole_text(mail("Hello\n"), size=12_000_000)  # only the mail's beginning was read
    assert cut.startswith("Hello") and "only the first" in cut and "12.0 MB" in cut
