"""A customer's name and subject: typed by anyone, stored by intake, repeated back by the desk.

Two dangers, handled at two depths:
- **Stored:** `clean` removes control and format characters at intake. A CR or LF in a name is
  header injection to Python's email package, which refuses to build any mail addressed to that
  name (every answer to the customer would fail); a bidi override (U+202E) makes a name read
  backwards. Line breaks and tabs become one space; ZWJ/ZWNJ stay (they are spelling in Persian
  and Indic names, and part of emoji).
- **Echoed:** the acknowledgement goes out without a person, to whatever address the form was
  given, so a spammer can put their advert in the name ("Visit cheap-pills.example") and let the
  desk deliver it from our domain. `echo_name`/`echo_subject` cap the text and drop it entirely
  when it contains a link or anything that reads like a domain: the acknowledgement then simply
  says "Hello," and leaves the subject out. The ticket keeps what the customer typed.
"""

from __future__ import annotations

import re
import unicodedata

NAME_ECHO_CHARS = 60
SUBJECT_ECHO_CHARS = 100
ELLIPSIS = "…"
KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ
DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs"))  # controls, format (bidi), lone surrogates
# A scheme ("https://", "hxxp://"), a dotted IPv4 address, or a dot between a letter or digit and
# two or more letters: "cheap-pills.example", "www.x.shop", "node.js" (a false positive costs
# only the echo). The dot may be one of the dots browsers accept in a domain (。．｡).
_DOT = "[.\u3002\uff0e\uff61]"
# Compiled on the first check (re caches it): the webhooks only clean text (intake), the
# acknowledgement that echoes it checks it; ~0.5 ms of every webhook's cold start otherwise.
_LINK = rf"[a-z][a-z0-9+.-]*://|\b\d{{1,3}}(?:{_DOT}\d{{1,3}}){{3}}\b|[^\W_]{_DOT}[^\W\d_]{{2,}}"


def clean(text: str) -> str:
    """`text` without control or format characters, on one line, with single spaces."""
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")  # CR, LF, tab, U+2028... : a line break in a name is a space
        elif char in KEPT_FORMAT_CHARACTERS or unicodedata.category(char) not in DROPPED_CATEGORIES:
            kept.append(char)
    return " ".join("".join(kept).split())


def has_link(text: str) -> bool:
    return re.search(_LINK, text, re.IGNORECASE) is not None


def echo_name(name: str) -> str:
    """The name an acknowledgement may greet: clean, at most NAME_ECHO_CHARS, no link ("" if so)."""
    return _echo(name, NAME_ECHO_CHARS)


def echo_subject(subject: str) -> str:
    """The subject an acknowledgement may quote: clean, at most SUBJECT_ECHO_CHARS, no link."""
    return _echo(subject, SUBJECT_ECHO_CHARS)


def _echo(text: str, limit: int) -> str:
    text = clean(text)
    if has_link(text):  # checked on the whole text: a cut could hide half a domain
        return ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
