"""The console's words in each desk language: one catalog per language, kept as a few files per
part of the console (`chalicelib/console/words/<lang>/<part>.toml`, flat `key = "text"`, keys
unique across parts), one template per page.

Pages are written once (`templates/console/<page>.html`) and say `{{ t.queue_mine }}`; only the
words differ between languages, so a change to a page's markup is one edit, not three. A key
missing in a language falls back to English (tests/console/test_words.py keeps the catalogs'
keys equal, so that happens only to a desk that adds a language of its own).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

WORDS_DIR = Path(__file__).resolve().parent / "words"
FALLBACK = "en"


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The words of `language` (English for any key or language it lacks); read once per process."""
    base = _read(FALLBACK)
    if language == FALLBACK or not (WORDS_DIR / language).is_dir():
        return MappingProxyType(base)
    return MappingProxyType({**base, **_read(language)})


def _read(language: str) -> dict[str, str]:
    words: dict[str, str] = {}
    for part in sorted((WORDS_DIR / language).glob("*.toml")):
        with part.open("rb") as source:
            words.update({str(key): str(value) for key, value in tomllib.load(source).items()})
    return words


def parts(language: str) -> dict[str, dict[str, str]]:
    """Each part's words as written (for the tests that keep the catalogs in step)."""
    found: dict[str, dict[str, str]] = {}
    for part in sorted((WORDS_DIR / language).glob("*.toml")):
        with part.open("rb") as source:
            found[part.stem] = {str(key): str(value) for key, value in tomllib.load(source).items()}
    return found


def languages() -> list[str]:
    return sorted(path.name for path in WORDS_DIR.iterdir() if path.is_dir())
