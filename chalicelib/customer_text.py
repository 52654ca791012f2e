"""A customer's name and subject: typed by anyone, stored by intake, repeated back by the desk.

`clean` removes control and format characters at intake. A CR or LF in a name is header
injection to Python's email package, which refuses to build any mail addressed to that name
(every answer to the customer would fail); a bidi override (U+202E) makes a name read
backwards. Line breaks and tabs become one space; ZWJ/ZWNJ stay (they are spelling in Persian
and Indic names, and part of emoji).
"""
from __future__ import annotations

import unicodedata

KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ
DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs"))  # controls, format (bidi), lone surrogates


def clean(text: str) -> str:
    """`text` without control or format characters, on one line, with single spaces."""
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")  # CR, LF, tab, U+2028... : a line break in a name is a space
        elif char in KEPT_FORMAT_CHARACTERS or unicodedata.category(char) not in DROPPED_CATEGORIES:
            kept.append(char)
    return " ".join("".join(kept).split())
