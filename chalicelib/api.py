"""The agents' JSON API (`/api/...`): authenticate, validate the body, call the work, answer.

Every request carries `Authorization: Bearer pt_<id>_<secret>` (a personal token). We check it
in the app rather than with an API Gateway authorizer so that revocation takes effect on the
next request, 401/403/404 mean the same locally and deployed, and no second Lambda runs per
call. The contract is `openapi.yaml` at the repository root.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalice.app import Request, Response
from pydantic import Field

from chalicelib import clock, lifecycle, originals
from chalicelib.agents import staff, tokens, work
from chalicelib.agents.access import Actor
from chalicelib.agents.fields import AgentChanges, NewAgent, Roster
from chalicelib.agents.fields import Body as _Body
from chalicelib.attachments import answers, files, links, opening
from chalicelib.attachments.files import FileEntry
from chalicelib.errors import BadRequest
from chalicelib.http import body, headers, json_response, respond, validated
from chalicelib.models import Agent, Key, Message, Ticket
from chalicelib.render import EMAIL_CHANNELS

MAX_BODY_BYTES = 256 * 1024  # 20,000 characters of Cyrillic text escaped as JSON fit
PAGE_SIZE = 50  # finished tickets per page unless `limit` says otherwise
MESSENGERS = ("telegram", "viber", "chat")  # answered by an id the provider gave, not a number or address
PHONES = ("sms", "whatsapp")


class Text(_Body):
    text: str = Field(min_length=1, max_length=20_000)


class Answer(_Body):
    text: str = Field(default="", max_length=20_000)
    files: list[str] = Field(default_factory=list, max_length=100)  # upload keys (`POST .../uploads`)


class Upload(_Body):
    """A file an agent means to attach, as their client describes it; `count` and `total`: the
    files (and their bytes) already on the answer."""

    name: str = Field(min_length=1, max_length=1000)
    type: str = Field(min_length=1, max_length=200)
    size: int = Field(ge=0)
    count: int = Field(default=0, ge=0)
    total: int = Field(default=0, ge=0)


class Handover(_Body):
    to: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class Assign(_Body):
    to: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


class Status(_Body):
    status: str = Field(min_length=1, max_length=20)


class Priority(_Body):
    priority: str = Field(min_length=1, max_length=20)
    reason: str | None = Field(default=None, max_length=500)


def call(request: Request, action: Callable[..., Any], *args: str, status: int = 200) -> Response:
    """Run one API action for the authenticated agent; errors become JSON (see chalicelib.http)."""

    def run() -> Response:
        actor = tokens.authenticate(headers(request).get("authorization"))
        return json_response(action(actor, request, *args), status)

    return respond("api", run)


def _json(model: type[_Body], request: Request) -> Any:
    return validated(model, body(request.raw_body, MAX_BODY_BYTES) or b"{}")


# --- tickets ---------------------------------------------------------------------------------
def list_tickets(actor: Actor, request: Request) -> Any:
    """`view=live` (the default): the work list, soonest due first, no pages. `view=done`: solved
    and closed tickets, newest first, `limit` a page, the next page `after` the cursor given."""
    params: Mapping[str, str] = request.query_params or {}
    view = params.get("view", "live")
    if view == "live":
        return {"tickets": _ticket_views(work.list_tickets(actor, params.get("queue"))), "next": None}
    if view != "done":
        raise BadRequest(
            "view: live (the work list, soonest due first) or done (solved and closed, newest first)", field="view"
        )
    done, cursor = work.list_done(actor, params.get("queue"), _page_size(params.get("limit")), params.get("after"))
    return {"tickets": _ticket_views(done), "next": cursor}


def _ticket_views(tickets: list[Ticket]) -> list[dict[str, Any]]:
    now = clock.now()
    return [ticket_view(ticket, now) for ticket in tickets]


def _page_size(given: str | None) -> int:
    if given is None:
        return PAGE_SIZE
    if not (given.isascii() and given.isdigit() and 1 <= int(given) <= work.LIST_LIMIT):
        raise BadRequest(f"limit: a whole number from 1 to {work.LIST_LIMIT}", field="limit")
    return int(given)


def get_ticket(actor: Actor, request: Request, ticket_id: str) -> Any:
    ticket, conversation = work.open_ticket(actor, ticket_id)
    return {**ticket_view(ticket, clock.now()), "conversation": [message_view(entry) for entry in conversation]}


def open_file(actor: Actor, request: Request, ticket_id: str, message: str, index: str) -> Any:
    """A short-lived link to one kept file of a ticket the agent sees (chalicelib/attachments/opening.py)."""
    link = opening.opened(opening.stored_file(actor, ticket_id, message, index))
    return {
        "url": link.url,
        "expires_at": clock.iso(link.expires_at),
        "name": link.name,
        "type": link.type,
        "size": link.size,
        "inline": link.inline,
    }


def original(actor: Actor, request: Request, ticket_id: str, message: str) -> Any:
    """The whole text of an inbound email as received, quoted history and signature included,
    read again from the raw mail (chalicelib/originals.py); 410 once the raw mail has expired."""
    found = originals.read(actor, ticket_id, message)
    return {"text": found.text, "raw_size": found.raw_size}


def reply(actor: Actor, request: Request, ticket_id: str) -> Any:
    data = _json(Answer, request)
    answered = work.reply(actor, ticket_id, data.text, files=data.files)
    return {
        "message_id": answered.message_id,
        "introduced": answered.introduced,
        **ticket_view(answered.ticket, clock.now()),
    }


def upload(actor: Actor, request: Request, ticket_id: str) -> Any:
    """Where to POST one file of an answer (`links.upload_form`: a presigned S3 POST) and the key
    the answer names it by; a refusal (type, size, count, the customer's channel) is a 400."""
    data = _json(Upload, request)
    return {
        "links": work.upload(actor, ticket_id, answers.Picked(data.name, data.type, data.size, data.count, data.total))
    }


def add_note(actor: Actor, request: Request, ticket_id: str) -> Any:
    return {"message_id": work.note(actor, ticket_id, _json(Text, request).text).message_id}


def take(actor: Actor, request: Request, ticket_id: str) -> Any:
    return ticket_view(work.take(actor, ticket_id), clock.now())


def handover(actor: Actor, request: Request, ticket_id: str) -> Any:
    data = _json(Handover, request)
    return ticket_view(work.handover(actor, ticket_id, data.to, data.reason), clock.now())


def assign(actor: Actor, request: Request, ticket_id: str) -> Any:
    data = _json(Assign, request)
    return ticket_view(work.assign(actor, ticket_id, data.to, data.reason), clock.now())


def set_status(actor: Actor, request: Request, ticket_id: str) -> Any:
    return ticket_view(work.set_status(actor, ticket_id, _json(Status, request).status), clock.now())


def set_priority(actor: Actor, request: Request, ticket_id: str) -> Any:
    data = _json(Priority, request)
    return ticket_view(work.set_priority(actor, ticket_id, data.priority, data.reason), clock.now())


# --- people ----------------------------------------------------------------------------------
def me(actor: Actor, request: Request) -> Any:
    return agent_view(staff.get_agent(actor.agent_id))


def list_agents(actor: Actor, request: Request) -> Any:
    return {"agents": [agent_view(agent) for agent in staff.listed_for(actor)]}


def create_agent(actor: Actor, request: Request) -> Any:
    staff.may_manage(actor)
    return agent_view(staff.create_agent(**_json(NewAgent, request).model_dump()))


def update_agent(actor: Actor, request: Request, agent_id: str) -> Any:
    staff.may_manage(actor)
    changes = _json(AgentChanges, request).model_dump(exclude_unset=True)
    return agent_view(staff.update_agent(agent_id, changes))


def issue_token(actor: Actor, request: Request, agent_id: str) -> Any:
    issued = tokens.issue_by(actor, agent_id)
    return {
        "token_id": issued.token_id,
        "token": issued.token,
        "expires_at": clock.iso(issued.expires_at),
        "note": "shown once: store it now",
    }


def list_tokens(actor: Actor, request: Request, agent_id: str) -> Any:
    """An agent's tokens as records (never a secret): your own, or (admins) anyone's."""
    return {"agent": agent_id, "tokens": [token_view(record) for record in tokens.held_for(actor, agent_id)]}


def revoke_token(actor: Actor, request: Request, token_id: str) -> Any:
    tokens.revoke_by(actor, token_id)
    return {"revoked": token_id}


def get_roster(actor: Actor, request: Request, queue: str, week: str) -> Any:
    return {"queue": queue, "week": week, "agents": staff.roster_for(actor, queue, week)}


def set_roster(actor: Actor, request: Request, queue: str, week: str) -> Any:
    staff.may_set_roster(actor)
    return {"queue": queue, "week": week, "agents": staff.set_roster(queue, week, _json(Roster, request).agents)}


def ticket_view(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """A ticket as the agent API shows it, with the SLA countdown of its nearest running clock."""
    dues = lifecycle.running_dues(ticket)
    nearest = min(dues.items(), key=lambda item: item[1]) if dues else None
    return {
        "ticket": ticket.ticket_id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "urgent_reason": ticket.urgent_reason,
        "queue": ticket.queue,
        "channel": ticket.channel,
        "assignee": ticket.assignee,
        "customer": ticket.customer_name,
        "language": ticket.language,
        "created_at": clock.iso(ticket.created_at),
        "first_response_due": _iso(ticket.first_response_due),
        "next_response_due": _iso(ticket.next_response_due),
        "resolution_due": _iso(ticket.resolution_due),
        "paused": ticket.paused_at is not None,
        "sla": None
        if nearest is None
        else {
            "target": nearest[0],
            "due": clock.iso(nearest[1]),
            "seconds_left": int((nearest[1] - now).total_seconds()),
        },
        "previous_ticket": ticket.previous_ticket,
        "sender": {"trust": ticket.sender_trust, "how": ticket.sender_auth, "stranger_to": ticket.stranger_to},
        "rating": None
        if ticket.rating is None
        else {
            "rating": ticket.rating,
            "comment": ticket.rating_comment,
            "at": _iso(ticket.rated_at),
        },
        "nps": None
        if ticket.nps_score is None
        else {
            "score": int(ticket.nps_score),
            "comment": ticket.nps_comment,
            "at": _iso(ticket.nps_at),
        },
        "email_undeliverable": ticket.email_undeliverable,
        "contacts": contacts(ticket),
    }


def contacts(ticket: Ticket) -> dict[str, Any]:
    """How to reach the customer, from what the ticket itself knows (no lookup): the address the
    desk writes to by email, the phone number of an SMS or WhatsApp conversation, and the id a
    messenger's replies go to (Telegram chat, Viber user, website chat visitor)."""
    return {
        "email": ticket.address if ticket.channel in EMAIL_CHANNELS else ticket.email,
        "phone": ticket.address.removeprefix("whatsapp:") if ticket.channel in PHONES else None,
        "messenger": {"channel": ticket.channel, "id": ticket.address} if ticket.channel in MESSENGERS else None,
    }


def message_view(message: Message) -> dict[str, Any]:
    """One entry of a ticket's conversation: a message, an answer, a note or an event."""
    # where the whole mail as received is read (an inbound email whose raw mail is recorded), else None
    original = originals.api_path(message.ticket_id, message.message_key) if originals.has_original(message) else None
    return {
        "id": message.message_id,
        "at": clock.iso(message.created_at),
        "direction": message.direction,
        "kind": message.kind,
        "author": message.author,
        "channel": message.channel,
        "subject": message.subject,
        "body": message.body,
        "attachments": [
            file_view(entry, opening.api_path(message.ticket_id, message.message_key, index))
            for index, entry in enumerate(files.entries(message.attachments))
        ],
        "sender_trust": message.trust,
        "truncated": message.truncated or [],
        "original": original,
    }


def file_view(entry: FileEntry, path: str | None) -> dict[str, Any]:
    """A message's file as the API lists it: what it is and whether it can be opened (`file`, the
    path that gives a short-lived link; null when its bytes are not kept). Where it lies in S3 is
    the desk's business, not the caller's."""
    stored = entry.get("state") == files.STORED
    return {
        "name": entry.get("name", "file"),
        "type": entry.get("type", files.OCTET_STREAM),
        "size": int(entry.get("size") or 0),
        "state": entry.get("state", files.LISTED),
        "reason": entry.get("reason"),
        "sha256": entry.get("sha256"),
        "inline": links.is_inline(entry),
        "file": path if stored else None,
    }


def agent_view(agent: Agent) -> dict[str, Any]:
    return {
        "agent": agent.agent_id,
        "first_name": agent.first_name,
        "last_name": agent.last_name,
        "email": agent.email,
        "role": agent.role,
        "queues": agent.queues,
        "active": agent.active,
        "language": agent.language,
        "timezone": agent.timezone,
        "open_load": int(agent.open_load or 0),
        "alerts": {"email": agent.alert_email, "slack": bool(agent.slack_webhook), "telegram": agent.telegram_chat},
    }


def token_view(record: Key) -> dict[str, Any]:
    """A token as its holder and admins see it: who issued it, when, until when, last used.
    A token issued before tokens expired shows no issuer or issue time, and no expiry until its
    first use since (chalicelib/agents/tokens.py)."""
    return {
        "token_id": tokens.token_id_of(record),
        "issued_by": record.issued_by,
        "issued_at": _iso(record.issued_at),
        "expires_at": _iso(record.until),
        "last_used_at": _iso(record.last_used_at),
        "expired": record.until is not None and clock.now() >= record.until,
    }


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None
