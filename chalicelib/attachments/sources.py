"""Where a messenger's file is fetched from, and whether it may be: a PENDING entry's `source`
(a Telegram file id, a Viber or Twilio media URL) turned into the file's bytes.

A fetch goes only where its provider keeps files, by a fixed rule, never wherever a payload
points: Telegram's file API (by file id, through `getFile`); Viber's media hosts, over https;
Twilio's API under this desk's own account, with its credentials, then the short-lived CDN
link Twilio redirects to (media behind "Enforce HTTP Auth" answers a GET with a redirect to a
link that works for 4 hours, on mms.twiliocdn.com). When the stage points a provider at the
local fakes (PROMPTLY_<PROVIDER>_API), URLs under that root are allowed too. A URL anywhere
else is refused with the reason and never requested: a forged or mangled payload must not
turn the desk into a client of hosts inside its own network (SSRF).

Failures come in two kinds: `Unfetchable` (no retry gets the file: gone, expired, refused,
too big for the provider) settles the entry with its reason; a retryable
`providers.ProviderError` (5xx, 429, a timeout) leaves it for the queue to try again;
`providers.TooLarge` says the body passed the caller's limit and was not read further.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

from chalicelib import outbox, providers, secrets
from chalicelib.attachments import files
from chalicelib.channels import telegram
from chalicelib.providers import ProviderError

# Viber keeps message media on dl-media.viber.com (a CloudFront link, signed, about an hour);
# a host starting with "." is a domain: any host under it.
VIBER_HOSTS = ("dl-media.viber.com", ".cdn.viber.com")
# Where api.twilio.com redirects a media GET: the CDN, or S3 (virtual-hosted, path-style,
# regional or the legacy s3-external-1) for media stored without auth. Not any *.amazonaws.com:
# that is anyone's API Gateway or EC2 host.
TWILIO_REDIRECT_HOSTS = (".twiliocdn.com", ".twilio.com")
S3_HOST = re.compile(
    r"(?:[a-z0-9][a-z0-9.-]*\.)?s3(?:-external-1|[.-](?:dualstack\.)?[a-z]{2}(?:-[a-z]+)+-\d)?\.amazonaws\.com"
)
# Twilio may announce media a moment before it can be fetched (a 404 that turns into the file
# seconds later): a 404 is waited out on the first tries and believed after that.
TWILIO_404_TRIES = 3
TWILIO_CHANNELS = ("sms", "whatsapp")


class Unfetchable(Exception):
    """No retry will get this file: its entry is settled as `state` (FAILED or REFUSED) with
    `reason`, in words an agent reads."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


def fetch(entry: files.FileEntry, limit: int) -> bytes:
    """The bytes of a PENDING entry's file, at most `limit` of them (TooLarge past that)."""
    provider, source = entry.get("provider", ""), entry.get("source", "")
    if provider == telegram.NAME:
        return _telegram(source, entry.get("size", 0), limit)
    if provider == "viber":
        return _viber(source, limit)
    if provider in TWILIO_CHANNELS:
        return _twilio(source, limit)
    raise Unfetchable(files.FAILED, f"the desk cannot fetch files from {provider or 'an unnamed channel'}")


def _telegram(file_id: str, size: int, limit: int) -> bytes:
    too_big = (
        f"Telegram lets bots download files up to 20 MB, and this one is {size / 1_000_000:.1f} MB: "
        "ask the customer to send it another way (e.g. by email)"
    )
    if size > telegram.MAX_DOWNLOAD_BYTES:
        raise Unfetchable(files.FAILED, too_big)
    try:
        path = telegram.get_file(file_id)
    except ProviderError as error:
        if error.retryable:
            raise
        if "too big" in str(error).lower():
            raise Unfetchable(files.FAILED, too_big) from None
        raise Unfetchable(files.FAILED, f"Telegram would not hand the file over ({error})") from None
    # the URL holds the bot token: nothing below quotes it
    found = providers.download(telegram.download_url(path), {}, limit)
    return _body(found, "telegram", "Telegram no longer has this file")


def _viber(url: str, limit: int) -> bytes:
    if not _allowed(url, "viber", VIBER_HOSTS):
        raise Unfetchable(files.REFUSED, f"not fetched: the media link is not on Viber's media hosts ({_where(url)})")
    found = _follow(url, {}, limit, lambda target: _allowed(target, "viber", VIBER_HOSTS))
    return _body(found, "viber", "Viber's link to this file has expired or is gone (Viber keeps media about an hour)")


def _twilio(url: str, limit: int) -> bytes:
    account = secrets.get("twilio_account_sid")
    if not _allowed(url, "twilio", ("api.twilio.com",), f"/2010-04-01/Accounts/{account}/"):
        raise Unfetchable(
            files.REFUSED, f"not fetched: the media link is not this desk's Twilio account ({_where(url)})"
        )
    token = secrets.get("twilio_auth_token")
    credentials = {"Authorization": "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()}
    found = _follow(url, credentials, limit, twilio_may_redirect)
    if found.status == 404 and outbox.receives() < TWILIO_404_TRIES:
        raise ProviderError("twilio answered 404 for media it just announced", status=404, retryable=True)
    return _body(found, "twilio", "Twilio has no such media: deleted, or never stored")


def twilio_may_redirect(url: str) -> bool:
    """Whether a media GET of api.twilio.com may be followed to `url` (its CDN or S3)."""
    host = (urlsplit(url).hostname or "").lower()
    hosts = (*TWILIO_REDIRECT_HOSTS, host) if S3_HOST.fullmatch(host) else TWILIO_REDIRECT_HOSTS
    return _allowed(url, "twilio", hosts)


def _follow(url: str, headers: Mapping[str, str], limit: int, may_go: Callable[[str], bool]) -> providers.Download:
    """GET `url`; a redirect is followed once, without `headers` (credentials stay with the
    host they are for), and only to where `may_go` allows."""
    found = providers.download(url, headers, limit)
    if found.status not in (301, 302, 303, 307, 308):
        return found
    target = urljoin(url, found.headers.get("Location", ""))
    if not may_go(target):
        raise Unfetchable(
            files.REFUSED, f"not fetched: the provider redirected to {_where(target)}, not its media host"
        )
    return providers.download(target, {}, limit)


def _body(found: providers.Download, provider: str, gone: str) -> bytes:
    """A 2xx body; 429 and 5xx retry (the provider's Retry-After kept); any other answer is final."""
    if 200 <= found.status < 300:
        return found.data
    try:
        providers.raise_for_status(provider, found.status, found.headers)
    except ProviderError as error:
        if error.retryable:
            raise
    if found.status in (403, 404, 410):
        raise Unfetchable(files.FAILED, f"{gone} (HTTP {found.status})")
    raise Unfetchable(files.FAILED, f"{provider.capitalize()} would not hand the file over (HTTP {found.status})")


def _allowed(url: str, provider: str, hosts: tuple[str, ...], path: str = "/") -> bool:
    """An https URL on one of `hosts` (".domain" for any host under it), on the default port,
    without credentials in it, under `path` (no ".." steps out of it); or a URL under the local
    fake's root, when the stage points the provider there."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if ".." in parts.path.split("/"):  # "/Accounts/<ours>/../<another>/" is not under ours
        return False
    local = providers.base_url(provider)
    if local != providers.DEFAULT_BASES[provider] and url.startswith(local + path):
        return True
    host = (parts.hostname or "").lower()
    on_host = any(host == name or (name.startswith(".") and host.endswith(name)) for name in hosts)
    return (
        parts.scheme == "https"
        and on_host
        and port in (None, 443)
        and parts.username is None
        and parts.path.startswith(path)
    )


def _where(url: str) -> str:
    """The host a refused URL names, for the agent (never its path: it may carry a signature)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "no host"
    except ValueError:
        return "not a URL"
