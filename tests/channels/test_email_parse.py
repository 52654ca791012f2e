"""Raw inbound email -> Inbound: what a support agent sees of a customer's mail.

Fixtures under tests/fixtures/email are raw MIME as real clients produce it (SES stores
exactly these bytes in S3). Small synthetic messages cover one rule each.
"""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime
from email.policy import default as default_policy
from pathlib import Path
from typing import get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.channels.base import Attachment, Inbound
from chalicelib.channels.email import (
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_THREAD_REFS,
    MalformedEmail,
    automated_reason,
    guess_language,
    html_to_text,
    parse_email,
    strip_quoted,
)
from chalicelib.config import Attachments

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
RECEIVED = datetime(2024, 6, 4, 7, 41, 9, tzinfo=UTC)
SES_ID = "0bd8s1bm3a5qv4r2p0o9n8m7l6k5j4i3h2g1f0e1"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(raw: bytes, **kwargs: object) -> Inbound:
    options: dict = {"received_at": RECEIVED, "fallback_id": SES_ID, "raw_ref": None}
    options.update(kwargs)
    return parse_email(raw, **options)


def mail(
    body: str = "Hello, my order #12 never arrived.\n",
    headers: dict[str, str | None] | None = None,
    *,
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    """A minimal raw message; `headers` override or (value None) remove the defaults."""
    fields: dict[str, str | None] = {
        "From": "Customer <customer@example.com>",
        "To": "support@promptly.example",
        "Subject": "Order",
        "Message-ID": "<m1@example.com>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
    }
    fields.update(headers or {})
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return (head + "\r\n" + body).encode("utf-8")


def message(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=default_policy)


# --------------------------------------------------------------------------- fixtures


def test_gmail_plain_english_keeps_the_customers_words_without_signature() -> None:
    inbound = parse(fixture("gmail_plain_en.eml"), raw_ref="s3://inbound/gmail_plain_en")

    assert inbound.channel == "email"
    assert inbound.provider_id == "CAHx7PqN2vR0+5kQm3hT1wZ8yJd=Xo9bL4eF6sG_uA1cV@mail.gmail.com"
    assert inbound.address == inbound.email == "jane.doe@gmail.com"
    assert inbound.name == "Jane Doe"
    assert inbound.subject == "Can't export my invoices to CSV"
    assert inbound.body == (
        "Hi,\n\n"
        'Since yesterday the "Export to CSV" button on the Invoices page does nothing.\n'
        "I tried Chrome and Firefox, same result. Our account is ACME Ltd.\n\n"
        "Thanks,\nJane"
    )
    assert inbound.language is None  # English text, no header: the desk default decides
    assert inbound.automated is None
    assert inbound.attachments == ()
    assert inbound.thread_refs == ()
    assert inbound.timezone is None
    assert inbound.received_at == RECEIVED
    assert inbound.raw_ref == "s3://inbound/gmail_plain_en"


def test_ukrainian_gmail_reply_drops_the_quoted_history() -> None:
    inbound = parse(fixture("gmail_reply_uk.eml"))

    assert inbound.subject == "Re: Ваше звернення #1042: не проходить оплата карткою"
    assert inbound.name == "Олена Коваленко"
    assert inbound.address == "olena.kovalenko@gmail.com"
    assert inbound.language == "uk"
    assert inbound.body.startswith("Добрий день!\n\nОплата карткою досі не проходить")
    assert inbound.body.endswith("З повагою,\nОлена Коваленко")
    assert "Вітаємо, Олено" not in inbound.body
    assert "пише:" not in inbound.body
    assert "support@promptly.example" not in inbound.body
    # In-Reply-To (the direct parent) first, then the rest of References, no repeats
    assert inbound.thread_refs == (
        "0102018fdd7f33aa-91b1c0de-0a2c-4f43-8f0e-6b8e1c2d3a44-000000@eu-west-1.amazonses.com",
        "0102018fdd2a4b1e-7c7e1b9a-1d51-4bde-9c6a-2f3e5d1a0b11-000000@eu-west-1.amazonses.com",
    )


def test_russian_koi8r_quoted_printable_from_thunderbird() -> None:
    inbound = parse(fixture("thunderbird_ru_koi8r.eml"))

    assert inbound.subject == "Re: Не могу войти в кабинет"
    assert inbound.name == "Дмитрий Соколов"
    assert inbound.address == "dmitry.sokolov@yandex.ru"
    assert inbound.language == "ru"
    # "пишет" inside the customer's sentence is not an attribution line
    assert 'не могу войти в личный кабинет: пишет "неверный пароль",' in inbound.body
    assert inbound.body.endswith("Дмитрий")
    assert "очистить кэш" not in inbound.body


def test_russian_windows1251_from_mailru_guesses_language_from_text() -> None:
    inbound = parse(fixture("mailru_ru_cp1251.eml"))

    assert inbound.subject == "Re: Продление тарифа"
    assert inbound.name == "Сергей Иванов"
    assert inbound.language == "ru"  # no Content-Language: the text says Russian
    assert inbound.body == (
        "Добрый день.\n"
        "Подскажите, как сменить e-mail для уведомлений? В настройках это поле неактивно.\n\n"
        "Спасибо,\nСергей"
    )


def test_outlook_html_only_becomes_readable_text_without_the_original_message() -> None:
    inbound = parse(fixture("outlook_html_only.eml"))

    assert inbound.body == (
        "Hello,\n\n"
        'We\u2019re still seeing the SLA timer pause at "Waiting on customer" even after '
        "our agents reply. Examples:\n"
        "- Ticket #4411\n"
        "- Ticket #4417\n"
        "Could you check? R&D needs this fixed before Friday \u2013 it affects our reporting.\n\n"
        "Best regards,\nMark Olsen\nNorthwind Traders"
    )
    assert "font-family" not in inbound.body  # the <style> block is gone
    assert inbound.language == "en"  # Content-Language: en-US
    assert inbound.automated is None  # X-Auto-Response-Suppress is on ordinary Outlook mail
    assert inbound.provider_id.endswith("@AM6PR02MB4823.eurprd02.prod.outlook.com")


def test_pdf_attachment_and_inline_image_are_handed_over_with_their_bytes() -> None:
    inbound = parse(fixture("mixed_pdf_inline_image.eml"))

    assert inbound.attachments == (
        Attachment(name="error.png", content_type="image/png", size=69, cid="ii_lx0f3a1b0"),
        Attachment(name="Рахунок №17 (травень).pdf", content_type="application/pdf", size=331, cid="f_lx0f3a1c1"),
    )
    image, pdf = (a.data or b"" for a in inbound.attachments)
    assert image.startswith(b"\x89PNG\r\n") and len(image) == 69
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert inbound.body.startswith("Hello,\n\nThe invoice for May is attached.")
    assert inbound.body.endswith("Regards,\nIvan Melnyk")
    assert "JVBERi0" not in inbound.body  # no base64 leaks into the text


def test_out_of_office_is_flagged_as_auto_replied() -> None:
    inbound = parse(fixture("out_of_office.eml"))

    assert inbound.automated == "auto-submitted: auto-replied"
    assert inbound.subject == "Automatic reply: Your request #1057 has been received"


def test_bounce_is_flagged_as_a_delivery_report() -> None:
    inbound = parse(fixture("bounce_dsn.eml"))

    assert inbound.automated == "multipart/report"
    assert inbound.address == "mailer-daemon@eu-west-1.amazonses.com"


def test_mailing_list_mail_is_flagged() -> None:
    assert parse(fixture("mailing_list.eml")).automated == "list-id"


def test_missing_message_id_falls_back_to_the_ses_id() -> None:
    inbound = parse(fixture("no_message_id.eml"))

    assert inbound.provider_id == SES_ID
    assert inbound.subject == "Питання щодо рахунку"  # raw 8-bit UTF-8 header
    assert inbound.name == "Тарас Бондар"
    assert inbound.language == "uk"
    assert inbound.body.startswith("Вітаю! Отримав рахунок за червень двічі.")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_line_endings_do_not_matter(name: str) -> None:
    raw = fixture(name)
    lf = raw.replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")
    assert parse(lf) == parse(crlf)


# --------------------------------------------------------------------------- sender


def test_reply_to_wins_over_from_and_keeps_froms_display_name() -> None:
    inbound = parse(mail(headers={"From": "Ann Lee <ann@corp.example>", "Reply-To": "Ann@Corp.Example"}))
    assert (inbound.address, inbound.name) == ("ann@corp.example", "Ann Lee")

    inbound = parse(mail(headers={"From": "Web form <no-reply@forms.example>", "Reply-To": "Bob <bob@home.example>"}))
    assert (inbound.address, inbound.name) == ("bob@home.example", "Bob")
    assert inbound.automated is None  # the acknowledgement goes to Bob, a person


def test_unusable_reply_to_falls_back_to_from() -> None:
    inbound = parse(mail(headers={"From": "Ann <ann@corp.example>", "Reply-To": "undisclosed-recipients:;"}))
    assert inbound.address == "ann@corp.example"


@pytest.mark.parametrize(
    "from_header",
    [None, "", "Support Form", "<>", "<", '"', "ann at corp dot example", "ann@", "@corp.example", "ann@localhost"],
)
def test_no_usable_sender_raises_malformed_email(from_header: str | None) -> None:
    with pytest.raises(MalformedEmail, match="sender"):
        parse(mail(headers={"From": from_header}))
    assert issubclass(MalformedEmail, ValueError)


def test_encoded_display_name_is_decoded() -> None:
    name = "=?UTF-8?B?" + base64.b64encode("Олег Шевченко".encode()).decode() + "?="
    assert parse(mail(headers={"From": f"{name} <oleg@ukr.net>"})).name == "Олег Шевченко"


# --------------------------------------------------------------------------- ids and subject


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<abc@mail.example>", "abc@mail.example"),
        ("  <abc@mail.example>  ", "abc@mail.example"),
        ("abc@mail.example", "abc@mail.example"),
        ("\r\n <abc@mail.example>", "abc@mail.example"),
        ("<>", SES_ID),
        ("", SES_ID),
        ("<" + "x" * 2000 + "@a.example>", SES_ID),
    ],
)
def test_message_id_is_normalised(header: str, expected: str) -> None:
    assert parse(mail(headers={"Message-ID": header})).provider_id == expected


def test_thread_refs_are_deduplicated_ordered_and_capped() -> None:
    refs = " ".join(f"<r{i}@x.example>" for i in range(30))
    inbound = parse(mail(headers={"In-Reply-To": "<r5@x.example>", "References": refs}))
    assert inbound.thread_refs[:3] == ("r5@x.example", "r0@x.example", "r1@x.example")
    assert len(inbound.thread_refs) == MAX_THREAD_REFS
    assert len(set(inbound.thread_refs)) == MAX_THREAD_REFS

    # Some clients drop the angle brackets
    assert parse(mail(headers={"In-Reply-To": "a@x.example b@x.example"})).thread_refs == (
        "a@x.example",
        "b@x.example",
    )


def test_huge_header_is_cut_before_decoding() -> None:
    # Uncapped, the stdlib needs minutes and gigabytes for this Subject.
    inbound = parse(mail(headers={"Subject": "=?utf-8?q?ab?= " * 100_000}))
    assert inbound.subject.startswith("abab")
    assert len(inbound.subject) < 10_000


def test_subject_encoded_words_are_decoded_and_whitespace_collapsed() -> None:
    subject = "=?UTF-8?B?0J3QtSDQv9GA0LDRhtGO0ZQ=?=\r\n =?UTF-8?Q?_=D0=B2=D1=85=D1=96=D0=B4?=   now"
    assert parse(mail(headers={"Subject": subject})).subject == "Не працює вхід now"


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Language": "uk-UA"}, "uk"),
        ({"Content-Language": "RU, en"}, "ru"),
        ({"Accept-Language": "en-US;q=0.5, uk-UA;q=0.9, ru;q=0.8"}, "uk"),
        ({"Accept-Language": "de-DE, en;q=0.7"}, "de"),
        ({"Content-Language": "en-GB", "Accept-Language": "uk"}, "en"),
        ({"Content-Language": "*", "Accept-Language": "x;q=abc, pl"}, "pl"),
        ({}, None),
    ],
)
def test_language_from_headers(headers: dict[str, str], expected: str | None) -> None:
    assert parse(mail(headers=headers)).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Доброго дня, не можу увійти в кабінет", "uk"),
        ("Дякую за допомогу", "uk"),  # no і/ї/є/ґ, but a Ukrainian word
        ("Здравствуйте, не могу войти в кабинет", "ru"),
        ("Привет, не работает оплата", "ru"),  # no ы/э/ъ/ё, but Russian words
        ("Ґанок і їжак, є", "uk"),
        ("Съешь этих мягких булок", "ru"),
        ("Hello, I can't log in", None),
        ("", None),
        ("12345 !!!", None),
        ("Добро", None),  # too little to tell: let the desk default decide
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


# --------------------------------------------------------------------------- automated mail


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted: auto-replied"),
        ({"Auto-Submitted": 'Auto-Generated; owner-email="x@y.example"'}, "auto-submitted: auto-generated"),
        ({"Precedence": "bulk"}, "precedence: bulk"),
        ({"Precedence": "Junk"}, "precedence: junk"),
        ({"Precedence": "list"}, "precedence: list"),
        ({"Precedence": "auto_reply"}, "precedence: auto_reply"),
        ({"List-Id": "<news.shop.example>"}, "list-id"),
        ({"List-Unsubscribe": "<https://shop.example/u/1>"}, "list-unsubscribe"),
        ({"X-Autoreply": "yes"}, "x-autoreply"),
        ({"X-Autorespond": "Out of office"}, "x-autorespond"),
        ({"Return-Path": "<>"}, "return-path: <>"),
        ({"From": "MAILER-DAEMON@mx.example"}, "sender: mailer-daemon"),
        ({"From": "Mail Delivery System <Mailer_Daemon@mx.example>"}, "sender: mailer_daemon"),
        ({"From": "postmaster@mx.example"}, "sender: postmaster"),
        ({"From": "Shop <NoReply@shop.example>"}, "sender: noreply"),
        ({"From": "no-reply@shop.example"}, "sender: no-reply"),
        ({"From": "no_reply+order-17@shop.example"}, "sender: no_reply+order-17"),
        ({"From": "do-not-reply@bank.example"}, "sender: do-not-reply"),
        ({"From": "DoNotReply@bank.example"}, "sender: donotreply"),
        ({"From": "noreply-notifications@bank.example"}, "sender: noreply-notifications"),
    ],
)
def test_automated_reason(headers: dict[str, str], reason: str) -> None:
    raw = mail(headers=headers)
    assert automated_reason(message(raw)) == reason
    assert parse(raw).automated == reason


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Auto-Submitted": "no"},
        {"Auto-Submitted": " No "},
        {"X-Auto-Response-Suppress": "All"},
        {"Precedence": "first-class"},
        {"Return-Path": "<customer@example.com>"},
        {"From": "Noreen <noreen@example.com>"},
        {"From": "replydesk@example.com"},
        {"From": "no.replies.please.human@example.com"},
    ],
)
def test_ordinary_mail_is_not_automated(headers: dict[str, str]) -> None:
    assert automated_reason(message(mail(headers=headers))) is None


def test_report_content_type_is_a_bounce_even_from_a_normal_sender() -> None:
    raw = mail(
        body="--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--b--\r\n",
        content_type='multipart/report; report-type=delivery-status; boundary="b"',
    )
    assert parse(raw).automated == "multipart/report"


# --------------------------------------------------------------------------- quoted history


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks, it works now.\n\n> Please try again.\n> Support", "Thanks, it works now."),
        (
            (
                "Still broken.\n\n"
                "On Mon, 3 Jun 2024 at 10:15, Promptly Support <support@promptly.example> wrote:\n> Try again"
            ),
            "Still broken.",
        ),
        (
            (
                "Still broken.\n\n"
                "On Mon, Jun 3, 2024 at 10:15 AM Promptly Support <\nsupport@promptly.example> wrote:\n\n> Try again"
            ),
            "Still broken.",
        ),
        (
            "Still broken.\nOn Monday, June 3, 2024, Promptly Support\n<support@promptly.example>\nwrote:\n> Try again",
            "Still broken.",
        ),
        ("Не працює.\n\n3 черв. 2024 р. о 10:15 Підтримка пише:\n> Спробуйте ще", "Не працює."),
        ("Не працює.\nпн, 3 черв. 2024 р. о 10:15 Support\n<support@promptly.example> пише:\n> x", "Не працює."),
        ("Не працює.\n\n03.06.2024, 10:15, Support написав(ла):\nСпробуйте ще", "Не працює."),
        ("Не работает.\n\n03.06.2024 10:15, Поддержка пишет:\n> Попробуйте", "Не работает."),
        ("Не работает.\n\n3 июня 2024 г., в 10:15, Поддержка написал(а):\n>Попробуйте", "Не работает."),
        (
            "Не работает.\n\nпн, 3 июн. 2024 г. в 10:15, Promptly Support <support@promptly.example>:\n\n> x",
            "Не работает.",
        ),
        ("See below.\n\n-----Original Message-----\nFrom: Support\nSent: Friday\n\nOld text", "See below."),
        (
            (
                "See below.\n\n________________________________\nFrom: Promptly Support <support@promptly.example>\n"
                "Sent: Friday, May 31, 2024 4:02 PM\nTo: Mark\nSubject: RE: SLA\n\nOld text"
            ),
            "See below.",
        ),
        ("Дякую!\n\nВід: Підтримка <s@p.example>\nНадіслано: 31 травня 2024 р.\nТема: x\n\nСтаре", "Дякую!"),
        ("Cheers,\nJane\n-- \nJane Doe, ACME\n+44 20 7946 0321", "Cheers,\nJane"),
        # Bottom-posting: the customer wrote under the quote, which goes (issue 17: inline replies kept)
        ("> Did the update help?\n\nYes, all good now.", "Yes, all good now."),
    ],
)
def test_strip_quoted_removes_the_history(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "No history here.\nJust two lines.",
        "On Mon, 3 Jun 2024 Support <s@p.example> wrote:\n> Did it help?",
        "-- \nsignature only",
        # Words that merely look like quote markers
        "Here is what my colleague wrote:\nthe export fails at 10%.",
        "From: the billing page I get error 42.\nPlease help.",
        "Call me at 10:30 -> thanks",
        "",
    ],
)
def test_strip_quoted_keeps_text_that_has_nothing_to_strip(text: str) -> None:
    assert strip_quoted(text) == text


@pytest.mark.parametrize(
    "last_line", ["Please call me at 10:30.", "The payment on 03.06.2024 failed", "Оплата 03.06.2024 не пройшла"]
)
def test_strip_quoted_keeps_the_customers_line_just_before_an_undated_attribution(last_line: str) -> None:
    text = f"{last_line}\nSupport <support@promptly.example> wrote:\n> old"
    assert strip_quoted(text) == last_line
    text = f"{last_line}\nПідтримка <support@promptly.example> пише:\n> old"
    assert strip_quoted(text) == last_line


# --------------------------------------------------------------------------- HTML and charsets


def test_html_to_text_drops_script_and_style_and_keeps_structure() -> None:
    html = (
        "<html><head><title>Mail</title><style>p{color:red}</style></head><body>"
        "<script>alert('x')</script><p>First&nbsp;line &amp; more</p>"
        "<div>Second<br>Third</div><ul><li>one</li><li>two</li></ul>"
        "<p>&lt;tag&gt; &#1055;&#1088;&#1080;&#1074;&#1110;&#1090;</p><p><br></p><p><br></p><p><br></p>"
        "<p>Last</p></body></html>"
    )
    assert html_to_text(html) == "First line & more\nSecond\nThird\n- one\n- two\n<tag> Привіт\n\nLast"


def test_html_blockquote_history_is_stripped_from_html_only_mail() -> None:
    html = (
        '<div dir="ltr">Thanks, fixed!</div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, 3 Jun 2024 at 10:15, Support &lt;s@p.example&gt; wrote:<br></div>'
        "<blockquote>Did the update help?</blockquote></div>"
    )
    raw = mail(body=html, content_type="text/html; charset=utf-8")
    assert parse(raw).body == "Thanks, fixed!"


def test_html_parser_junk_falls_back_to_tag_stripping() -> None:
    assert html_to_text("<p>Hello <![bogus[ x ]]> world</p>").startswith("Hello")


def test_text_plain_is_preferred_over_html_but_blank_plain_falls_back_to_html() -> None:
    def alternative(plain: str) -> bytes:
        body = (
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n"
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>From <b>HTML</b></p>\r\n--b--\r\n"
        )
        return mail(body=body, content_type='multipart/alternative; boundary="b"')

    assert parse(alternative("From plain")).body == "From plain"
    assert parse(alternative("   ")).body == "From HTML"


@pytest.mark.parametrize(
    ("charset", "cte", "encode"),
    [
        ("windows-1251", "base64", lambda b: base64.encodebytes(b).decode()),
        ("koi8-r", "8bit", None),
        ("utf-8", "base64", lambda b: base64.encodebytes(b).decode()),
    ],
)
def test_body_charsets(charset: str, cte: str, encode) -> None:
    text = "Здравствуйте, счёт не пришёл."
    data = text.encode(charset)
    body_bytes = encode(data).encode() if encode else data
    head = (
        "From: c@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    )
    assert parse(head.encode() + body_bytes).body == text


@pytest.mark.parametrize("declared", ["", "; charset=us-ascii", "; charset=x-unknown-charset", "; charset=zlib"])
def test_mislabelled_cyrillic_is_still_readable(declared: str) -> None:
    for encoding in ("utf-8", "windows-1251"):
        head = f"From: c@example.com\r\nContent-Type: text/plain{declared}\r\n\r\n".encode()
        assert parse(head + "Добрий день".encode(encoding)).body == "Добрий день"


def test_apple_mail_text_split_around_an_inline_image_is_joined() -> None:
    body = (
        "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBefore the picture.\r\n"
        "--b\r\nContent-Type: image/jpeg; name=IMG_0001.jpeg\r\n"
        "Content-Disposition: inline; filename=IMG_0001.jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "/9j/4AAQ\r\n"
        "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAfter the picture.\r\n--b--\r\n"
    )
    inbound = parse(mail(body=body, content_type='multipart/mixed; boundary="b"'))
    assert inbound.body == "Before the picture.\n\nAfter the picture."
    assert inbound.attachments == (Attachment("IMG_0001.jpeg", "image/jpeg", 6),)


# --------------------------------------------------------------------------- limits


def test_long_body_is_truncated_with_a_marker() -> None:
    inbound = parse(mail(body="a" * (MAX_BODY_CHARS + 5000)))
    assert inbound.body.startswith("a" * MAX_BODY_CHARS)
    assert "a" * (MAX_BODY_CHARS + 1) not in inbound.body
    assert inbound.body.endswith("[message truncated; the full text is in the original email]")


def test_body_at_the_limit_is_untouched() -> None:
    assert parse(mail(body="b" * MAX_BODY_CHARS)).body == "b" * MAX_BODY_CHARS


def test_attachments_beyond_the_cap_are_counted_not_listed() -> None:
    parts = ["--b\r\nContent-Type: text/plain\r\n\r\nScans attached.\r\n"]
    for i in range(MAX_ATTACHMENTS + 5):
        parts.append(
            f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            f'filename="scan-{i:02}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n'
        )
    inbound = parse(mail(body="".join(parts) + "--b--\r\n", content_type='multipart/mixed; boundary="b"'))
    assert len(inbound.attachments) == MAX_ATTACHMENTS
    assert inbound.attachments[0] == Attachment("scan-00.pdf", "application/pdf", 6)
    assert inbound.attachments[-1].name == f"scan-{MAX_ATTACHMENTS - 1:02}.pdf"
    assert inbound.body == "Scans attached.\n\n[5 more attachments not listed]"


def test_forwarded_message_and_nameless_attachment_are_single_entries() -> None:
    forwarded = "From: a@b.example\r\nSubject: old\r\nContent-Type: text/plain\r\n\r\nold body\r\n"
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nForwarding the mail I got.\r\n"
        '--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Receipt.eml"\r\n\r\n'
        f"{forwarded}"
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment\r\n\r\nabc\r\n"
        "--b--\r\n"
    )
    inbound = parse(mail(body=body, content_type='multipart/mixed; boundary="b"'))
    assert inbound.body == "Forwarding the mail I got."
    names = [(a.name, a.content_type) for a in inbound.attachments]
    assert names == [("Receipt.eml", "message/rfc822"), ("attachment-2", "application/octet-stream")]
    assert inbound.attachments[0].size > 0
    assert inbound.attachments[1].data == b"abc"


def test_the_parser_names_every_file_the_desk_may_be_set_to_keep() -> None:
    """Past [attachments] max_count the desk refuses files by name (files.Budget); the parser
    only counts files past its own cap, which no desk file can set lower than max_count."""
    ceiling = get_type_hints(Attachments, include_extras=True)["max_count"].__metadata__[0].limit("le")
    assert MAX_ATTACHMENTS >= ceiling


def test_an_attachment_whose_base64_cannot_be_decoded_is_refused_with_the_reason() -> None:
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nThe scan.\r\n"
        '--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xL\r\n--b--\r\n"
    )
    [scan] = parse(mail(body=body, content_type='multipart/mixed; boundary="b"')).attachments
    assert (scan.name, scan.data, scan.refused) == ("scan.pdf", None, "its base64 is broken and cannot be decoded")


def test_a_winmail_dat_that_is_no_tnef_is_handed_over_as_it_is() -> None:
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        '--b\r\nContent-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Disposition: attachment; '
        'filename="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n\r\nbm90IHRuZWY=\r\n--b--\r\n'
    )
    [dat] = parse(mail(body=body, content_type='multipart/mixed; boundary="b"')).attachments
    assert (dat.name, dat.content_type, dat.data) == ("winmail.dat", "application/ms-tnef", b"not tnef")


# --------------------------------------------------------------------------- never crash

HEADER_NAMES = [
    "From",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Accept-Language",
    "Auto-Submitted",
    "Precedence",
    "Return-Path",
    "List-Id",
    "X-Autoreply",
]
TRICKY_VALUES = [
    "",
    "<",
    "<>",
    '"',
    "<a@[",
    "=?UTF-8?B?0J/RgNC40LLRltGC?=",
    "=?x-bogus?Q?=FF?=",
    "=?utf-8?b?###?=",
    "multipart/mixed; boundary=b",
    "multipart/report",
    "message/rfc822",
    "text/html; charset=zlib",
    "text/plain; charset=koi8-r",
    "base64",
    "quoted-printable",
    "x-uuencode",
    "attachment",
    "attachment; filename*=x''%FF",
    "Ann <ann@example.com>",
    "a@b.example, <c@d.example>",
    "uk-UA;q=abc",
    "auto-replied",
    "\x00\x01",
    "\udcff",
    "a\r\n b",
    "a\r\nX: y",
]


def assert_parses_or_malformed(raw: bytes) -> None:
    try:
        inbound = parse(raw)
    except MalformedEmail:
        return
    assert isinstance(inbound, Inbound)
    assert inbound.channel == "email"
    assert inbound.provider_id
    assert "@" in inbound.address and inbound.address == inbound.address.lower()
    assert len(inbound.attachments) <= MAX_ATTACHMENTS
    assert len(inbound.thread_refs) <= MAX_THREAD_REFS
    assert len(inbound.body) <= MAX_BODY_CHARS + 200


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    assert_parses_or_malformed(raw)


header_value = st.one_of(st.text(max_size=80), st.sampled_from(TRICKY_VALUES))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=12),
    body=st.one_of(st.text(max_size=500), st.sampled_from(["--b\r\n\r\n--b--", "<p>x</p><![a[", "> q\n-- \n"])),
    multipart=st.booleans(),
    charset=st.sampled_from(["utf-8", "koi8-r", "windows-1251", "latin-1"]),
)
def test_assembled_messages_never_crash(
    headers: list[tuple[str, str]], body: str, multipart: bool, charset: str
) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    if multipart:
        head += 'Content-Type: multipart/mixed; boundary="zz"\r\n'
        body = f"--zz\r\n{body}\r\n--zz\r\nContent-Disposition: attachment\r\n\r\n{body}\r\n--zz--\r\n"
    raw = (head + "\r\n" + body).encode(charset, errors="surrogatepass" if charset == "utf-8" else "replace")
    assert_parses_or_malformed(raw)
