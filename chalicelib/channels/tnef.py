"""The files inside a `winmail.dat`: Outlook's TNEF (application/ms-tnef), read the way
[MS-OXTNEF] lays it out, within bounds a hostile file cannot stretch.

A TNEF stream is a signature (0x223E9F78), a two-byte key, then attributes: level (1 the
message, 2 an attachment), id (low word the name, high word the type), length, data, and a
checksum. Each attachment starts with attAttachRendData; its bytes are attAttachData, its short
name attAttachTitle, and attAttachment holds its MAPI properties — the long file name and MIME
type among them (a count, then type, id, an optional named-property GUID, and values padded to
four bytes).

Why not `tnefparse` (PyPI): on hostile input it does not end. Its MAPI reader loops over the
property count a file claims even when no bytes are left (a 40-byte file claiming 2^28
properties took 47 s), and it copies the rest of the stream for every attribute (1.5 MB of
tiny attributes: 3.8 s, quadratic). Here every step reads at least four bytes or stops, and the
counts are capped, so the work is linear in the file and never more than the caps.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["MAX_ATTRIBUTES", "MAX_FILES", "TnefFile", "files", "is_tnef"]

SIGNATURE = 0x223E9F78
MAX_ATTRIBUTES = 10_000  # Outlook writes a few dozen per file inside
MAX_FILES = 100  # the most files a message lists (email.MAX_ATTACHMENTS)
MAX_PROPERTIES = 1_000  # MAPI properties of one attachment (Outlook: ~20)
MAX_VALUES = 1_024  # values of one multi-valued property (Outlook: a handful); more is a lie or an attack

_LEVEL_ATTACHMENT = 0x02
_ATT_ATTACH_DATA = 0x800F
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_REND_DATA = 0x9002  # the first attribute of every attachment
_ATT_ATTACHMENT = 0x9005  # the attachment's MAPI properties
_ATT_OEM_CODEPAGE = 0x9007

_PR_DISPLAY_NAME = 0x3001
_PR_ATTACH_DATA = 0x3701  # the bytes when attAttachData is absent (an embedded object)
_PR_ATTACH_FILENAME = 0x3704
_PR_ATTACH_LONG_FILENAME = 0x3707
_PR_ATTACH_MIME_TAG = 0x370E
_WANTED = frozenset(
    {_PR_DISPLAY_NAME, _PR_ATTACH_DATA, _PR_ATTACH_FILENAME, _PR_ATTACH_LONG_FILENAME, _PR_ATTACH_MIME_TAG}
)

# MAPI value sizes in TNEF: 16-bit values are padded to 4 bytes.
_FIXED_SIZE = {0x0002: 4, 0x000B: 4, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8}
_FIXED_SIZE |= {0x0014: 8, 0x0040: 8, 0x0048: 16, 0x0001: 0}
_SHORT = frozenset({0x0002, 0x000B})  # 16-bit integer, boolean
_STRING8, _UNICODE, _OBJECT, _BINARY = 0x001E, 0x001F, 0x000D, 0x0102
_VARIABLE = frozenset({_STRING8, _UNICODE, _OBJECT, _BINARY})
_MULTI_VALUE = 0x1000
_NAMED = 0x8000  # property ids from here on carry a GUID and a name
_IID_SIZE = 16  # an object value starts with its interface id


@dataclass(frozen=True)
class TnefFile:
    """One file inside the TNEF stream, as Outlook named and labelled it ("" where it did not)."""

    name: str
    content_type: str
    data: bytes = field(repr=False)


class _Cut(Exception):
    """The stream ends, or lies about a length, here: what was read before it stands."""


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def files(data: bytes, late: Callable[[], bool] = lambda: False) -> list[TnefFile]:
    """The files in a TNEF stream, in order, at most MAX_FILES; [] when it is no TNEF or holds
    none (only the message's rich text). A stream cut short gives the files whole before the
    cut; the one it cut is left (the raw mail in S3 still has it). Once `late()` (the mail's
    parse deadline, asked between attributes and properties) says so, the stream is cut there."""
    if not is_tnef(data):
        return []
    reader = _Reader(memoryview(data), late)
    try:
        reader.read()
    except _Cut:
        if reader.found and not reader.found[-1].data:
            reader.found.pop()  # the stream ended before this file's bytes did
    return [found.file(reader.codepage) for found in reader.found if found.has_data()]


@dataclass
class _Attachment:
    title: bytes = b""
    data: bytes = b""
    properties: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # id → (type, value)

    def has_data(self) -> bool:
        """Anything to hand over: bytes, or at least a name (a zero-byte file is still listed)."""
        return bool(self.data or self.title or self.properties)

    def file(self, codepage: str) -> TnefFile:
        data = self.data
        if not data and _PR_ATTACH_DATA in self.properties:
            kind, value = self.properties[_PR_ATTACH_DATA]
            data = value[_IID_SIZE:] if kind == _OBJECT else value
        name = next(
            (
                text
                for text in (
                    self._text(_PR_ATTACH_LONG_FILENAME, codepage),
                    _decode(self.title, codepage),
                    self._text(_PR_ATTACH_FILENAME, codepage),
                    self._text(_PR_DISPLAY_NAME, codepage),
                )
                if text
            ),
            "",
        )
        return TnefFile(name=name, content_type=self._text(_PR_ATTACH_MIME_TAG, codepage).lower(), data=bytes(data))

    def _text(self, prop: int, codepage: str) -> str:
        kind, value = self.properties.get(prop, (0, b""))
        if kind == _UNICODE:
            return value.decode("utf-16-le", errors="replace").split("\x00", 1)[0].strip()
        return _decode(value, codepage) if kind == _STRING8 else ""


class _Reader:
    """One pass over the attributes; `found` grows as attachments start."""

    def __init__(self, data: memoryview, late: Callable[[], bool]) -> None:
        self.data = data
        self.late = late
        self.codepage = "cp1252"  # until attOemCodepage says otherwise
        self.found: list[_Attachment] = []

    def read(self) -> None:
        offset = 6  # signature and key
        for _ in range(MAX_ATTRIBUTES):
            if offset + 9 > len(self.data):
                return
            if self.late():
                raise _Cut
            level, name, length = struct.unpack_from("<BHxxI", self.data, offset)
            start, end = offset + 9, offset + 9 + length
            if end + 2 > len(self.data):
                raise _Cut
            if not self._attribute(level, name, self.data[start:end]):
                return
            # the checksum is not checked: Outlook's are sometimes wrong, and the bytes are what we keep
            offset = end + 2

    def _attribute(self, level: int, name: int, value: memoryview) -> bool:
        """Take one attribute in; False once MAX_FILES files are read (the rest is left)."""
        if name == _ATT_OEM_CODEPAGE and len(value) >= 4:
            self.codepage = _codec(struct.unpack_from("<I", value)[0])
        if level != _LEVEL_ATTACHMENT:
            return True
        if name == _ATT_ATTACH_REND_DATA:
            if len(self.found) >= MAX_FILES:
                return False
            self.found.append(_Attachment())
        elif not self.found:
            pass  # attachment attributes before any attachment started: nothing to hang them on
        elif name == _ATT_ATTACH_DATA:
            self.found[-1].data = bytes(value)
        elif name == _ATT_ATTACH_TITLE:
            self.found[-1].title = bytes(value)
        elif name == _ATT_ATTACHMENT:
            try:
                _properties(value, self.found[-1].properties, self.late)
            except _Cut:
                if self.late():
                    raise  # out of time: no attribute after this one is read
                # else the properties before the lie stand; the attachment's bytes are elsewhere
        return True


def _properties(data: memoryview, into: dict[int, tuple[int, bytes]], late: Callable[[], bool]) -> None:
    """The MAPI properties in `data` that name or hold a file, into `into`. A count that lies
    ends at the end of `data`: fixed-size values are skipped in one step, and every variable
    one consumes at least its four-byte length; a property claiming more than MAX_VALUES
    variable values is a cut (7 million empty ones in 28 MB once took 6 s, value by value)."""
    (count,) = _unpack("<I", data, 0)
    offset = 4
    for _ in range(min(count, MAX_PROPERTIES)):
        if late():
            raise _Cut
        kind, prop = _unpack("<HH", data, offset)
        offset += 4
        if prop >= _NAMED:
            offset = _skip_name(data, offset)
        multi = bool(kind & _MULTI_VALUE)
        kind &= ~_MULTI_VALUE
        values = 1
        if multi or kind in _VARIABLE:  # single variable-size values are counted too (always 1)
            (values,) = _unpack("<I", data, offset)
            offset += 4
        if kind in _FIXED_SIZE:
            offset = _past_fixed(data, offset, kind, values, multi)
            continue
        if kind not in _VARIABLE or values > MAX_VALUES:
            raise _Cut  # a type TNEF does not carry (its size is unknown), or a count no file needs
        for _ in range(values):
            offset, value = _variable(data, offset)
            if prop in _WANTED and not multi:
                into[prop] = (kind, value)


def _past_fixed(data: memoryview, offset: int, kind: int, values: int, multi: bool) -> int:
    """The offset after `values` fixed-size values; 16-bit ones are 2 bytes each in a list,
    the list (or the single value) padded to 4."""
    size = _FIXED_SIZE[kind]
    total = 2 * values + (-2 * values % 4) if multi and size == 4 and kind in _SHORT else size * values
    if offset + total > len(data):
        raise _Cut
    return offset + total


def _variable(data: memoryview, offset: int) -> tuple[int, bytes]:
    """(offset after it, its bytes) of one string, binary or object value: length, bytes, padding."""
    (length,) = _unpack("<I", data, offset)
    start, end = offset + 4, offset + 4 + length
    if end > len(data):
        raise _Cut
    return end + (-length % 4), bytes(data[start:end])


def _skip_name(data: memoryview, offset: int) -> int:
    """Past a named property's GUID and its number or (padded UTF-16) name."""
    (kind,) = _unpack("<I", data, offset + 16)
    offset += 20
    if kind == 0:
        return offset + 4
    (length,) = _unpack("<I", data, offset)
    return offset + 4 + length + (-length % 4)


def _unpack(layout: str, data: memoryview, offset: int) -> tuple[int, ...]:
    try:
        return struct.unpack_from(layout, data, offset)
    except struct.error:
        raise _Cut from None


def _codec(codepage: int) -> str:
    """Python's codec for a Windows code page; cp1252 for one Python does not know."""
    name = {65001: "utf-8", 20866: "koi8-r", 21866: "koi8-u", 28591: "latin-1", 20127: "ascii"}.get(
        codepage, f"cp{codepage}"
    )
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def _decode(value: bytes, codepage: str) -> str:
    return value.split(b"\x00", 1)[0].decode(codepage, errors="replace").strip()
