"""When something happened or ends, as the agent reads it: in their time zone (else the desk's)
and their language. The search results' "updated", a token's issue and expiry, a roster week's
days: one spelling of a moment for the console's lists."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.config import settings
from chalicelib.models import Agent


def zone_of(agent: Agent) -> str:
    """The agent's zone, else the desk's."""
    return agent.timezone or settings().desk.timezone


def moment(when: datetime | None, tz: str, language: str) -> str:
    """ "23 Nov 2026, 16:40" in `tz` ("23 лист. 2026 р., 16:40" in Ukrainian); "" for None."""
    if when is None:
        return ""
    from babel.dates import format_datetime  # lazy: the webhook Lambda never loads Babel

    return format_datetime(when, "d MMM y, HH:mm", tzinfo=ZoneInfo(tz), locale=language)


def day(when: date, language: str) -> str:
    """ "Mon 23 Nov" ("пн 23 лист."): a day of a roster week."""
    from babel.dates import format_date

    return format_date(when, "EEE d MMM", locale=language)


def language_name(code: str) -> str:
    """A language in its own words ("українська", "English"), for a language picker."""
    from babel import Locale

    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]
