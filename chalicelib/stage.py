"""This deployment's environment: the stage, its resource names and every other setting the
process environment carries. The one module that reads `os.environ`.

`.chalice/config.json` sets the stage per stage; infra/stack.py sets the rest on deployed
functions, and tools/local.py on the local desk. Only PROMPTLY_STAGE is required, and a process
without it stops at start (app.py names its topic and queue at import). Every other variable is
optional: a resource name or a provider's public API when absent, or a channel's own setting
(its sender number, its reply URL) that only that channel's sends need. Those are read when
used, not cached, so tests and the local desk may point them at fakes after import.
"""

from __future__ import annotations

import os


class StageNotSet(RuntimeError):
    """PROMPTLY_STAGE is missing: the code cannot tell which stage's tables and secrets are its own."""


def name() -> str:
    """The stage this process serves. Required: a missing variable once meant `local`, so a tool
    run without it against real AWS looked for `promptly-local-*` tables and the local stage's
    secrets; now it stops at the first use (app.py names its topic and queue at import, so a
    Lambda without it fails at start, not on the first message)."""
    value = os.environ.get("PROMPTLY_STAGE", "").strip()
    if not value:
        raise StageNotSet(
            "PROMPTLY_STAGE is not set: name the stage this runs as (local, dev or prod). "
            ".chalice/config.json sets it for every stage; for a tool, e.g. "
            "PROMPTLY_STAGE=prod python -m tools.redrive"
        )
    return value


def is_local() -> bool:
    return name() == "local"


def resource(kind: str) -> str:
    """Stage-scoped resource name, e.g. resource("tickets") -> "promptly-dev-tickets"."""
    return f"promptly-{name()}-{kind}"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


def inbound_bucket() -> str:
    return os.environ.get("PROMPTLY_INBOUND_BUCKET") or resource("inbound")


def raw_mail_days() -> int | None:
    """Days the inbound bucket keeps raw mail (PROMPTLY_RAW_MAIL_DAYS, which infra/stack.py sets
    from the bucket's own expiry rule); None where nothing expires it (the local desk)."""
    value = os.environ.get("PROMPTLY_RAW_MAIL_DAYS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def archive_bucket() -> str:
    """The morning digests (`digests/<day>.json`, `.html`): the desk's history, kept for good,
    so not beside raw mail, which expires."""
    return os.environ.get("PROMPTLY_ARCHIVE_BUCKET") or resource("archive")


def files_bucket() -> str:
    """Attachments, one object per file under its ticket (chalicelib/attachments/): customers'
    files and agents' uploads; never in DynamoDB, never through a Lambda's response."""
    return os.environ.get("PROMPTLY_FILES_BUCKET") or resource("files")


def files_origin() -> str:
    """Where the files bucket's presigned links point (chalicelib/aws.py makes them so): its
    regional host on AWS, the embedded AWS's own locally. The console's CSP allows images
    from it and from nowhere else."""
    endpoint = aws_endpoint_url()
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return f"https://{files_bucket()}.s3.{region()}.amazonaws.com"


def outbox_queue() -> str:
    return resource("outbox")


# Functions SNS invokes asynchronously, and the queue where Lambda parks an event of theirs that
# failed every try (their on-failure destination, infra/stack.py); `make redrive` runs them again.
PARKED_QUEUES = {"inbound_email": "inbound-email-dlq", "ses_feedback": "ses-feedback-dlq"}


def dead_letters_of(function: str) -> str:
    return resource(PARKED_QUEUES[function])


def config_path(default: str) -> str:
    """The desk file (PROMPTLY_CONFIG), else `default` (chalicelib/desk.toml)."""
    return os.environ.get("PROMPTLY_CONFIG", default)


def local_secret(name: str) -> str | None:
    """A secret the environment carries (PROMPTLY_SECRET_<NAME>: the local stage and tests);
    None sends chalicelib/secrets.py to the stage's SSM parameter."""
    return os.environ.get(f"PROMPTLY_SECRET_{name.upper()}") or None


def provider_api(provider: str, default: str) -> str:
    """A messaging provider's API root: PROMPTLY_<PROVIDER>_API (the local fakes) or `default`."""
    return os.environ.get(f"PROMPTLY_{provider.upper()}_API", default).rstrip("/")


def chat_reply_url() -> str:
    """Where the website's chat backend takes our replies (PROMPTLY_CHAT_REPLY_URL); "" when this
    desk has no chat, and a chat reply then waits, retried, until an operator sets it."""
    return os.environ.get("PROMPTLY_CHAT_REPLY_URL", "")


def twilio_sender_variable(channel: str) -> str:
    """The variable naming our Twilio sender on `channel` ("sms" or "whatsapp")."""
    return "PROMPTLY_TWILIO_WHATSAPP_FROM" if channel == "whatsapp" else "PROMPTLY_TWILIO_SMS_FROM"


def twilio_sender(channel: str) -> str:
    """Our Twilio number (`+…`, or `whatsapp:+…`) on `channel`; "" when this desk has none there."""
    return os.environ.get(twilio_sender_variable(channel), "")


def aws_endpoint_url() -> str | None:
    """AWS_ENDPOINT_URL: the local desk's embedded AWS (moto server); None against real AWS."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def fake_providers_url() -> str | None:
    """PROMPTLY_FAKE_PROVIDERS_URL: the local desk's fake messaging providers, if it runs them."""
    return os.environ.get("PROMPTLY_FAKE_PROVIDERS_URL") or None


def public_url() -> str:
    """Base URL customers and providers reach the API at (links in messages)."""
    return os.environ.get("PROMPTLY_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def console_url(path: str = "") -> str:
    """An absolute URL of the agents' console (alerts, the digest and the console's own pages
    link with it): from the public URL, never the Host header of a request."""
    return f"{public_url()}/console{path}"


def ticket_page(ticket_id: str) -> str:
    """The console page of a ticket: what every alert about it links to (a GET that shows it and
    offers the Take button; it takes nothing by itself)."""
    return console_url(f"/t/{ticket_id}")


def public_urls() -> list[str]:
    """Every base URL providers may call the API at: `public_url()` first, then those listed in
    PROMPTLY_PUBLIC_URL_ALIASES (comma or space separated) — e.g. the API Gateway URL behind a
    custom domain, while a provider's console still names it. Twilio signs the URL it called."""
    aliases = os.environ.get("PROMPTLY_PUBLIC_URL_ALIASES", "").replace(",", " ").split()
    return list(dict.fromkeys([public_url(), *(alias.rstrip("/") for alias in aliases)]))


def ses_configuration_set() -> str:
    """Every outbound mail names it; it publishes bounces and complaints to the topic
    `resource("ses-feedback")` (infra/stack.py, infra/local.py)."""
    return resource("outbound")
