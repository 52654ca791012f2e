"""A file's entry as a message lists it: what a sender's declared type becomes, and how big a
message's list of entries can grow (a DynamoDB item holds at most 400 KB)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.attachments import files
from chalicelib.channels.email import _MAX_CID_CHARS, MAX_ATTACHMENTS, MAX_BODY_CHARS
from chalicelib.models import Message

DYNAMODB_ITEM_BYTES = 400 * 1024


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        ('image/PNG; name="a.png"', "image/png"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("application/" + "y" * 60_000, files.OCTET_STREAM),
        ("image/" + "x" * 121, "image/" + "x" * 121),  # 127 characters
        ("image/" + "x" * 122, files.OCTET_STREAM),
        ("text/html\r\nX-Evil: 1", files.OCTET_STREAM),
        ("image/png/x", files.OCTET_STREAM),
        ("image", files.OCTET_STREAM),
        ("", files.OCTET_STREAM),
        (None, files.OCTET_STREAM),
        ("тип/підтип", files.OCTET_STREAM),
    ],
)
def test_a_declared_type_is_recorded_only_as_a_short_media_type(sent: str | None, recorded: str) -> None:
    assert files.declared_type(sent) == recorded
    entry = files.listed(name="a.bin", declared=sent or "", size=1, state=files.REFUSED)
    assert (entry["type"], entry["declared"]) == (recorded, recorded)


def test_the_most_a_mail_can_list_stays_well_inside_one_dynamodb_item() -> None:
    """100 files, each with the longest name (astral characters: 12 bytes each as JSON escapes),
    Content-ID, type and reason a sender can give, on the longest body."""
    name = "\U0001f600" * 200 + ".pdf"
    kind = "application/" + "x" * 200
    entries = [
        files.listed(
            name=name,
            declared=kind,
            size=10**9,
            state=files.REFUSED,
            reason="r" * 5000,
            cid="c" * _MAX_CID_CHARS,
            key="tickets/" + "t" * 40 + "/" + "m" * 60 + "/99-" + "0" * 16,
            sha256="0" * 64,
        )
        for _ in range(MAX_ATTACHMENTS)
    ]
    message = Message(
        ticket_id="T" * 40,
        message_key="k" * 80,
        message_id="m" * 60,
        direction="in",
        channel="email",
        author="customer",
        subject="s" * 1000,
        body="\U0001f600" * MAX_BODY_CHARS,
        attachments=entries,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    size = sum(len(key.encode()) + len(str(value).encode()) for key, value in message.serialize().items())
    # ~265 KB: the body (4 bytes an emoji) and the names' JSON escapes (12 bytes an emoji) are most of it
    assert size < DYNAMODB_ITEM_BYTES * 0.7, size
    assert entries[0]["name"] == "\U0001f600" * 58 + ".pdf"  # 120 UTF-16 units, the extension kept


def test_a_long_name_is_cut_to_120_characters_keeping_its_extension() -> None:
    assert files.safe_name("я" * 300 + ".pdf") == "я" * 116 + ".pdf"
    assert files.safe_name("a" * 300) == "a" * 120
    assert files.safe_name("\U0001f600" * 100) == "\U0001f600" * 60
