"""Structured JSON logs (Powertools). Log ticket ids and outcomes, never bodies, addresses or
phone numbers.

Context goes in as keywords — `log.info("ticket opened", ticket_id=..., created=True)` — and never
as `extra=` by hand: Python raises KeyError for an `extra` key that names a LogRecord attribute
(`created`, `name`, `message`, `module`...), and only when that level is enabled. A handler that
logged `created=` at INFO once failed every inbound email on the local desk while every test,
logging at WARNING, passed. Here such a key is written with a trailing underscore (`created_`),
so no log call can break the code that makes it.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

logger = Logger(service="promptly")

# What a LogRecord already has (and what formatters add): keys a context may not use as they are.
RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_CALLER = 3  # the line that called info()/warning(), not this module, is the one logged


def safe(context: dict[str, object]) -> dict[str, object]:
    """The context with every reserved name moved aside (`created` → `created_`)."""
    return {f"{key}_" if key in RESERVED else key: value for key, value in context.items()}


def info(message: str, /, **context: object) -> None:
    logger.info(message, stacklevel=_CALLER, extra=safe(context))


def warning(message: str, /, **context: object) -> None:
    logger.warning(message, stacklevel=_CALLER, extra=safe(context))


def error(message: str, /, **context: object) -> None:
    logger.error(message, stacklevel=_CALLER, extra=safe(context))


def exception(message: str, /, **context: object) -> None:
    """An error with its traceback (call it inside `except`)."""
    logger.exception(message, stacklevel=_CALLER, extra=safe(context))
