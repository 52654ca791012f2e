"""The SLA watch, every minute: find the tickets whose next warning is due (a Query per shard
of the sparse by_alert index — closed and far-from-due tickets are not in it — and one
BatchGetItem of the due tickets themselves), queue each
warning as an outbox job, then move each ticket's next warning on.

Exactly once: a warning's job id is (ticket, target, cycle, share) and the job claims that id
with a conditional write before sending, so two overlapping runs, or a run that crashed after
queueing but before moving the ticket on, never alert twice; a crash before queueing leaves
the ticket due, and the next run queues it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import clock, job_kinds, lifecycle, log, outbox, tickets
from chalicelib.agents import duty
from chalicelib.config import Settings, settings
from chalicelib.errors import Conflict
from chalicelib.facts import fact
from chalicelib.job_kinds import AlertJob
from chalicelib.models import Fact, Message, Ticket
from chalicelib.sla import alerts, recipients
from chalicelib.sla.alerts import SHARDS
from chalicelib.sla.recipients import People

PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


def run(now: datetime) -> dict[str, int]:
    """One pass; returns counts (read, queued, moved on) for the logs and the benchmark."""
    due = due_tickets(now)
    for ticket in due:
        alerts.catch_up(settings(), ticket, now)
    people = People(now)  # rosters and leads read once per queue per run, not per ticket
    jobs = [alert_job(settings(), ticket, now, people) for ticket in due]
    outbox.enqueue_many(jobs)
    moved = sum(move_on(settings(), ticket, job, now) for ticket, job in zip(due, jobs))
    if due:
        log.info("sla watch", due=len(due), moved_on=moved)
    return {"due": len(due), "queued": len(jobs), "moved_on": moved}


def due_tickets(now: datetime) -> list[Ticket]:
    """The tickets whose next warning is due: the keys from a Query per shard of by_alert (which
    holds keys only, models.py says why), the tickets from one BatchGetItem per hundred, read
    strongly consistently — so a ticket moved on since the index saw it (an answer, a run before
    this one) is left out, and the watch writes against its latest version."""
    keys = [
        found.ticket_id
        for shard in range(SHARDS)
        for found in Ticket.by_alert.query(f"a{shard}", Ticket.next_alert_at <= now)
    ]
    if not keys:
        return []
    found = {ticket.ticket_id: ticket for ticket in Ticket.batch_get(keys, consistent_read=True)}
    return [
        ticket
        for key in keys
        if (ticket := found.get(key)) is not None
        and ticket.alert_shard is not None
        and ticket.next_alert_at is not None
        and ticket.next_alert_at <= now
    ]


def alert_job(desk: Settings, ticket: Ticket, now: datetime, people: People | None = None) -> AlertJob:
    """The outbox job of the ticket's due warning; who gets it is decided now (sla/recipients.py)."""
    alert = dict(ticket.next_alert or {})
    shares = desk.policy_for(ticket.channel, ticket.priority).alert_at
    level = shares.index(alert["share"]) if alert.get("share") in shares else len(shares) - 1
    return job_kinds.alert(
        ticket.ticket_id,
        target=alert["target"],  # the ticket carries its whole planned warning
        cycle=alert["cycle"],
        share=alert["share"],
        due=alert["due"],
        breach=alert.get("share") == 1.0,
        recipients=recipients.for_warning(desk, ticket, level, len(shares), now, people or People(now)),
        already=[entry["to"] for entry in (ticket.alert_log or [])][-10:],
    )


def move_on(desk: Settings, ticket: Ticket, job: AlertJob, now: datetime) -> bool:
    """Record the warning on the ticket and plan the next one (version-checked: a ticket an
    agent changed meanwhile is left for the next run, whose job the claim deduplicates)."""
    alert = ticket.next_alert or {}
    key = f"{alert.get('target')}#{alert.get('cycle')}"
    ticket.alerts_sent = {**(ticket.alerts_sent or {}), key: alert.get("share")}
    ticket.alert_log = (
        [
            *(ticket.alert_log or []),
            {
                "share": alert.get("share"),
                "target": alert.get("target"),
                "to": job["recipients"]["agents"],
                "at": clock.iso(now),
            },
        ]
    )[-20:]
    records: list[Any] = []
    load: dict[str, int] = {}
    if job["breach"]:
        records.append(_breach_fact(desk, ticket, alert, now))
        records += _escalate(desk, ticket, now, load)
    lifecycle.refresh_index(ticket, now)
    try:
        tickets.commit(ticket, records, load)
    except Conflict:
        log.info("sla watch: ticket changed meanwhile", ticket_id=ticket.ticket_id)
        return False
    return True


def _breach_fact(desk: Settings, ticket: Ticket, alert: dict[str, Any], now: datetime) -> Fact:
    return fact(
        desk,
        ticket,
        "breached",
        now,
        {
            "target": alert.get("target"),
            "due": alert.get("due"),
            "late_seconds": int((now - clock.parse_iso(alert["due"])).total_seconds()),
        },
    )


def _escalate(desk: Settings, ticket: Ticket, now: datetime, load: dict[str, int]) -> list[Message]:
    """The policy's on_breach action, recorded as an event on the ticket."""
    action = desk.policy_for(ticket.channel, ticket.priority).on_breach
    if action == "raise_priority" and ticket.priority != "urgent":
        before = ticket.priority
        lifecycle.reprioritize(desk, ticket, PRIORITY_UP[before], now)
        ticket.urgent_reason = "SLA breached" if ticket.priority == "urgent" else None
        return [_event(ticket, now, f"priority {before} → {ticket.priority}: SLA breached")]
    if action == "reassign_on_duty":
        chosen = duty.least_loaded(ticket.queue, now, excluding=ticket.assignee)
        if chosen:
            if ticket.assignee:
                load[ticket.assignee] = -1
            load[chosen.agent_id] = 1
            tickets.hand_to(ticket, chosen.agent_id, chosen.full_name)
            ticket.introduce = chosen.agent_id
            return [_event(ticket, now, f"reassigned to {chosen.agent_id} (on duty): SLA breached")]
    return []


def _event(ticket: Ticket, now: datetime, body: str) -> Message:
    return tickets.event(ticket, now, "sla", body)
