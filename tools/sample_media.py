"""Small, real media files made in code: what the fake providers hand out as a customer's photo,
voice message or document (tools/fake_providers.py, FakeMedia) and what the tests check the
desk kept, byte for byte. Each is a valid file of its format (a viewer opens it), not a stub
with the right first bytes, and none needs an image or audio library to make.
Development only: never imported by the Lambda code.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache


@cache
def png(width: int = 2, height: int = 2) -> bytes:
    """An RGB PNG of `width` x `height` pixels in a warm orange."""
    rows = b"".join(b"\x00" + bytes((230, 120, 40)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


@cache
def jpeg() -> bytes:
    """A baseline JFIF JPEG, 8 x 8 grey pixels: one block whose only coefficient is a zero DC
    difference, coded with one-symbol Huffman tables (what a camera photo is, at its smallest)."""
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    segments = [
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xDB, b"\x00" + bytes([1] * 64)),  # quantization table 0, all ones
        _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),  # 8 bits, 8 x 8, one component
        _segment(0xC4, b"\x00" + one_code),  # DC table 0: category 0
        _segment(0xC4, b"\x10" + one_code),  # AC table 0: end of block
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # scan of component 1
    ]
    scan = bytes([0b0011_1111])  # DC "0", EOB "0", padded with ones
    return b"\xff\xd8" + b"".join(segments) + scan + b"\xff\xd9"


@cache
def ogg_opus() -> bytes:
    """A Telegram voice message as its format is: Ogg pages holding an Opus stream (its
    identification and comment headers, then 20 ms of silence)."""
    serial = 0x5052_4F4D
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 8) + b"promptly" + struct.pack("<I", 0)
    silence = b"\xf8\xff\xfe"  # CELT, full band, 20 ms, one frame: silence
    return (
        _ogg_page(head, serial, sequence=0, granule=0, flags=0x02)
        + _ogg_page(tags, serial, sequence=1, granule=0, flags=0x00)
        + _ogg_page(silence, serial, sequence=2, granule=312 + 960, flags=0x04)
    )


@cache
def pdf(text: str = "Invoice 17") -> bytes:
    """A one-page PDF that says `text`, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 770 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _segment(marker: int, data: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data


def _ogg_page(packet: bytes, serial: int, *, sequence: int, granule: int, flags: int) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0) + bytes([len(lacing)]) + lacing
    page = header + packet
    checksum = _ogg_crc(page)
    return page[:22] + struct.pack("<I", checksum) + page[26:]


def _ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, starting from 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc
