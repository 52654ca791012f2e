"""The morning digest's mailing: the hourly schedule, the S3 archive and one email per reader.

run(now)      the hourly schedule: from the desk's digest hour on, send the previous local day
send(day)     compute, archive `digests/<day>.json` and `.html`, refresh the usual wait, queue
              one email per admin and lead; once per day (the `digest#<day>` key), so a
              retried schedule mails nobody twice
deliver(job)  the outbox's "digest" job: mail one person, in their language, from the archive
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import aws, clock, job_kinds, keys, log, mail, outbox, stage, writes
from chalicelib.agents import staff
from chalicelib.config import Settings, settings
from chalicelib.job_kinds import DigestJob
from chalicelib.kpi import digest, usual_wait
from chalicelib.kpi.figures import Figures
from chalicelib.kpi.reading import Reads
from chalicelib.kpi.view import render_digest
from chalicelib.models import Agent, Key

ARCHIVE_PREFIX = "digests/"
MARKER_DAYS = 400  # the once-per-day key outlives any retry by far, then DynamoDB deletes it


def day_to_send(now: datetime, desk: Settings | None = None) -> str | None:
    """The previous desk-local day once the desk's clock has reached the digest hour, else None.
    Date arithmetic on the local calendar date, so a 23- or 25-hour day (DST) changes nothing:
    at 08:00 Kyiv on 26 October — 06:00 UTC, a day after 08:00 was 05:00 UTC — it is the 25th."""
    desk = desk or settings()
    local = now.astimezone(ZoneInfo(desk.desk.timezone))
    if local.hour < desk.desk.digest_hour:
        return None
    return (local.date() - timedelta(days=1)).isoformat()


def run(now: datetime) -> dict[str, Any] | None:
    """The schedule (hourly, so the local hour is right in summer and winter): from the digest
    hour on, the previous local day is sent once; every later run that day costs one GetItem."""
    day = day_to_send(now)
    if day is None:
        return None
    return send(day, now=now)


_NO_READERS_TOLD: set[str] = set()


def send(day: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Compute `day`, archive it and queue one email per admin and lead, once per day.

    Once: the `digest#<day>` key is written (conditionally) after the jobs are queued, and a run
    that finds it does nothing; a run that crashed before writing it is redone whole (the
    archive is overwritten with the same figures), and so is a run that found nobody to mail.
    Two runs at the same moment may both queue: each job first claims
    `claim#digest-<day>-<agent>`, so one email per person still goes out."""
    now = now or clock.now()
    marker = keys.digest_queued(day)
    try:
        Key.get(marker)
        return {"day": day, "queued": 0, "already_sent": True}  # that run wrote the usual wait too
    except Key.DoesNotExist:
        pass
    figures, people, tallies = digest.compute_day(settings(), day, now, Reads())
    archive(day, figures)
    usual_wait.refresh(tallies, now)  # before the marker: a run that fails here is redone whole
    readers = recipients(people)
    if not readers:  # e.g. a stage whose admins predate the key: tools.create_admin --reindex-leaders
        if day not in _NO_READERS_TOLD:  # once a day a process: the local desk runs this every minute
            _NO_READERS_TOLD.add(day)
            log.warning("digest has no readers: no active admin or lead in staff#leaders", day=day)
        # Not marked as sent: the first hourly run after someone can read it sends it (a new
        # desk's first admin; a local desk started before `tools.create_admin --local`).
        return {"day": day, "queued": 0, "already_sent": False}
    nonce = uuid.uuid4().hex
    jobs = [job_kinds.digest(day, agent.agent_id, nonce) for agent in readers]
    outbox.enqueue_many(jobs)
    _mark_sent(marker, nonce, readers, now)
    log.info("digest queued", day=day, recipients=len(readers), facts=figures.reads.facts)
    return {"day": day, "queued": len(jobs), "already_sent": False}


def _mark_sent(marker: str, nonce: str, readers: list[Agent], now: datetime) -> None:
    done = {"recipients": [agent.agent_id for agent in readers], "queued_at": clock.iso(now)}
    # if this fails, a concurrent run queued too: the jobs' claims keep it to one email each
    writes.put_if(
        Key(marker, owner=nonce, data=done, expires=now + timedelta(days=MARKER_DAYS)), Key.key.does_not_exist()
    )


def recipients(people: Iterable[Agent]) -> list[Agent]:
    """Active admins and leads with somewhere to send it."""
    return sorted(
        (agent for agent in people if staff.is_leader(agent) and (agent.alert_email or agent.email)),
        key=lambda agent: agent.agent_id,
    )


def archive_keys(day: str) -> tuple[str, str]:
    return f"{ARCHIVE_PREFIX}{day}.json", f"{ARCHIVE_PREFIX}{day}.html"


def archive(day: str, figures: Figures) -> None:
    """`digests/<day>.json` (the figures) and `.html` (in the desk's language) in the archive
    bucket, where nothing expires (infra/stack.py `digest_archive`)."""
    json_key, html_key = archive_keys(day)
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=stage.archive_bucket(),
        Key=json_key,
        ContentType="application/json",
        Body=json.dumps(figures.to_json(), ensure_ascii=False, indent=1).encode(),
    )
    rendered = render_digest(figures, settings().desk.default_language)
    s3.put_object(
        Bucket=stage.archive_bucket(),
        Key=html_key,
        ContentType="text/html; charset=utf-8",
        Body=(rendered.html or "").encode(),
    )


def archived(day: str) -> Figures:
    body = aws.client("s3").get_object(Bucket=stage.archive_bucket(), Key=archive_keys(day)[0])["Body"].read()
    return Figures.from_json(json.loads(body))


def deliver(job: DigestJob) -> None:
    """The outbox job: mail one admin or lead the archived digest in their language, once."""
    step = job["job_id"]
    if not outbox.claim(step, job["nonce"]) or outbox.already_sent(step):
        return
    try:
        agent = Agent.get(job["agent_id"])
    except Agent.DoesNotExist:
        return  # removed since the digest was queued
    desk = settings().desk
    language = agent.language or desk.default_language
    rendered = render_digest(archived(job["day"]), language)
    to = agent.alert_email or agent.email

    def mail_it() -> object:
        return mail.send_from_desk(
            step, rendered, to=to, to_name=agent.full_name, language=language, sender_name=f"{desk.name} digest"
        )

    if outbox.unless_refused(mail_it, "digest refused for good", agent_id=agent.agent_id):
        outbox.mark_sent(step)
