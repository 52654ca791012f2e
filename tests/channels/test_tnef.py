"""The files inside a winmail.dat: a real Outlook stream, and streams a sender shaped to hurt.

How long the hostile ones take at full size is measured by bench/hostile_mail.py; here they
only have to end with what was readable."""

from __future__ import annotations

import email
import itertools
import struct
import time
from email.policy import default as default_policy

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import tnef
from tests.conftest import fixture_bytes

HEAD = struct.pack("<IH", tnef.SIGNATURE, 0x0A2E)


def outlook_winmail_dat() -> bytes:
    """The winmail.dat of tests/fixtures/email/outlook_winmail_dat.eml (a German Outlook's)."""
    parsed = email.message_from_bytes(fixture_bytes("email", "outlook_winmail_dat.eml"), policy=default_policy)
    [dat] = [p for p in parsed.walk() if p.get_filename() == "winmail.dat"]
    return bytes(dat.get_payload(decode=True))


def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def file_attributes(title: bytes, data: bytes, properties: bytes = b"") -> bytes:
    found = attribute(2, 0x9002, 6, b"\x01\x00\xff\xff\xff\xff" + bytes(8))  # attAttachRendData: a file starts
    found += attribute(2, 0x8010, 1, title + b"\x00") + attribute(2, 0x800F, 6, data)
    return found + (attribute(2, 0x9005, 6, properties) if properties else b"")


def unicode_property(prop: int, text: str) -> bytes:
    value = (text + "\x00").encode("utf-16-le")
    return struct.pack("<HHII", 0x001F, prop, 1, len(value)) + value + bytes(-len(value) % 4)


def test_a_real_outlook_stream_gives_its_files_names_and_bytes() -> None:
    found = tnef.files(outlook_winmail_dat())

    assert [(f.name, f.content_type, len(f.data)) for f in found] == [
        ("TBZ PARIV GmbH.jpg", "", 44764),
        ("image003.jpg", "image/jpeg", 1001),
        ("UmlautAnhang-äüö.txt", "", 14),
    ]
    assert found[2].data == b"TEST \xe4\xf6\xfc +-*/~"


def test_the_long_unicode_name_wins_over_the_short_title() -> None:
    properties = struct.pack("<I", 1) + unicode_property(0x3707, "Договір оренди 2026.docx")
    [found] = tnef.files(HEAD + file_attributes(b"DOGOVI~1.DOC", b"PK\x03\x04", properties))

    assert (found.name, found.data) == ("Договір оренди 2026.docx", b"PK\x03\x04")


def test_a_property_count_that_lies_ends_where_the_bytes_end() -> None:
    # tnefparse 1.4.0 loops 2^32 times over this (~12 minutes)
    lying = struct.pack("<I", 0xFFFFFFFF) + unicode_property(0x3707, "report.pdf")
    [found] = tnef.files(HEAD + file_attributes(b"REPORT.PDF", b"%PDF-1.4", lying))

    assert (found.name, found.data) == ("report.pdf", b"%PDF-1.4")


def test_a_multi_valued_property_claiming_billions_of_values_is_skipped_in_one_step() -> None:
    huge = struct.pack("<I", 2) + struct.pack("<HHI", 0x1003, 0x0E21, 0xFFFFFFFF)  # 2^32 - 1 integers
    huge += unicode_property(0x3707, "never read.pdf")
    [found] = tnef.files(HEAD + file_attributes(b"SHORT.PDF", b"%PDF", huge))

    assert found.name == "SHORT.PDF"  # the properties after the lie are never reached


def test_a_property_claiming_more_values_than_any_file_needs_is_a_cut() -> None:
    # 1,025 empty binary values, then the long name: it is never reached
    claims = struct.pack("<I", 2) + struct.pack("<HHI", 0x1102, 0x3701, tnef.MAX_VALUES + 1) + bytes(4 * 1025)
    [found] = tnef.files(HEAD + file_attributes(b"SHORT.PDF", b"%PDF", claims + unicode_property(0x3707, "long.pdf")))

    assert (found.name, found.data) == ("SHORT.PDF", b"%PDF")


def test_millions_of_empty_values_are_not_read_one_by_one() -> None:
    # the review's 28 MB winmail.dat took 6.2 s; this quarter of it took 1.5 s value by value
    claims = struct.pack("<I", 1) + struct.pack("<HHI", 0x1102, 0x3701, 2_000_000) + bytes(8_000_000)
    started = time.perf_counter()
    [found] = tnef.files(HEAD + file_attributes(b"hi.txt", b"hi", claims))

    assert time.perf_counter() - started < 0.3
    assert (found.name, found.data) == ("hi.txt", b"hi")


def test_once_the_mails_deadline_passes_no_further_attribute_is_read() -> None:
    whole = HEAD + file_attributes(b"one.txt", b"first") + file_attributes(b"two.txt", b"second file")
    asked = itertools.count()

    assert [f.name for f in tnef.files(whole, late=lambda: next(asked) >= 3)] == ["one.txt"]
    assert tnef.files(whole, late=lambda: True) == []


def test_a_stream_cut_short_keeps_the_files_read_before_the_cut() -> None:
    whole = HEAD + file_attributes(b"one.txt", b"first") + file_attributes(b"two.txt", b"second file")

    assert [f.name for f in tnef.files(whole[:-10])] == ["one.txt"]


def test_no_more_than_max_files_and_max_attributes_are_read() -> None:
    many = HEAD + file_attributes(b"x.txt", b"x") * (tnef.MAX_FILES + 50)
    assert len(tnef.files(many)) == tnef.MAX_FILES

    tiny = HEAD + attribute(1, 0x9006, 8, b"\x00\x00\x01\x00") * (tnef.MAX_ATTRIBUTES + 1) + file_attributes(b"a", b"a")
    assert tnef.files(tiny) == []  # the file after the cap is never reached


def test_what_is_no_tnef_gives_no_files() -> None:
    assert tnef.files(b"") == []
    assert tnef.files(b"PK\x03\x04 a zip named winmail.dat") == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_after_the_signature_give_files_or_none_and_never_raise(junk: bytes) -> None:
    for found in tnef.files(HEAD + junk):
        assert isinstance(found.name, str) and isinstance(found.data, bytes)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 0xFFFFFFFF))
def test_any_property_block_never_raises(junk: bytes, count: int) -> None:
    stream = HEAD + file_attributes(b"f.bin", b"data", struct.pack("<I", count) + junk)
    [found] = tnef.files(stream)
    assert found.data == b"data"
