"""What an agent does on the ticket page: answer or note (the composer), take, hand over, assign,
move the status, change the priority, and the page's heartbeat (presence).

Each POST goes through the console's door (origin and CSRF checked before anything is read),
validates its fields with the JSON API's own models, and calls the same function in
agents/work.py the API calls: the console and the API refuse and allow exactly alike. Success is
a 303 back to the ticket page (Post/Redirect/Get: a reload never posts again). A refusal the agent
can fix renders the ticket page again with the reason beside the control — and the composer's
draft as it was typed: a refused, held or repeated send never loses what the agent wrote.

The composer (`send`): one form, Reply or Note. A reply carries what the page showed (the
ticket's version and newest entry): if the customer wrote, or another agent answered or added a
note since, it is held — 409, the new entries above the kept draft, and "Send anyway" sends it
with the new marker (work.Stale). Its form id makes a repeat harmless (console/submits.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response
from pydantic import BaseModel, ValidationError

from chalicelib import api, clock, log, stage
from chalicelib.agents import work
from chalicelib.agents.access import visible_ticket
from chalicelib.attachments import answers
from chalicelib.console import presence, submits, thread, ticket_page, web, words
from chalicelib.console.ticket_page import Composer, Problem
from chalicelib.errors import BadRequest, Conflict, PromptlyError
from chalicelib.http import console_response, error_response, json_response, sentence
from chalicelib.models import Ticket

MODES = ("reply", "note")
REPLY_THEN = ("send", "pending", "solved")  # the reply buttons: send, send and set pending, send and solve


# --- the composer --------------------------------------------------------------------------------
def send(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/send: the composer (an answer or an internal note)."""
    form, actor = visit.form, visit.signed.actor
    mode, then = form.get("mode", ""), form.get("then", "")
    draft = Composer(
        mode=mode if mode in MODES else "reply", text=form.get("text", ""), submit_id=form.get("submit", "")
    )
    if not submits.valid(draft.submit_id):
        return _refused(visit, ticket_id, draft, BadRequest("the form is out of date: reload the page"))
    if not ((mode == "note" and then == "note") or (mode == "reply" and then in REPLY_THEN)):
        # a Note button in reply mode (or the reverse) is a page we did not make: never guess which was meant
        return _refused(visit, ticket_id, draft, BadRequest("choose Reply or Note, then its own button"))
    files = form.get("files", "").split() if mode == "reply" else []  # the composer's uploads, by key
    try:
        text = _valid(api.Answer if files else api.Text, {"text": draft.text}).text
        seen = work.Seen.of(int(form.get("seen_version", "")), form.get("seen", "")) if mode == "reply" else None
    except (BadRequest, ValueError) as error:
        return _refused(visit, ticket_id, draft, error if isinstance(error, BadRequest) else BadRequest("reload"))
    what = f"{mode}\n{then}\n{text}\n{' '.join(files)}"
    claim = submits.claim(actor.agent_id, draft.submit_id, ticket_id, what, clock.now())
    if claim.state == "done":
        return _back(ticket_id, claim.anchor)
    if claim.state == "busy":
        return _refused(
            visit, ticket_id, draft, Conflict("this form was sent already: reload the page to see what it did")
        )
    try:
        if mode == "note":
            anchor = f"m-{work.note(actor, ticket_id, text).message_id}"
        else:
            anchor = f"m-{work.reply(actor, ticket_id, text, seen=seen, files=files).message_id}"
    except work.Stale as held:
        submits.release(actor.agent_id, draft.submit_id)
        log.info("console answer held as stale", ticket_id=ticket_id, agent_id=actor.agent_id)
        names = thread.names_on(held.entries, {})
        kept = Composer(mode, draft.text, draft.submit_id, tuple(thread.entries(held.entries, names)))
        return _refused(visit, ticket_id, kept, held, where="")  # the held news says why
    except (BadRequest, Conflict) as error:  # refused before anything was written
        submits.release(actor.agent_id, draft.submit_id)
        return _refused(visit, ticket_id, draft, _in_words(visit, error))
    except PromptlyError:  # not theirs (404, 403): refused before anything was written, shown by the door
        submits.release(actor.agent_id, draft.submit_id)
        raise
    submits.done(actor.agent_id, draft.submit_id, anchor)
    if then in ("pending", "solved"):
        return _then(visit, ticket_id, then, anchor)
    return _back(ticket_id, anchor)


def upload(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/uploads (the composer's script, for each picked file): where to upload
    it (JSON, `links.upload_key` and `links.upload_form`), or why it cannot go, in the agent's
    words (the error's `Message`), before anything is sent."""
    form = visit.form
    try:
        data = _valid(
            api.Upload, {name: form[name] for name in ("name", "type", "size", "count", "total") if name in form}
        )
        picked = answers.Picked(data.name, data.type, data.size, data.count, data.total)
        return json_response({"links": work.upload(visit.signed.actor, ticket_id, picked)})
    except (BadRequest, Conflict) as error:
        return error_response(_in_words(visit, error))


def _in_words(visit: web.Visit, error: BadRequest | Conflict) -> BadRequest | Conflict:
    """A file's refusal said in the agent's language (the others are the API's words)."""
    if not isinstance(error, answers.Refused):
        return error
    return BadRequest(words.catalog(visit.language)[error.key].format_map(_Blank(error.values)), field="files")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _then(visit: web.Visit, ticket_id: str, target: str, anchor: str) -> Response:
    """The status half of "send and set pending / solve": the answer is out whatever happens here;
    a refusal (someone changed the ticket meanwhile) is shown with an empty composer (the draft
    went out), and a reload repeats nothing (the form's id is done)."""
    try:
        work.set_status(visit.signed.actor, ticket_id, target)
    except (BadRequest, Conflict) as error:
        return _refused(visit, ticket_id, None, error, where="status")
    return _back(ticket_id, anchor)


# --- the other actions ---------------------------------------------------------------------------
def take(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/take"""
    return _act(visit, ticket_id, "take", lambda: work.take(visit.signed.actor, ticket_id))


def handover(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/handover: to an agent of the queue, with a reason."""

    def act() -> Any:
        data = _valid(api.Handover, {"to": visit.form.get("to", ""), "reason": visit.form.get("reason", "")})
        return work.handover(visit.signed.actor, ticket_id, data.to, data.reason)

    return _act(visit, ticket_id, "owner", act)


def assign(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/assign (leads and admins)."""

    def act() -> Any:
        data = _valid(api.Assign, {"to": visit.form.get("to", ""), "reason": visit.form.get("reason", "")})
        return work.assign(visit.signed.actor, ticket_id, data.to, data.reason)

    return _act(visit, ticket_id, "owner", act)


def status(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/status"""
    wanted = visit.form.get("status", "")

    def act() -> Any:
        data = _valid(api.Status, {"status": wanted})
        try:
            return work.set_status(visit.signed.actor, ticket_id, data.status)
        except Conflict:
            if visible_ticket(visit.signed.actor, ticket_id, consistent=True).status == data.status:
                return None  # a second click of the same button: it is so already
            raise

    return _act(visit, ticket_id, "status", act)


def priority(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/priority (urgent needs its reason)."""

    def act() -> Any:
        reason = visit.form.get("reason", "").strip() or None
        data = _valid(api.Priority, {"priority": visit.form.get("priority", ""), "reason": reason})
        return work.set_priority(visit.signed.actor, ticket_id, data.priority, data.reason)

    return _act(visit, ticket_id, "priority", act)


def _act(visit: web.Visit, ticket_id: str, where: str, action: Callable[[], Any]) -> Response:
    """Run one action: back to the page, or the page again with why it was refused."""
    try:
        action()
    except (BadRequest, Conflict) as error:
        return _refused(visit, ticket_id, None, error, where=where)
    return _back(ticket_id)


# --- presence ------------------------------------------------------------------------------------
def beat(visit: web.Visit, ticket_id: str) -> Response:
    """POST /console/t/{id}/presence: the page's heartbeat (htmx, every 10 s) → who else is here.
    Record this agent on the ticket (one write) and answer the banner: who else is here,
    replying first, and whether the ticket has news the page does not show."""
    actor, form = visit.signed.actor, visit.form
    ticket = visible_ticket(actor, ticket_id)
    mode: presence.Mode = "replying" if form.get("mode") == "replying" else "viewing"
    viewers = presence.beat(ticket_id, actor.agent_id, actor.name, mode, clock.now())
    context = {"viewers": viewers, "news": _news(visit, ticket), "ticket_url": stage.ticket_page(ticket_id)}
    return visit.page("ticket_presence", context)


def _news(visit: web.Visit, ticket: Ticket) -> int:
    """How many entries the page has not shown that an answer would be held for (0 while the
    ticket's version is the page's: no read)."""
    seen_version, seen = visit.form.get("seen_version", ""), visit.form.get("seen", "")
    if not (seen_version.isascii() and seen_version.isdigit()) or int(seen_version) == int(ticket.version or 0):
        return 0
    fresh = work.entries_since(ticket.ticket_id, work.Seen.of(0, seen).newest)
    return sum(1 for entry in fresh if work.is_news(entry, visit.signed.actor))


# --- answers -------------------------------------------------------------------------------------
def _back(ticket_id: str, anchor: str = "") -> Response:
    return console_response("", location=stage.ticket_page(ticket_id) + (f"#{anchor}" if anchor else ""))


def _refused(
    visit: web.Visit,
    ticket_id: str,
    draft: Composer | None,
    error: BadRequest | Conflict,
    *,
    where: str = "composer",
) -> Response:
    """The ticket page again, as it is now, with why (beside the control `where`; "" says nothing)
    and the draft kept, answered with the error's own status."""
    log.info("console action refused", ticket_id=ticket_id, where=where, status=error.status)
    ticket, messages, cursor = work.open_page(visit.signed.actor, ticket_id)
    problem = Problem(where, error.message) if where else None
    return ticket_page.render_page(visit, ticket, messages, cursor, draft, problem=problem, status=error.status)


def _valid(model: type[Any], data: dict[str, Any]) -> Any:
    """`data` checked by the JSON API's model of the same action: the same limits, the same words."""
    try:
        checked: BaseModel = model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "form"
        raise BadRequest(f"{where}: {sentence(error)}", field=where) from None
    return checked
