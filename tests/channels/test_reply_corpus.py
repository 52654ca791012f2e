"""The reply corpus: every case in tests/fixtures/replies/<lang>.toml, one test each, stores what
its `expected` says — the email body a real client wrote, reduced to what the customer wrote.
Also the data's shapes: a typo'd key in a pattern file or a fixture would otherwise match or
test nothing, silently."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from chalicelib.channels.email import html_to_text, strip_quoted
from chalicelib.channels.reply_text import PATTERNS_DIR, PatternFileError, read_pattern_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"
CLIENTS = {
    "Gmail",
    "Outlook desktop",
    "Outlook web",
    "Outlook mobile",
    "Apple Mail",
    "iOS Mail",
    "Thunderbird",
    "Yandex",
    "Mail.ru",
    "Zoho",
    "Android (Gmail app / Samsung)",
    "Yahoo",
    "Proton",
    "other",
}
REQUIRED = {"name", "client", "language", "expected"}
ALLOWED = REQUIRED | {"subject", "text", "html", "note"}
KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.toml"))


def _cases() -> list[Any]:
    found = []
    for path in _fixture_files():
        for case in tomllib.loads(path.read_text(encoding="utf-8")).get("case", []):
            found.append(pytest.param(case, id=f"{path.stem}:{case.get('name', '?')}"))
    return found


@pytest.mark.parametrize("case", _cases())
def test_the_stored_text_is_what_the_customer_wrote(case: dict[str, str]) -> None:
    text = html_to_text(case["html"]) if "html" in case else case["text"]
    stored = strip_quoted(text, case.get("subject", ""))
    assert stored.strip("\n") == case["expected"].strip("\n")


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda path: path.name)
def test_every_fixture_case_has_its_fields_and_a_unique_name(path: Path) -> None:
    cases = tomllib.loads(path.read_text(encoding="utf-8")).get("case")
    assert isinstance(cases, list) and cases, f"{path.name}: no [[case]]"
    names = [case.get("name") for case in cases]
    assert len(names) == len(set(names)), f"{path.name}: names repeat"
    for case in cases:
        name = case.get("name")
        assert set(case) >= REQUIRED, f"{path.name}:{name} lacks {REQUIRED - set(case)}"
        assert set(case) <= ALLOWED, f"{path.name}:{name} has unknown keys {set(case) - ALLOWED}"
        assert ("text" in case) != ("html" in case), f"{path.name}:{name}: exactly one of text, html"
        assert isinstance(name, str) and KEBAB.fullmatch(name), f"{path.name}:{name}: not kebab-case"
        assert case["client"] in CLIENTS, f"{path.name}:{name}: unknown client {case['client']!r}"
        assert path.stem == "mixed" or case["language"] == path.stem, f"{path.name}:{name}: language"
        assert all(isinstance(value, str) for value in case.values()), f"{path.name}:{name}: strings only"


@pytest.mark.parametrize("path", sorted(PATTERNS_DIR.glob("*.toml")), ids=lambda path: path.name)
def test_every_pattern_file_follows_the_schema(path: Path) -> None:
    assert read_pattern_file(path)  # raises PatternFileError naming the wrong key or value


@pytest.mark.parametrize(
    ("content", "wrong"),
    [
        ('language = "xx"\n[signatures]\nmobil = ["sent from my iphone"]\n', "signatures.mobil"),
        ('language = "xx"\n[header]\nfrom = ["from"]\n', "[header]"),
        ('language = "xx"\n[headers]\nfrom = "from"\n', "headers.from"),
        ('language = "yy"\n', "language"),
        ('language = "xx"\n[attribution]\nverbs = ["wrote", ""]\n', "attribution.verbs"),
    ],
)
def test_a_pattern_file_with_a_typo_is_refused_by_name(tmp_path: Path, content: str, wrong: str) -> None:
    path = tmp_path / "xx.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PatternFileError, match=re.escape(wrong)):
        read_pattern_file(path)
