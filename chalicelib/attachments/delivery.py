"""Sending an answer's files to the customer, the way their channel takes them (`reach`): as
parts of the mail, uploaded to Telegram, fetched by Viber or Twilio from a presigned URL, or as
links in the text (SMS, chat).

Files that travel as messages of their own (Telegram, Viber, WhatsApp) are each a step of the
answer's job, after its text, with a `sent#<step>-file<N>` marker of its own written right after
the provider took it: a job redelivered after file 1 went out sends only file 2, and a provider
failure on file 2 retries file 2 alone. A file a provider refuses for good is logged, settled
(its marker written: no retry can change the answer) and the others still go.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from chalicelib import aws, outbox, stage
from chalicelib.attachments import customer_links, files, links, reach
from chalicelib.channels import telegram, twilio, viber
from chalicelib.channels.base import Outgoing
from chalicelib.mail import Attached
from chalicelib.providers import ProviderError

PROVIDER_FETCH_SECONDS = 3600  # a presigned GET Viber or Twilio fetches: they fetch as they send


def stored(raw: list[dict[str, Any]] | None) -> list[files.FileEntry]:
    """The files of an answer that are kept (the ones that can go)."""
    return [entry for entry in files.entries(raw) if entry.get("state") == files.STORED]


def mail_parts(entries: Sequence[files.FileEntry]) -> list[Attached] | None:
    """The files as a mail's attachments, their bytes read from S3; None when together they are
    over what a mail may carry (a messenger's answer also mailed: the mail gets links then)."""
    limit = reach.reach("email").max_total
    if limit is not None and sum(entry["size"] for entry in entries) > limit:
        return None
    return [Attached(entry["name"], entry["type"], read(entry)) for entry in entries]


def read(entry: files.FileEntry) -> bytes:
    body = aws.client("s3").get_object(Bucket=stage.files_bucket(), Key=entry["key"])["Body"]
    return bytes(body.read())


def link_lines(entries: Sequence[files.FileEntry], now: datetime) -> str:
    """A line per file: its name, size and the customer's link to it."""
    return "\n".join(
        f"📎 {entry['name']} ({_size(entry['size'])}): {customer_links.url(entry, now)}" for entry in entries
    )


def with_links(text: str, entries: Sequence[files.FileEntry], now: datetime, *, limit: int | None = None) -> str:
    """`text` and the links after it; with `limit` (characters a message may have: an SMS's
    1,600), the text is cut to make room, never the links: links that leave no room are a
    permanent ProviderError (the upload check, `reach.refusal`, keeps an answer from getting here)."""
    if not entries:
        return text
    lines = link_lines(entries, now)
    if limit is not None:
        room = limit - len(lines.encode("utf-16-le")) // 2 - 2  # counted as Twilio counts: UTF-16 units
        if room < 1:
            raise ProviderError(f"the links to {len(entries)} files take more than {limit} characters", retryable=False)
        text = twilio.truncate(text, room)
    return f"{text}\n\n{lines}"


def with_links_html(page: str | None, entries: Sequence[files.FileEntry], now: datetime) -> str | None:
    """The mail's HTML with the links as a list before its end (a mail too big for its files)."""
    if page is None:
        return None
    items = "".join(
        f'<li><a href="{html.escape(customer_links.url(entry, now))}">{html.escape(entry["name"])}</a>'
        f" ({_size(entry['size'])})</li>"
        for entry in entries
    )
    cut = page.rfind("</body>")
    return f"{page[:cut]}<ul>{items}</ul>{page[cut:]}" if cut >= 0 else f"{page}<ul>{items}</ul>"


def by_message(channel: str) -> bool:
    """Whether the channel's files go as messages of their own (else in the text or the mail)."""
    return reach.reach(channel).how in (reach.UPLOAD, reach.URL)


def send_files(step: str, message: Outgoing, entries: Sequence[files.FileEntry]) -> None:
    """Each file as a message of its own, once (see the module's docstring)."""
    for index, entry in enumerate(entries):
        file_step = f"{step}-file{index}"
        if outbox.already_sent(file_step):
            continue
        outbox.unless_refused(
            partial(_send_one, message, entry),
            "file refused for good",
            ticket_id=message.ticket_id,
            channel=message.channel,
            file=index,
        )
        outbox.mark_sent(file_step, message.ticket_id)


def _send_one(message: Outgoing, entry: files.FileEntry) -> str:
    picture = reach.is_picture(message.channel, entry["type"], entry["size"])
    if message.channel == "telegram":
        return telegram.send_file(message.address, entry["name"], entry["type"], read(entry), photo=picture)
    url = links.download_url(entry, seconds=PROVIDER_FETCH_SECONDS)
    if message.channel == "viber":
        return viber.send_file(message.address, entry["name"], url, entry["size"], picture=picture)
    return twilio.send_media(replace(message, text=entry["name"]), url)


def _size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"
