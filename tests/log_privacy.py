"""Every log line the suite makes, kept for one question: does any of them carry a customer's
address, phone number or words? (Logs carry ticket ids and outcomes; see chalicelib/log.py.)

The suite logs at INFO, the deployed stages' level, so every log call in the code runs. The
personal data to look for is read from the tests' own inputs: addresses and phone numbers
anywhere in tests/ and its fixtures, and the texts customers "wrote" in them.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from functools import lru_cache
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w.])\+\d{9,15}\b")
# ids that look like addresses but name a message, not a person
MESSAGE_ID_HOSTS = re.compile(r"@(?:[\w-]+\.)*(?:amazonses\.com|mail\.gmail\.com|promptly\.example>?)$")
TEXT_KEYS = {"text", "message", "Body", "caption", "comment", "body"}
MIN_TEXT = 12  # shorter strings ("Hello", "yes") are words, not anyone's message


class Collector(logging.Handler):
    """Keeps each record as Powertools formats it (message and context keys, as shipped)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []
        self._read = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception as error:  # noqa: BLE001 (a log call that cannot be formatted, for any reason, is itself a finding)
            self.lines.append(f"UNFORMATTABLE {record.getMessage()!r}: {error!r}")

    def fresh(self) -> list[str]:
        """The lines logged since the last call: each is read once, by the test that follows it."""
        lines, self._read = self.lines[self._read :], len(self.lines)
        return lines


def install() -> Collector:
    from chalicelib.log import logger

    collector = Collector()
    collector.setFormatter(logger.registered_formatter)
    logging.getLogger("promptly").addHandler(collector)
    return collector


@lru_cache(maxsize=1)
def personal_data() -> frozenset[str]:
    """Addresses, phone numbers and customer texts the tests feed the desk."""
    found: set[str] = set()
    for path in TESTS.rglob("*"):
        if (
            not path.is_file()
            or path.suffix not in {".py", ".json", ".eml", ".txt"}
            or path.name == Path(__file__).name
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found |= {a.lower() for a in ADDRESS.findall(text) if not MESSAGE_ID_HOSTS.search(a)}
        found |= set(PHONE.findall(text))
        found |= _texts(path, text)
    return frozenset(found)


def _texts(path: Path, text: str) -> set[str]:
    if path.suffix == ".json":
        try:
            return set(_json_texts(json.loads(text)))
        except ValueError:
            return set()
    if path.suffix == ".py":
        return set(_python_texts(text))
    return set()


def _json_texts(value: object, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _json_texts(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _json_texts(v, key)]
    return [value] if key in TEXT_KEYS and isinstance(value, str) and len(value) >= MIN_TEXT else []


def _python_texts(source: str) -> list[str]:
    """Strings the tests pass as a text: {"message": "…"}, text="…", and `text: str = "…"` defaults."""
    pairs: list[tuple[object, ast.AST]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            pairs += [(key.value, value) for key, value in zip(node.keys, node.values) if isinstance(key, ast.Constant)]
        elif isinstance(node, ast.keyword):
            pairs.append((node.arg, node.value))
        elif isinstance(node, ast.arguments):
            named = node.posonlyargs + node.args
            pairs += list(zip((a.arg for a in named[len(named) - len(node.defaults) :]), node.defaults))
            pairs += [(a.arg, d) for a, d in zip(node.kwonlyargs, node.kw_defaults) if d is not None]
    return [
        value.value
        for key, value in pairs
        if key in TEXT_KEYS
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
        and len(value.value) >= MIN_TEXT
    ]


def _readable(line: str) -> str:
    """The line with JSON's \\u escapes undone, so Cyrillic text is found as it was written."""
    try:
        return json.dumps(json.loads(line), ensure_ascii=False)
    except ValueError:
        return line


def leaks(lines: list[str]) -> list[str]:
    """The log lines that carry any of the personal data, with what they carry."""
    wanted = personal_data()
    bad = []
    for line in lines:
        lowered = _readable(line).lower()
        hits = sorted(item for item in wanted if item.lower() in lowered)
        if hits or line.startswith("UNFORMATTABLE"):
            bad.append(f"{hits}: {line[:300]}")
    return bad
