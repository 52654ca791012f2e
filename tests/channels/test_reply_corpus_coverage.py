"""What the reply corpus must cover before its passing means anything (issue 17): enough cases,
enough languages, every mail client agents will see, and a case for every language the pattern
data claims to read — a language with patterns but no case could be broken and nothing would say
so. tests/channels/test_reply_corpus.py checks each case; this checks that the cases are there."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

from chalicelib.channels.reply_text import FORWARDED_MARK, PATTERNS_DIR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"
MIN_CASES = 150
MIN_LANGUAGES = 15
# The clients the issue names, as the runner spells them.
MAJOR_CLIENTS = {
    "Gmail",
    "Outlook desktop",
    "Outlook web",
    "Outlook mobile",
    "Apple Mail",
    "Thunderbird",
    "Yandex",
    "Mail.ru",
    "Zoho",
    "Android (Gmail app / Samsung)",
    "iOS Mail",
}
# Languages the data reads that no fixture case is written in, each with why.
DATA_ONLY = {
    "ga": "Irish: Outlook's Irish labels only; no Irish mail from a real client to write a case from",
    "mt": "Maltese: Outlook's Maltese labels only; Maltese customers' clients mostly run in English",
}
# A language with this many cases is one the corpus claims to cover fully.
FULL_SET = 6


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(FIXTURES.glob("*.toml")):
        cases.extend(tomllib.loads(path.read_text(encoding="utf-8")).get("case", []))
    return cases


def _data_languages() -> set[str]:
    return {path.stem for path in PATTERNS_DIR.glob("*.toml") if path.stem != "clients"}


def test_the_corpus_has_enough_cases_in_enough_languages() -> None:
    cases = _cases()
    languages = {case["language"] for case in cases}
    assert len(cases) >= MIN_CASES, f"{len(cases)} cases, the issue asks for {MIN_CASES}"
    assert len(languages) >= MIN_LANGUAGES, f"{sorted(languages)}: the issue asks for {MIN_LANGUAGES}"


def test_every_major_client_writes_at_least_one_case() -> None:
    seen = {case["client"] for case in _cases()}
    assert MAJOR_CLIENTS - seen == set(), f"no case from {sorted(MAJOR_CLIENTS - seen)}"


def test_every_language_the_data_reads_has_a_case_or_says_why_not() -> None:
    with_cases = {case["language"] for case in _cases()}
    untested = _data_languages() - with_cases - set(DATA_ONLY)
    assert untested == set(), f"pattern files with no corpus case: {sorted(untested)}"


def test_the_data_only_list_is_true() -> None:
    """A language listed as data only that has gained cases, or lost its data file, is stale."""
    with_cases = {case["language"] for case in _cases()}
    assert set(DATA_ONLY) & with_cases == set(), "listed as data only but has cases"
    assert set(DATA_ONLY) <= _data_languages(), "listed as data only but has no pattern file"


def test_each_fully_covered_language_has_a_forward_and_a_kept_negative() -> None:
    """The two shapes that go wrong silently: a forward losing what was forwarded, and a
    customer's own header-like line or sign-off being cut."""
    cases = _cases()
    counts = Counter(case["language"] for case in cases)
    forwards = {case["language"] for case in cases if FORWARDED_MARK in case["expected"]}
    negatives = {
        case["language"]
        for case in cases
        if "text" in case and case["text"].strip("\n") == case["expected"].strip("\n")
    }
    full = {language for language, count in counts.items() if count >= FULL_SET}
    assert full - forwards == set(), f"no forward case in {sorted(full - forwards)}"
    assert full - negatives == set(), f"no case kept whole in {sorted(full - negatives)}"
