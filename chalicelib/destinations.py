"""Where the desk may POST on its own: URLs that come from settings rather than from a provider's
fixed API — Slack incoming webhooks (a queue's `team_slack`, an agent's `slack_webhook`) and the
website's chat backend (`PROMPTLY_CHAT_REPLY_URL`).

Each must be https on a host listed in desk.toml `[destinations]`, so a typo, a wrong deploy
setting or a stolen admin token cannot aim the desk's requests — with customers' text in them —
at someone else's server or at the cloud's internal addresses. Hosts are compared exactly (no
wildcards, no suffixes: `hooks.slack.com.evil.example` is another host), on the URL as urllib3,
the library that sends, parses it. The local stage may also use loopback http, where its fake
providers listen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from chalicelib import stage
from chalicelib.errors import ProviderError

SLACK_HOSTS = ("hooks.slack.com",)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
_HOST = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # whitespace, control characters, backslashes


class NotAllowed(ValueError):
    """A URL the desk must not send to; the message names the setting and why."""


def host_name(text: str) -> str:
    """A host as desk.toml lists it: lower-case DNS name, nothing else (config validation)."""
    if not _HOST.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a host name like 'hooks.slack.com' (lower case; no scheme, port, path or wildcard)"
        )
    return text


def check(url: str, hosts: Iterable[str], *, what: str, loopback: bool = False) -> str:
    """`url` if the desk may POST to it, else NotAllowed saying why. `loopback`: plain http to
    this machine is fine too (the local stage only)."""
    if _UNSAFE.search(url):
        raise NotAllowed(f"{what}: spaces, control characters and backslashes are not allowed in the URL")
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise NotAllowed(f"{what}: not a URL") from None
    host = (parts.host or "").lower()
    if loopback and parts.scheme in ("http", "https") and host in LOOPBACK:
        return url
    if parts.scheme != "https":
        raise NotAllowed(f"{what} must be an https:// URL")
    if parts.auth:
        raise NotAllowed(f"{what} must not carry a user name or password")
    if parts.port not in (None, 443):
        raise NotAllowed(f"{what} must use the standard https port, not {parts.port}")
    allowed = tuple(hosts)
    if host not in allowed:
        raise NotAllowed(
            f"{what}: {host or 'no host'!r} is not an allowed host (allowed: "
            f"{', '.join(allowed) or 'none yet'}; see [destinations] in chalicelib/desk.toml)"
        )
    return url


def for_sending(url: str, hosts: Iterable[str], *, what: str, provider: str) -> str:
    """`check` at send time. A refusal is a permanent ProviderError: no retry can fix a setting,
    and retrying would only repeat the refusal until the dead-letter queue."""
    try:
        return check(url, hosts, what=what, loopback=stage.is_local())
    except NotAllowed as error:
        raise ProviderError(f"{provider}: {error}", retryable=False) from None
