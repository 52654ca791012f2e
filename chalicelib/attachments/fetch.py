"""The fetch job: a customer's messenger files (Telegram, Viber, Twilio MMS and WhatsApp) brought
from the provider into S3, because the providers' links expire (Telegram's in an hour, Viber's
in about one) or need the account's credentials (Twilio's).

Intake lists each such file as a PENDING entry on its message and queues `fetch_files` once the
message is stored. The job settles every pending entry, each on its own: STORED (kept by
`files.keep`, within the desk's caps, at the entry's own index), REFUSED (over a cap, a link
the desk does not follow) or FAILED (the provider says the file is gone, expired or too big
for it) with the reason an agent reads. A provider that is down or slow leaves the entry
pending and the job is retried by the queue (`outbox.handle`'s backoff); on the job's last
try the entry becomes FAILED instead, so no file stays "pending" for ever.

Idempotent: each entry is written back by itself, on the condition that the message's list is
still the one it read, and only while that entry is pending; a write that loses a race reads
the message again. A redelivered job finds the entries it settled already and fetches nothing
twice; two copies of the job running at once may both download a file, but only one settles
it (the other's bytes went to the same S3 key, named by their hash).
"""

from __future__ import annotations

from typing import Any

from chalicelib import log, outbox, providers, transient, writes
from chalicelib.attachments import files, sources
from chalicelib.config import settings
from chalicelib.job_kinds import FetchFilesJob
from chalicelib.models import Message

JOB_SECONDS = 20.0  # no new file is started after this (the worker has 30 s); a new job goes on
RECORD_TRIES = 5  # writes of one entry that lost to a concurrent write of another
PROVIDER_NAMES = {"telegram": "Telegram", "viber": "Viber", "sms": "Twilio", "whatsapp": "Twilio"}  # by channel


def fetch_files(job: FetchFilesJob) -> None:
    """Fetch, keep and record each pending file of the job's message. Raises (so the queue tries
    again later) when a provider failed in a way a retry may fix, after settling the rest."""
    try:
        message = Message.get(job["ticket_id"], job["message_key"], consistent_read=True)
    except Message.DoesNotExist:
        log.warning("fetch job for a message not stored", ticket_id=job["ticket_id"])
        return
    entries = files.entries(message.attachments)
    budget = _budget(entries)
    deadline = transient.Deadline(JOB_SECONDS)
    waiting: Exception | None = None
    tried = 0
    for index, entry in enumerate(entries):
        if entry.get("state") != files.PENDING:
            continue
        if tried and deadline.left() <= 0:  # every run settles a file at least: no endless relay
            if waiting is None:
                outbox.enqueue(job)  # the rest, in a job of its own: what is settled stays settled
            break
        tried += 1
        settled, error = _attempt(message, index, entry, budget)
        if settled is None:
            waiting = waiting or error
            continue
        _record(message, index, settled)
    if waiting is not None:
        raise waiting


def _attempt(
    message: Message, index: int, entry: files.FileEntry, budget: files.Budget
) -> tuple[files.FileEntry | None, Exception | None]:
    """(the settled entry, None); or (None, the error) while a retry may still get the file."""
    try:
        return _settled(message, index, entry, budget), None
    except Exception as error:  # noqa: BLE001 - one file's trouble must not hold up the others
        if not outbox.last_try():
            log.info("file not fetched yet", ticket_id=message.ticket_id, index=index, error=_code(error))
            return None, error
        log.warning("file given up", ticket_id=message.ticket_id, index=index, error=_code(error))
        return _given_up(entry, error), None


def _settled(message: Message, index: int, entry: files.FileEntry, budget: files.Budget) -> files.FileEntry:
    """The entry once its file is fetched and kept, or refused or failed for good."""
    caps = budget.caps
    declared = entry.get("size", 0)
    if declared > caps.max_file_bytes:  # the provider said so: not a byte fetched
        return _final(entry, files.REFUSED, files.Budget(caps).admit(declared) or "")
    try:
        data = sources.fetch(entry, caps.max_file_bytes)
    except sources.Unfetchable as refusal:
        return _final(entry, refusal.state, refusal.reason)
    except providers.TooLarge:
        return _final(entry, files.REFUSED, f"over the {caps.max_file_mb} MB a file may be (not read past that)")
    kept = files.keep(
        message.ticket_id,
        message.message_id,
        index,
        name=entry.get("name", "file"),
        declared=entry.get("declared") or entry.get("type", ""),
        data=data,
        budget=budget,
    )
    kept["provider"] = entry.get("provider", "")
    return kept


def _budget(entries: list[files.FileEntry]) -> files.Budget:
    """The message's caps, with what it keeps already counted (a retried job's own files too)."""
    budget = files.Budget(settings().attachments)
    for entry in entries:
        if entry.get("state") == files.STORED:
            budget.count += 1
            budget.total += entry.get("size", 0)
    return budget


def _final(entry: files.FileEntry, state: str, reason: str) -> files.FileEntry:
    """A file not kept, with why; the provider's reference is dropped (it expires, and
    Twilio's needs the account's credentials)."""
    return files.listed(
        name=entry.get("name", "file"),
        declared=entry.get("declared", ""),
        size=entry.get("size", 0),
        state=state,
        reason=reason,
        provider=entry.get("provider", ""),
    )


def _given_up(entry: files.FileEntry, error: Exception) -> files.FileEntry:
    provider = PROVIDER_NAMES.get(entry.get("provider", ""), "the provider")
    return _final(
        entry,
        files.FAILED,
        f"not fetched: {provider} kept failing for {outbox.outage_tolerated() // 60} minutes ({_code(error)})",
    )


def _record(message: Message, index: int, settled: files.FileEntry) -> None:
    """Write `settled` over the entry at `index` while it is pending, conditioned on the list
    being the one read (a JSON text compared whole); a lost race reads the message again. An
    entry no longer pending was settled by another run of the job: its write stands."""
    for _ in range(RECORD_TRIES):
        listed: list[dict[str, Any]] = list(message.attachments or [])
        if index >= len(listed) or listed[index].get("state") != files.PENDING:
            log.info("file settled by another run", ticket_id=message.ticket_id, index=index)
            return
        updated = [*listed[:index], dict(settled), *listed[index + 1 :]]
        if writes.update_if(
            message, [Message.attachments.set(updated)], Message.attachments == listed, add_version_condition=False
        ):
            log.info("file settled", ticket_id=message.ticket_id, index=index, state=settled.get("state"))
            return
        message.refresh(consistent_read=True)
    raise transient.TransientError("the message's files kept changing under the fetch job")


def _code(error: Exception) -> str:
    """What went wrong, for a log line and a reason: a provider's status, an AWS code, a class."""
    status = getattr(error, "status", None)
    if isinstance(error, providers.ProviderError) and status:
        return f"HTTP {status}"
    return transient.code(error)
