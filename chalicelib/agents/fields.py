"""What a new agent, an agent's changes, an agent's own preferences and a duty roster may hold.

One set of pydantic models for both doors to the desk's people: the JSON API (chalicelib/api.py
validates its bodies with them) and the console's forms (chalicelib/console/agents_page.py,
roster_page.py, me_page.py build the same fields from a form and check them here), so the two
refuse the same input in the same words. What needs the desk's state (a queue or language the
desk has, the last active admin, who may do it) is chalicelib/agents/staff.py's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib import destinations
from chalicelib.config import Zone, settings
from chalicelib.http import pattern

EMAIL = pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "that is not an email address we can write to")


def _slack_webhook(url: str) -> str:
    """An agent's Slack webhook: https on a host desk.toml `[destinations] slack_hosts` lists."""
    try:
        return destinations.check(url, settings().destinations.slack_hosts, what="slack_webhook")
    except destinations.NotAllowed as error:
        raise ValueError(str(error)) from None


SlackWebhook = Annotated[str, AfterValidator(_slack_webhook)]


class Body(BaseModel):
    """Unknown fields refused, text trimmed; built on first use (a cold start builds none)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class NewAgent(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str = Field(max_length=254, pattern=EMAIL)
    role: str = "agent"
    queues: list[str] = Field(default_factory=list, max_length=50)
    language: str = Field(default="en", max_length=8)
    alert_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    slack_webhook: SlackWebhook | None = Field(default=None, max_length=500)
    telegram_chat: str | None = Field(default=None, max_length=64)


class AgentChanges(Body):
    # no `| None`: leaving a field out keeps it, but null is not a role, queue list, language or
    # flag; so the default (never validated, never dumped: exclude_unset) is a None the type does
    # not admit
    role: str = Field(default=None, max_length=20)  # type: ignore[assignment]  # None: see above
    queues: list[str] = Field(default=None, max_length=50)  # type: ignore[arg-type]  # None: see above
    active: bool = Field(default=None)  # type: ignore[assignment]  # None: see above
    language: str = Field(default=None, max_length=8)  # type: ignore[assignment]  # None: see above
    timezone: Zone | None = Field(default=None, max_length=64)  # null: the desk's zone
    alert_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    slack_webhook: SlackWebhook | None = Field(default=None, max_length=500)
    telegram_chat: str | None = Field(default=None, max_length=64)


class Preferences(Body):
    """What every agent sets for themselves: the console's language, the zone its times are
    shown in (null: the desk's), and the single-key shortcuts (off: keys only type)."""

    language: str = Field(max_length=8)
    timezone: Zone | None = Field(default=None, max_length=64)
    shortcuts: bool


class Roster(Body):
    agents: list[str] = Field(max_length=100)
