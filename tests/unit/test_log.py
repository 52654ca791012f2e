"""Structured logs (chalicelib/log.py): a context key that names a LogRecord attribute is written
aside (`created` → `created_`) instead of raising KeyError, the failure that once lost every
inbound email on the local desk while the suite, logging at WARNING, passed. The suite logs at
INFO (tests/conftest.py), so these calls really format a line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from chalicelib import log


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logged() -> Iterator[list[dict]]:
    handler = Lines()
    handler.setFormatter(log.logger.registered_formatter)
    logging.getLogger("promptly").addHandler(handler)
    yield handler.lines
    logging.getLogger("promptly").removeHandler(handler)


def test_an_ordinary_context_is_logged_as_it_is():
    assert log.safe({"ticket_id": "PR-1", "outcome": "sent"}) == {"ticket_id": "PR-1", "outcome": "sent"}


@pytest.mark.parametrize(
    "key", ["created", "name", "message", "module", "msg", "args", "levelname", "asctime", "lineno", "process"]
)
@pytest.mark.parametrize("write", [log.info, log.warning, log.error])
def test_a_key_a_log_record_already_has_is_written_aside_not_raised(logged, write, key):
    write("unit layer: a reserved context key", **{key: 7}, ticket_id="PR-UNIT1")
    [line] = logged
    assert line[f"{key}_"] == 7
    assert line["ticket_id"] == "PR-UNIT1"
    assert line["message"] == "unit layer: a reserved context key"


def test_an_exception_is_logged_with_its_traceback_and_a_reserved_key_aside(logged):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("unit layer: failed", created=True)
    [line] = logged
    assert line["created_"] is True
    assert "RuntimeError: boom" in line["exception"]


def test_the_logged_line_names_the_caller_not_the_log_module(logged):
    log.info("unit layer: who called")
    [line] = logged
    assert line["location"].startswith("test_the_logged_line_names_the_caller_not_the_log_module:")
