"""Bounded MIME parsing: the standard library's parser, fed under caps and a time budget.

Everything in a mail is the sender's, and the stdlib parser has no limits. Measured on a
2-core machine before these bounds: 100,000 tiny parts (4.3 MB) took 24 s, and 20 parts whose
Content-Type carried 5,000 parameters (0.9 MB) 37 s — the default policy parses a header again
on every read, at ~70 µs a parameter. Both ran past the inbound Lambda's 30 s timeout: the mail
was lost, and every retry burned the same time again.

`parse` feeds the same parser (`BytesFeedParser`, the default policy's semantics) the chunks
`email.message_from_bytes` would, through a policy that
- keeps at most MAX_PARAMETERS parameters of a Content-Type or Content-Disposition — the ones
  the desk reads (boundary, charset, name, filename...) first;
- cuts any header value at MAX_HEADER_CHARS, and keeps a part's first MAX_HEADERS headers;
- parses each distinct header once per mail, however often it is read;
and stops feeding once more than MAX_PARTS parts exist, or once the time budget is spent — but
never inside the top-level header block, which says whom to answer. Each part knows its place
in the mail, so a reader skips those past the cap (`past_cap`), and the part cut off in the
middle is always one of them. The parts never fed are counted by their boundary lines.
`Cuts` records what was left out; `Cuts.notes` says it in words an agent reads, and the raw
mail in S3 still has everything.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_CHARS",
    "MAX_PARAMETERS",
    "MAX_PARTS",
    "Cuts",
    "Deadline",
    "count_parts",
    "parse",
    "past_cap",
]

# Parts read, in document order, the multipart containers included: real mail has a few
# dozen at most, and each costs a few header parses.
MAX_PARTS = 200
# RFC 2231 splits a long file name into name*0*, name*1*...: a dozen is already unusual.
MAX_PARAMETERS = 32
# No real header comes near this (a long thread's References is ~10 kB); the decoders in
# email.py cut further (8 kB) before the stdlib's quadratic encoded-word decoding.
MAX_HEADER_CHARS = 64 * 1024
# Relays add Received, DKIM and ARC headers: ~60 on a long route, never hundreds.
MAX_HEADERS = 500

# What `email.message_from_bytes` feeds at a time; the caps are checked between chunks, so a
# chunk's parts may run past MAX_PARTS by a few hundred tiny ones, which `parse` leaves unread.
_CHUNK = 8192
# Parameters whose values the desk or the parser reads: kept before any other.
_READ_PARAMETERS = frozenset({"boundary", "charset", "name", "filename", "report-type", "type"})
_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})
# A parameter: runs of anything but ";" and quotes, and quoted strings (closed or not).
_PARAMETER = re.compile(r'(?:[^;"]|"(?:[^"\\]|\\.)*+"?)++')
_HEADER_BLOCK_END = re.compile(rb"\r?\n\r?\n")


class Deadline:
    """A time budget on the monotonic clock, checked between parts, never inside one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self._ends


@dataclass
class Cuts:
    """What a bounded parse left out of one mail, counted as it happens."""

    bytes_read: int = 0  # only the first `bytes_read` of `bytes_total` bytes arrived
    bytes_total: int = 0
    parts_over_cap: int = 0  # MIME parts past MAX_PARTS
    parts_late: int = 0  # MIME parts left when the time budget was spent...
    budget_seconds: float = 0.0  # ... of this many seconds
    parts_too_deep: int = 0  # MIME parts nested deeper than...
    nesting: int = 0  # ... this many levels
    unparsed_over_cap: int = 0  # bytes never parsed, past MAX_PARTS or...
    unparsed_late: int = 0  # ... the time budget (their parts are counted where boundaries tell)
    text_parts: int = 0  # text parts cut or left unread past a mail's cap on text...
    text_chars: int = 0  # ... of this many characters
    html_too_deep: int = 0  # HTML parts cut where their elements nest too deep (email.py)
    parameters: int = 0  # MIME parameters dropped past MAX_PARAMETERS
    long_headers: int = 0  # header values cut at MAX_HEADER_CHARS
    headers: int = 0  # headers past a part's MAX_HEADERS

    def notes(self) -> tuple[str, ...]:
        """One line per kind of cut, for the agent; () when the whole mail was read."""
        notes = []
        if self.bytes_total > self.bytes_read:
            notes.append(f"only the first {_size(self.bytes_read)} of {_size(self.bytes_total)} read")
        notes += _unread_parts(self.parts_over_cap, self.unparsed_over_cap, f"more than {MAX_PARTS:,} parts")
        notes += _unread_parts(self.parts_late, self.unparsed_late, f"reading took over {self.budget_seconds:g} s")
        if self.parts_too_deep:
            notes.append(f"{_count(self.parts_too_deep, 'MIME part')} not read (nested over {self.nesting} deep)")
        if self.text_parts:
            notes.append(
                f"{_count(self.text_parts, 'text part')} cut or not read (over {self.text_chars:,} characters in all)"
            )
        if self.html_too_deep:
            notes.append(f"{_count(self.html_too_deep, 'HTML part')} cut where it nests too deep")
        if self.parameters:
            notes.append(
                f"{_count(self.parameters, 'MIME header parameter')} dropped (more than {MAX_PARAMETERS} in a header)"
            )
        if self.long_headers:
            notes.append(f"{_count(self.long_headers, 'header')} cut at {MAX_HEADER_CHARS:,} characters")
        if self.headers:
            notes.append(f"{_count(self.headers, 'header')} dropped (more than {MAX_HEADERS} in a part)")
        return tuple(notes)

    def late(self, parts: int, deadline: Deadline) -> None:
        """`parts` were left because `deadline` passed."""
        self.parts_late += parts
        self.budget_seconds = deadline.seconds

    def too_deep(self, part: Message, nesting: int) -> None:
        """`part` and all inside it were left, nested deeper than `nesting`."""
        self.parts_too_deep += count_parts(part)
        self.nesting = nesting

    def text_cut(self, parts: int, chars: int) -> None:
        """`parts` text parts were cut or left unread, the mail's text being over `chars`."""
        self.text_parts += parts
        self.text_chars = chars


def count_parts(part: Message) -> int:
    """`part` and every part inside it, without recursion (trees can nest hundreds deep)."""
    count, stack = 0, [part]
    while stack:
        count += 1
        payload = stack.pop().get_payload()
        if isinstance(payload, list):
            stack.extend(child for child in payload if isinstance(child, Message))
    return count


def _unread_parts(parts: int, unparsed: int, why: str) -> list[str]:
    """The note for parts left unread, by count; by size when the unparsed rest had none to
    count (its multiparts' boundaries were never read)."""
    if parts:
        return [f"{_count(parts, 'MIME part')} not read ({why})"]
    return [f"the last {_size(unparsed)} not read ({why})"] if unparsed else []


def _count(number: int, noun: str) -> str:
    """ "1 MIME part", "2 MIME parts"."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} kB"


# --------------------------------------------------------------------------- the parse


def parse(raw: bytes, deadline: Deadline, cuts: Cuts) -> Message:
    """The MIME tree of `raw` within the caps; what was left out is counted in `cuts`.

    Raises what the stdlib parser raises on junk (the caller turns that into MalformedEmail).
    """
    reading = _Reading(cuts)
    policy = _BoundedPolicy(reading=reading)  # type: ignore[call-overload]  # typeshed knows only Policy's own keywords
    parser = BytesFeedParser(policy=policy)
    must_read = _header_block_end(raw)
    offset, over_cap = 0, False
    while offset < len(raw):
        over_cap = reading.parts > MAX_PARTS
        if over_cap or (offset >= must_read and deadline.passed()):
            break
        end = _line_end(raw, offset + _CHUNK)
        parser.feed(raw[offset:end])
        offset = end
    message = parser.close()
    if offset < len(raw):
        unread = _delimiters(raw[offset:], _boundaries(message))
        if over_cap:
            cuts.parts_over_cap += unread
            cuts.unparsed_over_cap = len(raw) - offset
        else:
            cuts.late(unread, deadline)
            cuts.unparsed_late = len(raw) - offset
    return message


def past_cap(part: Message) -> bool:
    """True for a part after the first MAX_PARTS of its mail: not to be read. The feeding
    stops inside one of these, never inside a part before them."""
    return getattr(part, "place", 0) > MAX_PARTS


def _header_block_end(raw: bytes) -> int:
    """Offset just past the top-level header block (the whole mail if it never ends)."""
    match = _HEADER_BLOCK_END.search(raw)
    return match.end() if match else len(raw)


def _line_end(raw: bytes, near: int) -> int:
    """A chunk end at `near`, moved back to just after a line break if the chunk has one, so
    the unread rest starts with a whole line (a boundary line is never split in two)."""
    if near >= len(raw):
        return len(raw)
    cut = raw.rfind(b"\n", near - _CHUNK, near)
    return cut + 1 if cut >= 0 else near


def _boundaries(message: Message) -> set[str]:
    """Every multipart boundary in the parsed tree (bounded by MAX_PARTS and one chunk)."""
    found = set()
    for part in message.walk():
        try:
            boundary = part.get_boundary() if part.is_multipart() else None
        except Exception:  # noqa: BLE001 - malformed parameters, whatever the parser raises: no boundary
            boundary = None
        if boundary:
            found.add(boundary)
    return found


def _delimiters(rest: bytes, boundaries: set[str]) -> int:
    """How many parts start in `rest`: its "--boundary" lines, for the boundaries known.
    Parts nested in an unread multipart count as that one part: their boundary is unknown."""
    if not boundaries:
        return 0
    names = b"|".join(re.escape(b.encode("ascii")) for b in sorted(boundaries) if b.isascii())
    if not names:
        return 0
    return len(re.findall(rb"^--(?:" + names + rb")[ \t]*\r?$", rest, re.MULTILINE))


# --------------------------------------------------------------------------- the policy


class _Reading:
    """State of one parse, shared by its policy and every part it creates."""

    def __init__(self, cuts: Cuts) -> None:
        self.cuts = cuts
        self.parts = 0
        self.parsed: dict[tuple[str, str], Any] = {}


class _BoundedMessage(EmailMessage):
    """A part that knows its place in the mail (1 for the root, then in document order:
    the parser makes them as it meets them) and keeps at most MAX_HEADERS headers."""

    def __init__(self, policy: Any = None) -> None:
        super().__init__(policy)
        reading = getattr(policy, "reading", None)
        if reading is not None:
            reading.parts += 1
        self.place = reading.parts if reading is not None else 0

    def set_raw(self, name: str, value: Any) -> None:
        if len(self) >= MAX_HEADERS:  # every header, duplicates too
            reading = getattr(self.policy, "reading", None)
            if reading is not None:
                reading.cuts.headers += 1
            return
        super().set_raw(name, value)


class _BoundedPolicy(EmailPolicy):
    """The default policy, with caps on what it stores and a memory of what it parsed.

    Policies are immutable; the mutable `_Reading` of one parse hangs off one instance.
    """

    reading: _Reading | None = None
    message_factory = _BoundedMessage

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, _bounded(name, value, self.reading.cuts if self.reading else Cuts())

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        """Parse a header once per mail: the default policy parses it again on every read,
        and a part's Content-Type is read five times (~70 µs a parameter each time)."""
        if hasattr(value, "name") or self.reading is None:
            return super().header_fetch_parse(name, value)
        key = (name, value)
        if key not in self.reading.parsed:
            self.reading.parsed[key] = super().header_fetch_parse(name, value)
        return self.reading.parsed[key]


def _bounded(name: str, value: str, cuts: Cuts) -> str:
    """A header value within the caps: first its length, then (for MIME parameter headers)
    its number of parameters."""
    if len(value) > MAX_HEADER_CHARS:
        cuts.long_headers += 1
        value = value[:MAX_HEADER_CHARS]
    if name.strip().lower() in _PARAMETER_HEADERS and value.count(";") > MAX_PARAMETERS:
        value = _fewer_parameters(value, cuts)
    return value


def _fewer_parameters(value: str, cuts: Cuts) -> str:
    """The value with at most MAX_PARAMETERS parameters: the ones read first, then the
    others in their order, all kept in their original order."""
    pieces: list[str] = _PARAMETER.findall(value)
    if value.lstrip().startswith(";") or not pieces:
        pieces.insert(0, "")  # no type before the first parameter
    head, parameters = pieces[0], pieces[1:]
    if len(parameters) <= MAX_PARAMETERS:
        return value
    read = [i for i, p in enumerate(parameters) if _parameter_name(p) in _READ_PARAMETERS]
    others = [i for i, p in enumerate(parameters) if _parameter_name(p) not in _READ_PARAMETERS]
    kept = sorted(read[:MAX_PARAMETERS] + others[: max(0, MAX_PARAMETERS - len(read))])
    cuts.parameters += len(parameters) - len(kept)
    return head + "".join(";" + parameters[i] for i in kept)


def _parameter_name(parameter: str) -> str:
    """ "filename*0*=utf-8''..." -> "filename"."""
    return parameter.split("=", 1)[0].strip().lower().split("*", 1)[0]
