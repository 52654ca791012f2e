"""What the customer wrote in an email reply: their own lines, without the history they quote.

Rules, in priority order (README: "What the customer wrote"):
1. quoted blocks (runs of ">" lines) are removed wherever they are, with the attribution that
   introduces them ("On … wrote:"), and the customer's own lines between them are kept in order;
2. unprefixed history (an Outlook header block, "-----Original Message-----", an attribution
   followed by plain text) ends what is kept, unless it is a forward: then one FORWARDED_MARK
   line stands for the client's separator and the forwarded mail follows verbatim;
3. a "-- " signature is removed up to the end of its block, a client signature ("Sent from my
   iPhone") when it ends a block, a mailing list footer at the end;
4. if nothing is left, the whole text is returned: nothing the customer sent is lost.

The words of those markers are data, one file per language in reply_patterns/ (a reply's
language is not known in advance and customers mix), read once on first use into sets and a
few combined regexes. Every check is per line, anchored or bounded in length, so the work is
linear in the text whatever the sender puts in it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "FORWARDED_MARK",
    "PATTERNS_DIR",
    "PatternFileError",
    "is_forward_subject",
    "is_marker_line",
    "read_pattern_file",
    "strip_quoted",
]

FORWARDED_MARK = "---------- Forwarded message ----------"
PATTERNS_DIR = Path(__file__).with_name("reply_patterns")

# The keys a pattern file may have; anything else is a typo that would silently match nothing.
SCHEMA: Mapping[str, tuple[str, ...]] = {
    "attribution": ("verbs", "openers"),
    "headers": ("from", "sent", "to", "cc", "subject"),
    "separators": ("original", "forwarded", "forwarded_end"),
    "subject": ("forward_prefixes",),
    "signatures": ("mobile",),
}
HEADER_FIELDS = SCHEMA["headers"]

# Attributions, header lines and separators are short; a longer line is the customer's text.
# This also bounds every regex below that is not anchored at the line's start.
_MAX_MARKER_CHARS = 1000
_HEADER_LABEL_CHARS = 40  # "Envoyé le :", "Verzonden:": a header label sits this close to the start
_HEADER_BLOCK_LINES = 6  # "from" and a date or subject within this many lines make a header block
_ATTRIBUTION_LINES = 3  # Gmail wraps a long attribution over up to three lines
_FOOTER_LINES = 8  # a mailing list footer is this short
_MOBILE_CHARS = 200  # "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows"
_SHORT_LINE = 40  # the rest of a verb wrapped onto its own line ("écrit :") is this short

_DATE_OR_TIME = re.compile(r"\b(19|20)\d\d\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{1,2}:\d\d\b")
_DATE = re.compile(r"\b(19|20)\d\d\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")
# Gmail in Russian has no verb: "пт, 14 июн. 2024 г. в 12:00, Support <s@x.com>:".
# Wrapped after "<", the second line starts with the address: "support@x.com>:".
_ENDS_WITH_ADDRESS = re.compile(r"(?:^|<)[^<>\s@]{1,200}@[^<>\s]{1,200}>$")
_ADDRESS = re.compile(r"<[^<>\s@]{1,200}@[^<>\s]{1,200}>")
_STARTS_WITH_ADDRESS = re.compile(r"<?[^\s<>@]{1,200}@[^\s<>]{1,200}>")
# "Get Outlook for iOS<https://aka.ms/o0ukef>", Proton's "Sent with [Proton Mail](https://proton.me/) …"
_LINK = re.compile(r"<https?://[^<>\s]{0,500}>|\[https?://[^\[\]\s]{0,500}\]|\(https?://[^()\s]{0,500}\)|[\[\]]")
_SUBJECT_COUNTER = re.compile(r"[\[(]\d{1,4}[\])]$")  # "Re[2]:", "AW(3):"


class PatternFileError(ValueError):
    """A reply pattern file that is not what the schema says (a typo'd key would match nothing)."""


@dataclass(frozen=True)
class Patterns:
    """Every language's markers merged: a reply's language is not known in advance."""

    verbs: re.Pattern[str]  # matches a normalised line tail, reversed, that ends with an attribution verb
    verb_last_words: frozenset[str]  # the verbs' last words: a cheap test before the regex
    verb_inside: re.Pattern[str]  # a verb anywhere in a line (after an opener: "Am … schrieb Anna:")
    openers: re.Pattern[str]  # "on ", "am ", "w dniu " at the start of a normalised line
    opener_first_words: frozenset[str]  # a cheap test before `openers`
    labels: Mapping[str, frozenset[str]]  # header label as written → the fields it names
    label_chars: int  # the longest label: a colon further in ends no label
    one_line_header: re.Pattern[str]  # the labels after "From:" in "From: … Sent: … To: … Subject: …"
    original: frozenset[str]
    forwarded: frozenset[str]
    forwarded_end: frozenset[str]
    separator_first_words: frozenset[str]  # a cheap test before normalising a line
    separator_chars: int  # the longest separator's words: an undrawn line longer is none
    forward_prefixes: frozenset[str]
    mobile: frozenset[str]
    mobile_first_words: frozenset[str]  # a cheap test before normalising a line


# --------------------------------------------------------------------------- the data


def _norm(text: str) -> str:
    """Case and whitespace runs do not matter in any marker (the data's rule)."""
    return " ".join(text.split()).casefold()


def read_pattern_file(path: Path) -> dict[str, tuple[str, ...]]:
    """One pattern file as {"section.key": normalised strings}; PatternFileError names what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PatternFileError(f"{path.name}: cannot read: {exc}") from exc
    found: dict[str, tuple[str, ...]] = {}
    for section, body in raw.items():
        if section == "language":
            if not isinstance(body, str) or (path.stem != "clients" and body != path.stem):
                raise PatternFileError(f"{path.name}: language must be {path.stem!r}, not {body!r}")
            continue
        if section not in SCHEMA or not isinstance(body, dict):
            raise PatternFileError(f"{path.name}: unknown section [{section}] (known: language, {', '.join(SCHEMA)})")
        for key, values in body.items():
            if key not in SCHEMA[section]:
                raise PatternFileError(
                    f"{path.name}: unknown key {section}.{key} (known: {', '.join(SCHEMA[section])})"
                )
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise PatternFileError(f"{path.name}: {section}.{key} must be a list of non-empty strings")
            found[f"{section}.{key}"] = tuple(_norm(value) for value in values)
    return found


def _alternation(words: Iterable[str]) -> str:
    """Longest first, so "написал(а)" wins over "написал"; a never-matching group when empty."""
    ordered = sorted(set(words), key=lambda word: (-len(word), word))
    return "|".join(re.escape(word) for word in ordered) or "(?!)"


@cache
def _patterns() -> Patterns:
    """Read once per process, on the first reply: only the inbound email function pays for it."""
    merged: dict[str, set[str]] = {}
    for path in sorted(PATTERNS_DIR.glob("*.toml")):
        for key, values in read_pattern_file(path).items():
            merged.setdefault(key, set()).update(values)

    def words(key: str) -> frozenset[str]:
        return frozenset(merged.get(key, ()))

    labels: dict[str, set[str]] = {}
    for field in HEADER_FIELDS:
        for label in words(f"headers.{field}"):
            labels.setdefault(label, set()).add(field)
    verbs = words("attribution.verbs")
    later_labels = words("headers.sent") | words("headers.to") | words("headers.cc") | words("headers.subject")
    return Patterns(
        # Reversed and matched at the start: a search for "…verb$" tried every verb at every
        # space of the line (2.6 µs a line; the reversed match 0.3 µs).
        verbs=re.compile(rf"(?:{_alternation(verb[::-1] for verb in verbs)})(?:$|[^\w(])"),
        verb_last_words=frozenset(verb.rsplit(" ", 1)[-1] for verb in verbs),
        verb_inside=re.compile(rf"(?:^|[^\w(])(?:{_alternation(verbs)})(?:$|[^\w(])"),
        openers=re.compile(rf"(?:{_alternation(words('attribution.openers'))})\s"),
        opener_first_words=frozenset(opener.split(" ", 1)[0] for opener in words("attribution.openers")),
        labels={label: frozenset(fields) for label, fields in labels.items()},
        label_chars=max(map(len, labels), default=0),
        one_line_header=re.compile(rf"(?:^|[\s*])({_alternation(later_labels)})\s?\*?\s?:", re.IGNORECASE),
        original=words("separators.original"),
        forwarded=words("separators.forwarded"),
        forwarded_end=words("separators.forwarded_end"),
        separator_first_words=frozenset(
            text.split(" ", 1)[0]
            for text in words("separators.original") | words("separators.forwarded") | words("separators.forwarded_end")
        ),
        separator_chars=max(
            map(len, words("separators.original") | words("separators.forwarded") | words("separators.forwarded_end")),
            default=0,
        ),
        forward_prefixes=words("subject.forward_prefixes"),
        mobile=words("signatures.mobile"),
        mobile_first_words=frozenset(line.split(" ", 1)[0] for line in words("signatures.mobile")),
    )


# --------------------------------------------------------------------------- one line


def _is_quote(line: str) -> bool:
    return line.lstrip(" \t").startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_signature_delimiter(line: str) -> bool:
    return line in ("-- ", "--")  # "-- " per RFC 3676; some paths eat the space


def _is_rule(line: str) -> bool:
    """Outlook's "________" above a header block, a "-----" line: drawn, never written."""
    stripped = line.strip()
    return len(stripped) >= 2 and not stripped.strip("-_=*")


def _separator_text(line: str, patterns: Patterns) -> str | None:
    """ "---- Forwarded Message ----" → "forwarded message"; None for lines no separator looks like."""
    stripped = line.strip()
    if len(stripped) > _MAX_MARKER_CHARS or not stripped:
        return None
    if stripped[0] not in "-_=*" and not (stripped.endswith(":") and len(stripped) <= patterns.separator_chars + 4):
        return None  # "Begin forwarded message:" ends with a colon; the others are drawn with dashes
    text = stripped.strip("-_=* \t").rstrip(":")
    first = text.split(None, 1)
    if not first or first[0].casefold() not in patterns.separator_first_words:
        return None
    return _norm(text)


def _header_field(line: str, patterns: Patterns) -> tuple[frozenset[str], str] | None:
    """ "*De :* Anna" → ({"from"}, "Anna"): the fields this label names and the value after it."""
    colon = line.find(":", 0, min(_HEADER_LABEL_CHARS, patterns.label_chars + 6))  # "*De :*", "  Von:"
    if colon < 1 or len(line) > _MAX_MARKER_CHARS:
        return None
    label = line[:colon].strip(" \t*").casefold()
    fields = patterns.labels.get(label) or patterns.labels.get(" ".join(label.split()))
    if fields is None:
        return None
    return fields, line[colon + 1 :].strip(" \t*")


def _is_mobile_signature(line: str, patterns: Patterns) -> bool:
    """ "Sent from my iPhone", "Get Outlook for iOS<https://aka.ms/o0ukef>", "Envoyé de mon iPad." """
    if len(line) > _MOBILE_CHARS:
        return False
    first = line.split(None, 1)
    if not first or first[0].casefold() not in patterns.mobile_first_words:
        return False
    text = _norm(_LINK.sub(" ", line)).rstrip(".!")
    return bool(text) and text in patterns.mobile


@dataclass(frozen=True)
class _AttributionEnd:
    colon: bool  # "… wrote:" rather than "… wrote"
    framed: bool  # "---- On … wrote ----" (Zoho), "---- Anna wrote ----" (Android)
    by_verb: bool  # ends with a verb, not just with "<address>:"
    weak: bool = False  # the verb inside, no opener, no address: believed only right above a quote


def _attribution_end(line: str, patterns: Patterns, quote_follows: bool = True) -> _AttributionEnd | None:
    """Whether `line` could be the last line of an attribution ("… wrote:", "… <a@x.com>:");
    `quote_follows` lets a verb inside a line with no opener and no address count."""
    if len(line) > _MAX_MARKER_CHARS:
        return None
    stripped = line.strip()
    framed = stripped.startswith("--") and stripped.endswith("--")
    tail = stripped.rstrip("- \t")
    colon = tail.endswith(":")
    tail = tail.rstrip(": \t")
    if not tail:
        return None
    if tail.rsplit(None, 1)[-1].casefold() in patterns.verb_last_words and patterns.verbs.match(
        _norm(tail[-120:])[::-1]
    ):
        return _AttributionEnd(colon=colon, framed=framed, by_verb=True)
    if colon and tail.endswith(">") and _ENDS_WITH_ADDRESS.search(tail[-420:]):
        return _AttributionEnd(colon=True, framed=framed, by_verb=False)
    if not colon:
        return None
    # The verb inside: "Am 03.06.24 um 10:15 schrieb Anna Schmidt:" (German, Dutch Thunderbird),
    # "Anna <a@x.com> kirjutas kuupäeval E, 3. juuni 2024 kell 10:15:" (Estonian, Hungarian Gmail)
    weak = "@" not in tail and not _opens(stripped, patterns)
    if (quote_follows or not weak) and patterns.verb_inside.search(_norm(tail)):
        return _AttributionEnd(colon=True, framed=framed, by_verb=True, weak=weak)
    return None


def _opens(line: str, patterns: Patterns) -> bool:
    """Whether `line` starts with an attribution's opener word ("On", "Am", "Le", "W dniu")."""
    text = line.lstrip("-* \t")
    first = text.split(None, 1)
    return (
        bool(first)
        and first[0].casefold() in patterns.opener_first_words
        and bool(patterns.openers.match(_norm(text) + " "))
    )


def is_marker_line(line: str) -> bool:
    """True if this line alone could be (part of) a quote, history, forward or signature marker.

    What the property tests use to write customer lines that the rules must never touch.
    """
    patterns = _patterns()
    text = _separator_text(line, patterns)
    return (
        _is_quote(line)
        or _is_signature_delimiter(line)
        or _is_rule(line)
        or (text is not None and text in patterns.original | patterns.forwarded | patterns.forwarded_end)
        or _header_field(line, patterns) is not None
        or _is_mobile_signature(line, patterns)
        or _attribution_end(line, patterns) is not None
        or _opens(line, patterns)
        or "mailing list" in line.casefold()
    )


def is_forward_subject(subject: str, patterns: Patterns | None = None) -> bool:
    """ "Fwd: x", "RE: TR: x", "WG: x", "Пересл: x": the subject says the mail forwards another."""
    patterns = patterns or _patterns()
    rest = subject
    for _ in range(6):  # "Re: Re: Fwd:" — real prefixes stack a few deep, never more
        head, colon, rest = rest.partition(":")
        if not colon:
            return False
        word = _SUBJECT_COUNTER.sub("", _norm(head).strip("[]() "))
        if not word or len(word) > 12 or " " in word:
            return False
        if word in patterns.forward_prefixes:
            return True
    return False


# --------------------------------------------------------------------------- the reply

_FIRST_CHARS = frozenset(" \t>-_=*")  # a quote, an indented quote, a drawn separator, "-- "
_LAST_CHARS = frozenset(": \t-")  # "… wrote:", "… <a@x.com>:", "---- … wrote ----"


def _candidates(lines: list[str]) -> list[int]:
    """The lines that may be markers; the others are the customer's for sure and are kept in
    runs. One cheap test a line keeps a 1 MB reply within its time budget."""
    label = _HEADER_LABEL_CHARS
    return [
        i
        for i, line in enumerate(lines)
        if line and (line[0] in _FIRST_CHARS or line[-1] in _LAST_CHARS or ":" in line[:label])
    ]


class _Reply:
    """One pass over the lines; `out` is what is kept, `src` the input line each one came from."""

    def __init__(self, lines: list[str], patterns: Patterns, forward_subject: bool) -> None:
        self.lines = lines
        self.p = patterns
        self.forward_subject = forward_subject
        self.out: list[str] = []
        self.src: list[int] = []
        self.block_start = 0  # where the current customer block begins in `out`
        self.seam_blank: str | None = None  # a blank line seen at the last seam (one is kept)
        self.in_signature = False
        self.attributed_quote = -1  # the quote an attribution just introduced: a reply's, never a forward

    def run(self) -> list[str]:
        lines, i = self.lines, 0
        for c in _candidates(lines):
            if c < i:
                continue  # inside a quote or an attribution already read
            if i < c:
                self._plain(i, c)
            if lines[c].lstrip(" \t")[:1] == ">":  # a quote (inlined: the hottest test)
                self._attribution_before_quote(c)
                if self._quoted_forward(c):
                    break
                self._end_block()
                i = c + 1
                while i < len(lines) and lines[i].lstrip(" \t")[:1] == ">":
                    i += 1
                continue
            step = self._marker(c)
            if step is None:
                i = c  # the customer's: kept with the plain lines after it
            elif step < 0:
                break  # history: nothing after it is the customer's new text
            else:
                i = step
        else:
            self._plain(i, len(lines))
            self._end_block(final=True)
        while self.out and _is_blank(self.out[-1]):
            self.out.pop()
        return self.out

    # -- lines the customer wrote

    def _plain(self, start: int, stop: int) -> None:
        """Keep lines[start:stop], the customer's: no marker among them (but maybe "-- ")."""
        lines = self.lines
        if self.in_signature or start >= stop:
            return
        if len(self.out) == self.block_start:  # a block's leading blank lines are its seam's
            while start < stop and _is_blank(lines[start]):
                self.seam_blank = self.seam_blank if self.seam_blank is not None else lines[start]
                start += 1
            if start == stop:
                return
            if self.out and self.seam_blank is not None:
                self._keep(self.seam_blank, -1)
            self.seam_blank = None
        if _is_signature_delimiter(lines[start]):
            self.in_signature = True
            return
        self.out.extend(lines[start:stop])
        self.src.extend(range(start, stop))

    def _attribution_before_quote(self, k: int) -> None:
        """ "… wrote" without a colon is no candidate line: it is read when its quote comes."""
        last = len(self.out) - 1
        while last >= self.block_start and _is_blank(self.out[last]):
            last -= 1
        if last < self.block_start:
            return
        words = self.out[last].rsplit(None, 1)
        j = self.src[last]
        if words and words[-1].casefold() in self.p.verb_last_words and j >= 0:
            self._attribution(j)

    def _keep(self, line: str, source: int) -> None:
        self.out.append(line)
        self.src.append(source)

    def _pop(self) -> str:
        self.src.pop()
        return self.out.pop()

    def _end_block(self, final: bool = False) -> None:
        """A quote, history or the end follows: drop what only closed the block (blank lines, a
        client signature as its last line, the rule above a header, a list footer at the end)."""
        out = self.out
        while len(out) > self.block_start:
            last = out[-1]
            if not last.strip():
                self.seam_blank = self.seam_blank if self.seam_blank is not None else last
            elif not (
                _is_mobile_signature(last, self.p) or (not final and last.lstrip()[:1] in "-_=*" and _is_rule(last))
            ):
                break
            self._pop()
        if final:
            self._drop_list_footer()
        self.block_start = len(self.out)
        self.in_signature = False

    def _drop_list_footer(self) -> None:
        """Mailman's "____…" rule, then "<list> mailing list", its address and URL, at the end."""
        start = max(self.block_start, len(self.out) - _FOOTER_LINES)
        for k in range(start, len(self.out) - 1):
            line = self.out[k].strip()
            if (
                len(line) >= 10
                and not line.strip("_")
                and "mailing list" in " ".join(self.out[k + 1 : k + 3]).casefold()
            ):
                del self.out[k:], self.src[k:]
                while len(self.out) > self.block_start and _is_blank(self.out[-1]):
                    self._pop()
                return

    # -- markers

    def _marker(self, i: int) -> int | None:
        """None for a customer line; else where to go on (-1: stop, the rest is history)."""
        line = self.lines[i]
        text = _separator_text(line, self.p)
        if text is not None and text in self.p.forwarded:
            return self._forward(i + 1)
        if text is not None and text in self.p.original:
            return self._forward(i + 1) if self.forward_subject else self._history()
        if self._is_header_block(i):
            return self._forward(i) if self.forward_subject else self._history()
        return self._attribution(i)

    def _is_header_block(self, i: int) -> bool:
        """ "From:" and another field within a few lines, in any order (Hotmail starts with "Date:"),
        or "From: … Sent: …" on one line."""
        first = _header_field(self.lines[i], self.p)
        if first is None:
            return False
        fields, value = first
        if "from" in fields and value and self._one_line(value):
            return True
        seen: set[str] = set()
        has_from = False
        for line in self.lines[i : i + _HEADER_BLOCK_LINES]:
            if _is_blank(line):
                continue
            field = _header_field(line, self.p)
            if field is None:
                break
            has_from = has_from or ("from" in field[0] and bool(field[1]))
            seen |= field[0]
        # Every client's block has a date or a subject: "From: Kyiv / To: Lviv" is a customer's
        return has_from and bool(seen & {"sent", "subject"})

    def _one_line(self, value: str) -> bool:
        """ "From: Anna Sent: Monday To: Bob Subject: x" (a client that lost the line breaks): two
        more fields, one of them a date or a subject — "From: Bob, date: unknown" is a sentence."""
        fields: set[str] = set()
        for label in self.p.one_line_header.finditer(value):
            fields |= self.p.labels.get(_norm(label.group(1)), frozenset())
        return len(fields) >= 2 and bool(fields & {"sent", "subject"})

    def _attribution(self, j: int) -> int | None:
        """If line j ends an attribution: remove it (and its wrapped first lines) and say where to
        go on — the quote it introduces, or -1 when plain text (unprefixed history) follows it.

        Errs toward keeping a customer line: a leftover attribution fragment is cosmetic, a lost
        sentence is not."""
        k = j + 1
        while k < len(self.lines) and _is_blank(self.lines[k]):
            k += 1
        quote_follows = k < len(self.lines) and _is_quote(self.lines[k])
        end = _attribution_end(self.lines[j], self.p, quote_follows) or self._verb_wrapped(j, quote_follows)
        if end is None:
            return None
        start = self._attribution_start(j, end)
        if start is None:
            return None
        joined = " ".join(self.lines[start : j + 1])
        # Plain text after it makes it history: only believed of a dated or addressed line
        # ("On Monday at 10:15 I wrote:" may open the customer's own paragraph).
        if not quote_follows and (
            end.weak or not (end.framed or "@" in joined or (end.colon and _DATE.search(joined)))
        ):
            return None
        while self.src and self.src[-1] >= start:
            self._pop()
        if quote_follows:
            self.attributed_quote = k
            return k
        if k >= len(self.lines):
            return k  # nothing after it: the attribution alone goes
        return self._history()

    def _verb_wrapped(self, j: int, quote_follows: bool) -> _AttributionEnd | None:
        """Gmail wraps inside the verb too: "… <support@x.com> a" / "écrit :"."""
        line, previous = self.lines[j].strip(), self.lines[j - 1] if j > 0 else ""
        if not line.endswith(":") or len(line) > _SHORT_LINE or _is_blank(previous) or _is_quote(previous):
            return None
        return _attribution_end(f"{previous.rstrip()} {line}", self.p, quote_follows)

    def _attribution_start(self, j: int, end: _AttributionEnd) -> int | None:
        """The first line of the attribution that ends on line j, or None if it is no attribution."""
        lines = self.lines
        for i in range(j, max(j - _ATTRIBUTION_LINES, -1), -1):
            if i < j and (_is_blank(lines[i]) or _is_quote(lines[i]) or len(lines[i]) > _MAX_MARKER_CHARS):
                break
            if _opens(lines[i], self.p):
                joined = " ".join(part.strip() for part in lines[i : j + 1])
                if "@" in joined or _DATE_OR_TIME.search(joined):
                    return i
        line = lines[j].strip()
        if end.framed and end.by_verb:
            return j
        # No opener word (Russian, Ukrainian Gmail): when the wrap split the address, the dated
        # first half "… 10:15 Support <" sits on the line before.
        previous = lines[j - 1].strip() if j > 0 and len(lines[j - 1]) <= _MAX_MARKER_CHARS else ""
        split_address = previous.endswith("<") or _STARTS_WITH_ADDRESS.match(line)
        if split_address and _DATE.search(previous) and not _DATE.search(line) and not _is_quote(lines[j - 1]):
            return j - 1
        # Verb-last languages (Turkish, Hungarian Gmail) wrap after the name and address:
        # "Support <s@x.com>, 5 Haz 2024 Çar," / "14:02 tarihinde şunu yazdı:".
        if end.by_verb and "@" not in line and _DATE.search(previous) and _ADDRESS.search(previous):
            return j - 1
        if _DATE_OR_TIME.search(line) or (end.by_verb and "@" in line):
            return j
        return None

    # -- history and forwards

    def _quoted_forward(self, c: int) -> bool:
        """Apple Mail's HTML puts "Begin forwarded message:" inside the quote: a quote that starts
        with a forward separator, in a mail whose subject says forward and with no attribution
        above it (a reply quoting an old forward has one), is the forwarded mail."""
        if not self.forward_subject or c == self.attributed_quote:
            return False
        text = _separator_text(self.lines[c].lstrip(" \t>"), self.p)
        if text is None or text not in self.p.forwarded:
            return False
        self._forward(c + 1)
        return True

    def _history(self) -> int:
        self._end_block()
        return -1

    def _forward(self, content: int) -> int:
        """The note above stays; FORWARDED_MARK stands for the client's separator line (or heads
        the forwarded header block); the forwarded mail follows as written."""
        self._end_block()
        self.in_signature = False
        self._customer_line_text(FORWARDED_MARK)
        forwarded = self.lines[content:]
        while forwarded and _is_blank(forwarded[-1]):
            forwarded.pop()
        end = _separator_text(forwarded[-1], self.p) if forwarded else None
        if end is not None and end in self.p.forwarded_end:
            forwarded.pop()
        for offset, line in enumerate(forwarded):
            self._keep(line, content + offset)
        return -1  # nothing in the forwarded mail is stripped

    def _customer_line_text(self, line: str) -> None:
        if self.out and self.seam_blank is not None:
            self._keep(self.seam_blank, -1)
        self.seam_blank = None
        self._keep(line, -1)


def strip_quoted(text: str, subject: str = "") -> str:
    """The customer's own text of an email body (the rules: this module's docstring).

    `subject` tells a forward ("Fwd:", "TR:", "WG:"…) from a reply when an Outlook header block
    starts the history. Returns the whole text if stripping would leave nothing. Lines end
    with "\n" in what is returned, whatever the mail used.
    """
    patterns = _patterns()
    text = text.replace("\r\n", "\n")
    kept = _Reply(text.split("\n"), patterns, is_forward_subject(subject, patterns)).run()
    stripped = "\n".join(kept)
    return stripped if stripped.strip() else text
