"""The ticket page, `GET /console/t/{id}`, and the parts it loads on demand: older entries of the
conversation, the customer's stored contacts and other tickets, and the people it can be handed to.

What an agent sees first is what the desk promised and what is due: the acknowledgement's
promise and every running SLA clock, counted down in the agent's zone; then the conversation
(the newest page, oldest first, the composer right under it); then who the customer is.

Cost (tests/console/test_ticket_page.py counts it): the session (one TransactGetItems), the
ticket (GetItem) and the newest page of its conversation (one Query): three DynamoDB calls. Who
else has it open comes with the page's first heartbeat (ticket_actions.presence), the sidebar's
customer record and other tickets right after the page (`customer`), the people to hand it to
when asked (`people`). "Load older" costs one Query: its cursor is signed for this agent and
ticket when the page (which authorized them) is rendered, so it needs no second authorization.

Nothing here writes: the page is a GET that an alert's link opens, and a link preview that
fetches it changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalice.app import Response

from chalicelib import api, clock, lifecycle, render, secrets, stage
from chalicelib.agents import work
from chalicelib.agents.access import Actor, visible_ticket
from chalicelib.config import PRIORITIES, settings
from chalicelib.console import canned, clocks, submits, thread, web
from chalicelib.errors import NotFound
from chalicelib.models import Message, Ticket


@dataclass(frozen=True)
class Composer:
    """The composer as the page renders it: empty on a fresh page; the agent's draft, kept, when
    a send was held or refused. `seen_*` is what the page showed (the Traffic Cop's marker);
    `held` the entries that arrived since, shown above the draft."""

    mode: str = "reply"  # reply | note
    text: str = ""
    submit_id: str = field(default_factory=submits.fresh_id)
    held: tuple[thread.Entry, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why an action was refused, shown beside the control it came from."""

    where: str  # composer | take | owner | status | priority
    detail: str  # the work's own words (the JSON API says the same)


# --- routes --------------------------------------------------------------------------------------
def show(visit: web.Visit, ticket_id: str) -> Response:
    """GET /console/t/{id}: the ticket page."""
    ticket, messages, cursor = work.open_page(visit.signed.actor, ticket_id)
    return render_page(visit, ticket, messages, cursor)


def render_page(
    visit: web.Visit,
    ticket: Ticket,
    messages: list[Message],
    cursor: str | None,
    composer: Composer | None = None,
    *,
    problem: Problem | None = None,
    status: int = 200,
) -> Response:
    """The ticket page; the actions render it again (with the draft and why) when they refuse."""
    context = page_context(visit, ticket, messages, cursor, composer or Composer(), problem)
    return visit.page("ticket", context, status, section="queue")


def older(visit: web.Visit, ticket_id: str) -> Response:
    """GET /console/t/{id}/messages?before=<signed cursor>: the entries before the oldest shown
    (for htmx, the list items alone; for a browser without script, a page of them)."""
    before = cursor_key(visit, ticket_id, visit.query.get("before", ""))
    if before is None:
        raise NotFound(f"no ticket {ticket_id}")  # a cursor this agent was not given
    visible_ticket(visit.signed.actor, ticket_id)  # still theirs: a link kept from before a queue change is not
    messages, cursor = work.older(ticket_id, before)
    context = {
        **_thread_context(visit, ticket_id, messages, cursor, {}),
        "ticket_id": ticket_id,
        "ticket_url": stage.ticket_page(ticket_id),
        "fragment": visit.htmx,
    }
    return visit.page("ticket_older", context, section="queue")


def customer(visit: web.Visit, ticket_id: str) -> Response:
    """GET /console/t/{id}/customer: the sidebar's customer record and other tickets (htmx)."""
    ticket, record, others = work.customer_of(visit.signed.actor, ticket_id)
    known = {value for value in api.contacts(ticket).values() if isinstance(value, str)}
    stored = [("email", record.email), ("phone", record.phone)] if record else []
    context = {
        "ticket": ticket,
        "customer_record": record,
        "more_contacts": [(kind, value) for kind, value in stored if value and value not in known],
        "others": [(other, stage.ticket_page(other.ticket_id)) for other in others],
        "when": _when(visit),
        "day": lambda moment: thread.day(moment, zone(visit), visit.language),
        "fragment": visit.htmx,
        "ticket_url": stage.ticket_page(ticket_id),
    }
    return visit.page("ticket_customer", context, section="queue")


def people(visit: web.Visit, ticket_id: str) -> Response:
    """GET /console/t/{id}/people: the hand-over and assign forms with the queue's agents."""
    actor = visit.signed.actor
    ticket, agents = work.people_for(actor, ticket_id)
    context = {
        "ticket": ticket,
        "permitted": work.permitted(actor, ticket),
        "agents": agents,
        "urls": action_urls(ticket_id),
        "fragment": visit.htmx,
        "ticket_url": stage.ticket_page(ticket_id),
    }
    return visit.page("ticket_people", context, section="queue")


# --- what the page shows -------------------------------------------------------------------------
def page_context(
    visit: web.Visit,
    ticket: Ticket,
    messages: list[Message],
    cursor: str | None,
    composer: Composer,
    problem: Problem | None,
) -> dict[str, Any]:
    actor = visit.signed.actor
    now, language, tz = clock.now(), visit.language, zone(visit)
    owner = {ticket.assignee: ticket.assignee_name} if ticket.assignee and ticket.assignee_name else {}
    permitted = work.permitted(actor, ticket)
    mode = composer.mode if composer.mode == "note" or permitted.answer else "note"
    return {
        **_thread_context(visit, ticket.ticket_id, messages, cursor, owner, ticket.customer_name),
        "ticket": ticket,
        "owner_name": ticket.assignee_name or ticket.assignee,
        "mine": ticket.assignee == actor.agent_id,
        "permitted": permitted,
        "clocks": clock_views(ticket, now, tz, language),
        "promise": _promise(ticket, tz, language),
        "sidebar": sidebar(ticket, now, language),
        "canned": canned.offered([ticket.language, language], _canned_context(ticket, actor)),
        "composer": composer,
        "mode": mode,
        "seen_version": int(ticket.version or 0),
        "seen": " ".join(work.newest_keys(messages)),
        "after_reply": _after_reply(ticket),
        # a form is answered by email
        "reply_channel": "email" if ticket.channel in render.EMAIL_CHANNELS else ticket.channel,
        "priorities": PRIORITIES,
        "problem": problem,
        "urls": action_urls(ticket.ticket_id),
        "presence_every": "10s",
    }


def _thread_context(
    visit: web.Visit,
    ticket_id: str,
    messages: list[Message],
    cursor: str | None,
    known: dict[str, str],
    customer_name: str = "",
) -> dict[str, Any]:
    """What the conversation's entries need (the page's, an older page's, a held send's)."""
    language = visit.language
    names = thread.names_on(messages, known)
    return {
        "ticket_customer": customer_name,
        "entries": thread.entries(messages, names),
        "older_url": older_url(visit, ticket_id, cursor) if cursor else None,
        "when": _when(visit),
        "size": lambda size: thread.size_text(size, language),
        "authors": thread.AUTHORS,
    }


def zone(visit: web.Visit) -> str:
    """The agent's time zone, else the desk's."""
    return visit.agent.timezone or settings().desk.timezone


def _when(visit: web.Visit) -> Any:
    tz, language = zone(visit), visit.language
    return lambda moment: thread.when(moment, tz, language)


@dataclass(frozen=True)
class ClockView:
    label: str
    countdown: str
    level: str  # the CSS level: ok | warn | late | breach | paused
    due: datetime


def clock_views(ticket: Ticket, now: datetime, tz: str, language: str) -> list[ClockView]:
    """Every clock that applies, soonest due first. A warning later than the policy's first gets
    the darker tint ("late", clocks.py's docstring); a paused clock is grey, whatever its level."""
    desk = settings()
    first = desk.policy_for(ticket.channel, ticket.priority).alert_at[0]
    views = []
    for running in clocks.running(desk, ticket, now):
        level: str = "paused" if running.paused else running.level
        if level == "warn" and running.share is not None and running.share > first:
            level = "late"
        countdown = clocks.countdown(running, now, tz, language)
        views.append(ClockView(clocks.label(running.kind, language), countdown, level, running.due))
    return views


@dataclass(frozen=True)
class PromiseView:
    by: str  # when, in the agent's zone and language
    usual: str | None  # the "usually by" said, if any
    ack_state: str  # none | pending | sent | suppressed | failed


def _promise(ticket: Ticket, tz: str, language: str) -> PromiseView:
    made = clocks.promise(ticket)
    if made is None:
        return PromiseView(by="", usual=None, ack_state=ticket.ack_state)
    return PromiseView(
        by=thread.when(made.promised_at, tz, language),
        usual=thread.when(made.usual_by, tz, language) if made.usual_by else None,
        ack_state=ticket.ack_state,
    )


# The channels whose customers tell us their zone (the form and the chat widget send the browser's);
# elsewhere a ticket in the desk's own zone may only mean nobody said.
ZONE_TOLD = ("form", "chat")


def sidebar(ticket: Ticket, now: datetime, language: str) -> dict[str, Any]:
    """Who the customer is, from what the ticket itself holds (no read)."""
    organization = settings().organizations.get(ticket.organization or "")
    return {
        "contacts": api.contacts(ticket),
        "language": _language_name(ticket.language, language),
        "local_time": thread.when(now, ticket.timezone, language),
        "zone": render.zone_label(now, ticket.timezone, language),
        "zone_guessed": ticket.channel not in ZONE_TOLD and ticket.timezone == settings().desk.timezone,
        "organization": organization.name if organization else ticket.organization,
        "previous_url": stage.ticket_page(ticket.previous_ticket) if ticket.previous_ticket else None,
        "stranger_url": stage.ticket_page(ticket.stranger_to) if ticket.stranger_to else None,
    }


def _language_name(code: str, language: str) -> str:
    from babel import Locale, UnknownLocaleError  # lazy: Babel's data loads on first use

    try:
        return str(Locale.parse(code).get_display_name(language) or code)
    except (ValueError, UnknownLocaleError):
        return code


def _after_reply(ticket: Ticket) -> tuple[str, ...]:
    """The statuses "send and …" may move the ticket to: those allowed once the answer is in
    (an answer opens a new ticket), of pending and solved."""
    status = "open" if ticket.status == "new" else ticket.status
    return tuple(target for target in ("pending", "solved") if target in lifecycle.ALLOWED[status])


def _canned_context(ticket: Ticket, actor: Actor) -> dict[str, Any]:
    first = actor.name.split(" ", 1)[0]
    return {
        "customer_name": ticket.customer_name,
        "agent_name": actor.name,
        "agent_first_name": first,
        "ticket_ref": ticket.ticket_id,
        "subject": ticket.subject,
        "desk_name": settings().desk.name,
    }


def action_urls(ticket_id: str) -> dict[str, str]:
    base = stage.ticket_page(ticket_id)
    parts = ("send", "uploads", "take", "handover", "assign", "status", "priority", "presence", "customer", "people")
    return {"page": base, **{name: f"{base}/{name}" for name in parts}}


# --- the signed cursor of "Load older" ----------------------------------------------------------
def older_url(visit: web.Visit, ticket_id: str, key: str) -> str:
    return f"{stage.ticket_page(ticket_id)}/messages?before={sign_cursor(visit, ticket_id, key)}"


def sign_cursor(visit: web.Visit, ticket_id: str, key: str) -> str:
    """`<base64url message key>.<MAC>`: the key, bound to this agent and ticket."""
    encoded = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    return f"{encoded}.{_mac(visit.agent.agent_id, ticket_id, encoded)}"


def cursor_key(visit: web.Visit, ticket_id: str, cursor: str) -> str | None:
    """The message key a cursor carries, if it was signed for this agent and ticket."""
    encoded, _, mac = cursor.partition(".")
    expected = _mac(visit.agent.agent_id, ticket_id, encoded).encode()
    if not encoded or len(cursor) > 400 or not hmac.compare_digest(mac.encode("utf-8", "replace"), expected):
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _mac(agent_id: str, ticket_id: str, encoded: str) -> str:
    message = f"console-older:{agent_id}:{ticket_id}:{encoded}".encode()
    digest = hmac.new(secrets.get("link_secret").encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
