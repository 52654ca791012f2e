"""The SLA watch, every minute: find the tickets whose next warning is due (a Query per shard
of the sparse by_alert index — closed and far-from-due tickets are not in it), queue each
warning as an outbox job, then move each ticket's next warning on.

Exactly once: a warning's job id is (ticket, target, cycle, share) and the job claims that id
with a conditional write before sending, so two overlapping runs, or a run that crashed after
queueing but before moving the ticket on, never alert twice; a crash before queueing leaves
the ticket due, and the next run queues it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from chalicelib import clock, lifecycle, log, outbox
from chalicelib.agents import staff
from chalicelib.config import Settings, settings
from chalicelib.errors import Conflict
from chalicelib.facts import fact
from chalicelib.models import Agent, Fact, Message, Ticket
from chalicelib.sla import alerts
from chalicelib.sla.alerts import SHARDS

PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


def run(now: datetime) -> dict[str, int]:
    """One pass; returns counts (read, queued, moved on) for the logs and the benchmark."""
    due = [
        ticket for shard in range(SHARDS) for ticket in Ticket.by_alert.query(f"a{shard}", Ticket.next_alert_at <= now)
    ]
    for ticket in due:
        alerts.catch_up(settings(), ticket, now)
    people = _People(now)  # rosters and leads read once per queue per run, not per ticket
    jobs = [alert_job(settings(), ticket, now, people) for ticket in due]
    for start in range(0, len(jobs), 10):
        outbox.enqueue_many(jobs[start : start + 10])
    moved = sum(move_on(settings(), ticket, job, now) for ticket, job in zip(due, jobs))
    if due:
        log.info("sla watch", due=len(due), moved_on=moved)
    return {"due": len(due), "queued": len(jobs), "moved_on": moved}


class _People:
    """Who is on duty and who leads, per queue, remembered for one run."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._duty: dict[str, list[str]] = {}
        self._leads: dict[str, list[str]] = {}

    def on_duty(self, queue: str) -> list[str]:
        if queue not in self._duty:
            self._duty[queue] = staff.on_duty(queue, self.now)
        return self._duty[queue]

    def leads(self, queue: str) -> list[str]:
        if queue not in self._leads:
            self._leads[queue] = staff.leads_of(queue)
        return self._leads[queue]


def alert_job(desk: Settings, ticket: Ticket, now: datetime, people: _People | None = None) -> dict[str, Any]:
    alert = dict(ticket.next_alert or {})
    shares = desk.policy_for(ticket.channel, ticket.priority).alert_at
    level = shares.index(alert["share"]) if alert.get("share") in shares else len(shares) - 1
    breach = alert.get("share") == 1.0
    return {
        "kind": "alert",
        "job_id": f"alert-{ticket.ticket_id}-{alert.get('target')}-{alert.get('cycle')}-{alert.get('share')}",
        "nonce": uuid.uuid4().hex,  # this run's claim: a retry of the same message may re-claim
        "ticket_id": ticket.ticket_id,
        "target": alert.get("target"),
        "share": alert.get("share"),
        "due": alert.get("due"),
        "breach": breach,
        "recipients": recipients(desk, ticket, level, len(shares), now, people or _People(now)),
        "already": [entry["to"] for entry in (ticket.alert_log or [])][-10:],
    }


def recipients(
    desk: Settings, ticket: Ticket, level: int, levels: int, now: datetime, people: _People
) -> dict[str, Any]:
    """Level 1: the owner, else the queue's on-duty agents. Later levels add the queue's
    leads; the breach also tells the team address. Outside the queue's hours the owner is
    not woken: the on-duty agents are told instead."""
    open_now = desk.calendar_for(ticket.queue).is_open(now)
    first = [ticket.assignee] if ticket.assignee and open_now else people.on_duty(ticket.queue)
    agents = list(first)
    if level >= 1:
        agents += [lead for lead in people.leads(ticket.queue) if lead not in agents]
    team = desk.queues[ticket.queue]
    breach = level == levels - 1
    return {
        "agents": agents,
        "team_email": team.team_email if breach else None,
        "team_slack": team.team_slack if breach else None,
    }


def move_on(desk: Settings, ticket: Ticket, job: dict[str, Any], now: datetime) -> bool:
    """Record the warning on the ticket and plan the next one (version-checked: a ticket an
    agent changed meanwhile is left for the next run, whose job the claim deduplicates)."""
    from chalicelib.agents.work import commit_records  # the one writer of ticket + records

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
    lifecycle.refresh_index(ticket)
    try:
        commit_records(ticket, records, load)
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
        candidates = [
            a
            for a in Agent.batch_get(staff.on_duty(ticket.queue, now))
            if a.active and a.agent_id != ticket.assignee and ticket.queue in a.queues
        ]
        if candidates:
            chosen = min(candidates, key=lambda agent: int(agent.open_load or 0))
            if ticket.assignee:
                load[ticket.assignee] = -1
            load[chosen.agent_id] = 1
            ticket.assignee, ticket.introduce = chosen.agent_id, chosen.agent_id
            return [_event(ticket, now, f"reassigned to {chosen.agent_id} (on duty): SLA breached")]
    return []


def _event(ticket: Ticket, now: datetime, body: str) -> Message:
    from chalicelib.agents.work import system_event

    return system_event(ticket, now, "sla", body)
