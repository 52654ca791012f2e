"""Who gets an SLA alert, and where. The rule: the first warning goes to the ticket's owner, or
to the queue's on-duty agents when nobody owns it or the queue is closed (an owner is not woken
at night); later warnings add the queue's leads; the breach also tells the queue's team address
and Slack channel (desk.toml [queues]). Each person is then told on every medium they gave:
alert email, a Slack incoming webhook, a Telegram chat (the agent's record).

Who is on duty and who leads are the rosters and leads of chalicelib/agents/staff.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.agents import staff
from chalicelib.config import Settings
from chalicelib.job_kinds import Recipients
from chalicelib.models import Agent, Ticket


class People:
    """Who is on duty and who leads, per queue, remembered for one run of the watch."""

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


def for_warning(desk: Settings, ticket: Ticket, level: int, levels: int, now: datetime, people: People) -> Recipients:
    """Level 1: the owner, else the queue's on-duty agents. Later levels add the queue's
    leads; the breach (the last level) also tells the team address. Outside the queue's hours
    the owner is not woken: the on-duty agents are told instead."""
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


MEDIA = ("email", "slack", "telegram")  # where an agent may take alerts (their record's fields)


def step(job_id: str, agent_id: str, medium: str) -> str:
    """The step of telling one agent on one medium: sent at most once."""
    return f"{job_id}#{agent_id}#{medium}"


def destinations(job_id: str, wanted: Recipients, known: Sequence[Agent] = ()) -> list[tuple[str, str, str, str]]:
    """(medium, address, language, step) for every person and team address of an alert job;
    each step is sent at most once. Agents the caller has just read (`known`) are not read again."""
    out: list[tuple[str, str, str, str]] = []
    have = {agent.agent_id: agent for agent in known if agent.agent_id in wanted["agents"]}
    missing = [agent_id for agent_id in wanted["agents"] if agent_id not in have]
    for agent in [*have.values(), *(Agent.batch_get(missing) if missing else [])]:
        for medium, address in zip(MEDIA, (agent.alert_email, agent.slack_webhook, agent.telegram_chat), strict=True):
            if address:
                out.append((medium, address, agent.language or "en", step(job_id, agent.agent_id, medium)))
    team_email, team_slack = wanted.get("team_email"), wanted.get("team_slack")
    if team_email:
        out.append(("email", team_email, "en", f"{job_id}#team#email"))
    if team_slack:
        out.append(("slack", team_slack, "en", f"{job_id}#team#slack"))
    return out
