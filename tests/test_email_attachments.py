"""What a customer's email attachments become, through the real path: SES stores the raw mail
in S3 and notifies SNS, the inbound handler parses it and intake keeps each file in the files
bucket (its bytes exactly, under the ticket) or lists it with the reason it was not kept.

The expected bytes are read from the fixtures with the standard library's own MIME parser, not
with the desk's; the winmail.dat files are known from the TNEF sample they come from."""

from __future__ import annotations

import base64
import email
import hashlib
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from chalicelib import aws, stage
from chalicelib.config import settings
from chalicelib.models import Message, Ticket
from tests.conftest import edited_desk_file, fixture_bytes
from tests.faults.injector import SERVER_ERROR, AwsFaults

CUSTOMER = "Hello, the export fails. Files attached."


def stored_message() -> Message:
    [ticket] = list(Ticket.scan())
    [message] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    return message


def bucket() -> dict[str, bytes]:
    """Every object in the files bucket, by key."""
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=stage.files_bucket()).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=stage.files_bucket(), Key=o["Key"])["Body"].read() for o in listed}


def parts_by_name(raw: bytes) -> dict[str, bytes]:
    """The decoded bytes of every named part, as Python's own parser reads the mail."""
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return {str(p.get_filename()): p.get_payload(decode=True) for p in parsed.walk() if p.get_filename()}


def summary(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["name"], e["type"], e["size"], e["state"], e.get("reason", "")) for e in entries]


def assert_kept(entry: dict[str, Any], original: bytes, objects: dict[str, bytes]) -> None:
    assert objects[entry["key"]] == original
    assert entry["sha256"] == hashlib.sha256(original).hexdigest()
    assert entry["key"].startswith(f"tickets/{stored_message().ticket_id}/")


def mail(*files: tuple[str, str, bytes]) -> bytes:
    """A plain mail with these (name, type, bytes) attached, as a mail client writes it."""
    parts = [f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{CUSTOMER}\r\n"]
    for name, kind, data in files:
        parts.append(
            f'--b\r\nContent-Type: {kind}; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.encodebytes(data).decode()}"
        )
    head = (
        "From: Customer <customer@example.com>\r\nTo: support@promptly.example\r\nSubject: Export\r\n"
        'Message-ID: <files@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    return (head + "".join(parts) + "--b--\r\n").encode()


@pytest.fixture
def caps(monkeypatch, tmp_path):
    """Run the desk with other [attachments] caps for this test."""

    def use(old: str, new: str) -> None:
        monkeypatch.setenv("PROMPTLY_CONFIG", str(edited_desk_file(tmp_path, old, new)))
        settings.cache_clear()

    yield use
    settings.cache_clear()


def test_a_pdf_and_an_inline_image_are_kept_byte_for_byte(desk) -> None:
    raw = fixture_bytes("email", "mixed_pdf_inline_image.eml")

    desk.deliver_email(raw)

    message, objects, original = stored_message(), bucket(), parts_by_name(raw)
    image, pdf = message.attachments
    assert summary(message.attachments) == [
        ("error.png", "image/png", 69, "stored", ""),
        ("Рахунок №17 (травень).pdf", "application/pdf", 331, "stored", ""),
    ]
    assert image["cid"] == "ii_lx0f3a1b0"  # the HTML body's <img src="cid:ii_lx0f3a1b0">
    assert_kept(image, original["error.png"], objects)
    assert_kept(pdf, original["Рахунок №17 (травень).pdf"], objects)
    assert len(objects) == 2
    assert message.body.startswith("Hello,\n\nThe invoice for May is attached.")


def test_a_nameless_pasted_screenshot_is_kept_and_a_png_that_is_a_pdf_is_kept_as_a_pdf(desk) -> None:
    raw = fixture_bytes("email", "outlook_inline_cid_mislabelled.eml")

    desk.deliver_email(raw)

    message, objects = stored_message(), bucket()
    pasted, mislabelled = message.attachments
    assert summary(message.attachments) == [
        ("image-1.png", "image/png", 76, "stored", ""),
        ("screenshot.png", "application/pdf", 593, "stored", "sent as image/png, but its bytes are application/pdf"),
    ]
    assert pasted["cid"] == "image001.png@01DB3D8A.5E2B6C40"
    assert mislabelled["declared"] == "image/png"
    parsed = email.message_from_bytes(raw, policy=default_policy)
    nameless = next(p for p in parsed.walk() if p["Content-ID"] == "<image001.png@01DB3D8A.5E2B6C40>")
    assert_kept(pasted, nameless.get_payload(decode=True), objects)
    assert_kept(mislabelled, parts_by_name(raw)["screenshot.png"], objects)
    # the PDF is never served as an image: its object says download, whatever its name
    head = aws.client("s3").head_object(Bucket=stage.files_bucket(), Key=mislabelled["key"])
    assert head["ContentType"] == "application/octet-stream" and head["ContentDisposition"] == "attachment"


def test_the_files_inside_an_outlook_winmail_dat_are_kept_instead_of_it(desk) -> None:
    desk.deliver_email(fixture_bytes("email", "outlook_winmail_dat.eml"))

    message, objects = stored_message(), bucket()
    assert summary(message.attachments) == [
        ("TBZ PARIV GmbH.jpg", "image/jpeg", 44764, "stored", ""),
        ("image003.jpg", "image/jpeg", 1001, "stored", ""),
        ("UmlautAnhang-äüö.txt", "application/octet-stream", 14, "stored", ""),
    ]
    logo, small, text = (objects[e["key"]] for e in message.attachments)
    assert logo.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF") and logo.endswith(b"\xff\xd9")
    assert small.startswith(b"\xff\xd8\xff\xe0") and small.endswith(b"\xff\xd9")
    assert text == b"TEST \xe4\xf6\xfc +-*/~"  # Latin-1, as the German Outlook wrote it
    for entry in message.attachments:
        assert entry["sha256"] == hashlib.sha256(objects[entry["key"]]).hexdigest()
    assert len(objects) == 3  # winmail.dat itself is not kept: its files are
    assert message.body.startswith("Hallo,\n\nanbei unser Logo")


def test_a_winmail_dat_with_no_files_inside_is_kept_as_it_is(desk) -> None:
    rich_text_only = bytes.fromhex("789f3e22") + b"\x01\x00" + bytes(range(40))  # a TNEF stream, no attachment
    desk.deliver_email(mail(("winmail.dat", "application/ms-tnef", rich_text_only)))

    [entry] = stored_message().attachments
    assert (entry["name"], entry["state"], entry["size"]) == ("winmail.dat", "stored", len(rich_text_only))
    assert bucket()[entry["key"]] == rich_text_only


def test_a_cyrillic_rfc_2231_file_name_arrives_as_written_and_an_empty_file_is_listed(desk) -> None:
    raw = fixture_bytes("email", "thunderbird_rfc2231_cyrillic.eml")

    desk.deliver_email(raw)

    message, objects = stored_message(), bucket()
    report, empty = message.attachments
    assert summary(message.attachments) == [
        ("Звіт про помилку в кабінеті.pdf", "application/pdf", 604, "stored", ""),
        ("notes.txt", "text/plain", 0, "refused", "empty file (0 bytes)"),
    ]
    assert_kept(report, parts_by_name(raw)["Звіт про помилку в кабінеті.pdf"], objects)
    assert "key" not in empty and len(objects) == 1
    assert message.body.startswith("Добрий день!")


def test_a_file_over_the_cap_is_listed_with_the_reason_and_the_others_kept(desk, caps) -> None:
    caps("max_file_mb = 25", "max_file_mb = 1")
    big = bytes(range(256)) * 4_700  # 1.2 MB
    small = b"%PDF-1.4\n" + b"x" * 100

    desk.deliver_email(mail(("dump.bin", "application/octet-stream", big), ("scan.pdf", "application/pdf", small)))

    message, objects = stored_message(), bucket()
    assert summary(message.attachments) == [
        ("dump.bin", "application/octet-stream", 1_203_200, "refused", "1.2 MB is over the 1 MB a file may be"),
        ("scan.pdf", "application/pdf", 109, "stored", ""),
    ]
    assert list(objects.values()) == [small]
    assert message.body.startswith(CUSTOMER)


def test_files_past_the_desks_count_are_listed_by_name(desk, caps) -> None:
    caps("max_count = 20", "max_count = 2")

    desk.deliver_email(mail(*[(f"scan-{n}.pdf", "application/pdf", b"%%PDF-1.4 page %d" % n) for n in range(1, 4)]))

    message = stored_message()
    assert [(e["name"], e["state"], e.get("reason", "")) for e in message.attachments] == [
        ("scan-1.pdf", "stored", ""),
        ("scan-2.pdf", "stored", ""),
        ("scan-3.pdf", "refused", "more than 2 files on one message"),
    ]
    assert len(bucket()) == 2
    assert "not listed" not in message.body


def test_mail_ses_finds_a_virus_in_keeps_its_text_and_quarantines_every_file(desk) -> None:
    desk.deliver_email(fixture_bytes("email", "mixed_pdf_inline_image.eml"), verdicts={"virus": "FAIL"})

    message = stored_message()
    reason = "SES found a virus in this mail: listed, never kept"
    assert summary(message.attachments) == [
        ("error.png", "image/png", 69, "quarantined", reason),
        ("Рахунок №17 (травень).pdf", "application/pdf", 331, "quarantined", reason),
    ]
    assert all("key" not in entry for entry in message.attachments)
    assert bucket() == {}  # not one byte of it in the files bucket
    assert message.body.startswith("Hello,\n\nThe invoice for May is attached.")
    desk.pump()
    assert desk.sent_mail() == []  # and no acknowledgement goes back to whoever sent it


def test_files_ses_could_not_scan_are_kept_and_say_so(desk) -> None:
    desk.deliver_email(fixture_bytes("email", "mixed_pdf_inline_image.eml"), verdicts={"virus": "GRAY"})

    message = stored_message()
    assert [(e["state"], e["reason"]) for e in message.attachments] == [
        ("stored", "not scanned for viruses: SES could not tell (GRAY)"),
    ] * 2
    assert len(bucket()) == 2


def test_a_file_s3_refuses_is_failed_and_the_text_still_reaches_the_ticket(desk) -> None:
    faults = AwsFaults().attach()
    faults.fail("s3.PutObject", SERVER_ERROR, nth=2)  # the first file (the first put is SES storing the mail)
    try:
        desk.deliver_email(fixture_bytes("email", "mixed_pdf_inline_image.eml"))
    finally:
        faults.detach()

    message = stored_message()
    assert [(e["name"], e["state"], e.get("reason", "")) for e in message.attachments] == [
        ("error.png", "failed", "not kept: storage failed; the whole mail is kept"),
        ("Рахунок №17 (травень).pdf", "stored", ""),
    ]
    assert message.body.startswith("Hello,\n\nThe invoice for May is attached.")
    assert len(bucket()) == 1


def test_a_mail_whose_files_declare_huge_types_still_reaches_the_ticket(desk) -> None:
    """Ten parts with a 60 KB Content-Type once pushed the message past DynamoDB's 400 KB: the
    mail went to the dead-letter queue, its text with it."""
    desk.deliver_email(mail(*[(f"f{i}.bin", "application/" + "y" * 60_000, b"hello %d" % i) for i in range(10)]))

    message = stored_message()
    assert message.body.startswith(CUSTOMER)
    assert {(e["type"], e["declared"], e["state"]) for e in message.attachments} == {
        ("application/octet-stream", "application/octet-stream", "stored")
    }
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=stage.files_bucket(), Key=message.attachments[0]["key"])
    assert head["Metadata"]["declared"] == "application/octet-stream"


def test_a_customers_web_page_sent_as_text_is_labelled_by_its_bytes_not_as_text(desk) -> None:
    page = b"\n  <html><script>alert(1)</script></html>"
    desk.deliver_email(
        mail(
            ("page.html", "text/plain", b"plain words"), ("notes.txt", "text/plain", page), ("log", "text/plain", b"ok")
        )
    )

    assert [(e["name"], e["type"]) for e in stored_message().attachments] == [
        ("page.html", "application/octet-stream"),
        ("notes.txt", "application/octet-stream"),
        ("log", "text/plain"),
    ]
