"""The queue: the console's list of tickets, one view at a time, soonest due first, a page of
PAGE_SIZE at a time, refreshing itself.

Views (`?view=`): Mine (live tickets assigned to me, across my queues), Unassigned, Breaching
soon (a running clock has reached its policy's first alert share, or is late), Waiting on
customer (pending, waiting longest first), Automated (robot mail, newest first: never in any
other view), All open (leads and admins; breaching soon first, then by due, then waiting). The
default is Mine while the agent owns live tickets (their `open_load`, read with the session:
free), else Unassigned: what they owe first, else what nobody has taken.

What a page costs in DynamoDB calls: the session (one TransactGetItems, web.visit), one Query
per queue of the view (Mine is one Query whatever the queues: by_owner is keyed by the owner)
and, when there are rows, one BatchGetItem of who has them open (presence). Each view is one
key range of a sparse index (models.py says which and why), read for PAGE_SIZE + 1 items: no
filter, so no short pages. The title's counts (unassigned, breaching soon) cost two COUNT
Queries per queue and are read only by the list's refresh (`HX-Request`), every
REFRESH_SECONDS, never by the page itself; the page shows the counts the last refresh left in
the browser (20-queue.js).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from chalice.app import Response

from chalicelib import clock, stage
from chalicelib.agents import paging
from chalicelib.agents.access import Actor, require, visible_queues
from chalicelib.config import settings
from chalicelib.console import clocks, presence, web, words
from chalicelib.console.clocks import Clock
from chalicelib.console.presence import Viewer
from chalicelib.errors import BadRequest
from chalicelib.http import console_response
from chalicelib.models import Ticket

PAGE_SIZE = 50
REFRESH_SECONDS = 15
COUNT_CAP = 100  # a count stops there ("99+"): a COUNT Query reads what it counts
VIEWS = ("mine", "unassigned", "breaching", "waiting", "automated", "all")
TICKET_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
MAX_KEY = 120  # a position's key as this page writes it is under 80 characters


@dataclass(frozen=True)
class Listing:
    tickets: list[Ticket]
    cursor: str | None  # the next page's `after`, None on the last page


@dataclass(frozen=True)
class Row:
    """A ticket as its row shows it."""

    ticket: Ticket
    url: str
    clock: Clock | None
    label: str  # which clock: "First response"...
    countdown: str  # "in 42 min · 16:40", "paused · 1 hr left"
    due: str  # the clock's due time, ISO (the <time> element's datetime)
    level: str  # ok | warn | late | breach | paused | none: the row's .level-* class
    viewers: list[Viewer]


def page(visit: web.Visit) -> Response:
    """GET /console/queue: a view of the agent's tickets; with HX-Request, only its rows."""
    actor = visit.signed.actor
    view = _view(visit)
    wanted = visit.query.get("queue") or None
    queues = _queues(actor, view, wanted)
    listing = list_view(actor, view, queues, visit.query.get("after") or None)
    now = clock.now()
    ids = [ticket.ticket_id for ticket in listing.tickets]
    viewers = presence.on_tickets(ids, now, exclude=actor.agent_id) if ids else {}
    zone = visit.agent.timezone or settings().desk.timezone
    rows = [_row(ticket, now, zone, visit.language, viewers.get(ticket.ticket_id, [])) for ticket in listing.tickets]
    context = {
        "view": view,
        "rows": rows,
        "tabs": _tabs(actor, view),
        "chips": _chips(actor, view, wanted),
        "here": _url(view, wanted, visit.query.get("after") or None),
        "next_url": _url(view, wanted, listing.cursor) if listing.cursor else None,
        "first_url": _url(view, wanted) if visit.query.get("after") else None,
        "refresh_seconds": REFRESH_SECONDS,
        "fragment": visit.htmx,
    }
    if visit.htmx:
        unassigned, breaching = counts(actor)
        context.update(unassigned=_shown(unassigned), breaching=_shown(breaching))
        context["title"] = _title(visit, context)
        html = web.render_page("queue_rows", visit.language, context)
        return console_response(html)
    return visit.page("queue", context, section="queue")


def _view(visit: web.Visit) -> str:
    """The view asked for; else Mine while the agent owns live tickets, else Unassigned."""
    view = visit.query.get("view") or ("mine" if int(visit.agent.open_load or 0) > 0 else "unassigned")
    if view not in VIEWS:
        raise BadRequest(f"view: one of {', '.join(VIEWS)}", field="view")
    return view


def _queues(actor: Actor, view: str, wanted: str | None) -> tuple[str, ...]:
    """The queues the view reads: the actor's (every queue for leads and admins), or the one
    asked for among them (another is a 404). All open is for leads and admins (403)."""
    if view == "all":
        require(actor, "lead", "admin")
    return visible_queues(actor, wanted, tuple(settings().queues))


def list_view(actor: Actor, view: str, queues: tuple[str, ...], after: str | None) -> Listing:
    """A page of the view: each stream (an index partition, one per queue but for Mine) read
    from where `after` left it, merged in the view's order."""
    streams = _streams(actor, view, queues)
    positions = paging.start(after, tuple(streams))
    for stream, position in positions.items():
        if position is not None and not _valid(view, position):
            raise BadRequest(paging.BAD_CURSOR, field="after")
    found: dict[str, Ticket] = {}
    read: dict[str, list[paging.Entry]] = {}
    for stream, position in positions.items():
        tickets = _read(view, stream, position)
        found.update((ticket.ticket_id, ticket) for ticket in tickets)
        read[stream] = [paging.Entry(stream, _key(view, ticket), ticket.ticket_id) for ticket in tickets]
    merged = paging.merge(read, positions, PAGE_SIZE, newest_first=view == "automated")
    visible = set(queues)
    shown = [found[entry.ticket_id] for entry in merged.entries]
    # Mine reads the owner's partition: a ticket of a queue they no longer work is not theirs to see
    return Listing([ticket for ticket in shown if ticket.queue in visible or view != "mine"], merged.cursor)


def _streams(actor: Actor, view: str, queues: tuple[str, ...]) -> dict[str, str]:
    """Stream name (as the cursor names it) → the index partition it reads."""
    if view == "mine":
        return {f"agent#{actor.agent_id}": f"agent#{actor.agent_id}"}
    if view == "unassigned":
        return {f"free#{queue}": f"free#{queue}" for queue in queues}
    if view == "automated":
        return {f"robot#{queue}": f"robot#{queue}" for queue in queues}
    return {queue: queue for queue in queues}


BANDS = {"breaching": "b#", "waiting": "p#"}  # by_queue's bands (lifecycle.refresh_index)
ALL_BELOW = "r"  # All open: every band before robot mail ("r#")


def _read(view: str, stream: str, position: paging.Position) -> list[Ticket]:
    """Up to PAGE_SIZE + 1 tickets of one stream after `position`: one Query."""
    count = PAGE_SIZE + 1
    if view in ("mine", "unassigned", "automated"):
        start = None if position is None else _start("owner_lane", stream, "owner_key", position)
        return list(
            Ticket.by_owner.query(stream, scan_index_forward=view != "automated", limit=count, last_evaluated_key=start)
        )
    start = None if position is None else _start("open_queue", stream, "due_key", position)
    condition = Ticket.due_key.startswith(BANDS[view]) if view in BANDS else Ticket.due_key < ALL_BELOW
    return list(Ticket.by_queue.query(stream, condition, limit=count, last_evaluated_key=start))


def _start(hash_name: str, stream: str, range_name: str, position: tuple[str, str]) -> dict[str, dict[str, str]]:
    key, ticket_id = position
    return {hash_name: {"S": stream}, range_name: {"S": key}, "ticket_id": {"S": ticket_id}}


def _key(view: str, ticket: Ticket) -> str:
    return str(ticket.owner_key if view in ("mine", "unassigned", "automated") else ticket.due_key)


def _valid(view: str, position: tuple[str, str]) -> bool:
    """A position this page could have written: the ticket's own key, inside the view's range
    (DynamoDB refuses a start key outside the Query's key condition: a 500, were it not checked)."""
    key, ticket_id = position
    if not TICKET_ID.fullmatch(ticket_id) or len(key) > MAX_KEY or not key.endswith(f"#{ticket_id}"):
        return False
    if view in BANDS:
        return key.startswith(BANDS[view])
    return key < ALL_BELOW if view == "all" else True


def counts(actor: Actor) -> tuple[int, int]:
    """Unassigned and breaching soon in the actor's queues, each up to COUNT_CAP per queue: two
    Queries per queue, of ticket ids only (a COUNT Query costs the same reads, and PynamoDB's
    count() would page on past the cap)."""
    unassigned = breaching = 0
    ids = ["ticket_id"]
    for queue in visible_queues(actor, None, tuple(settings().queues)):
        free = Ticket.by_owner.query(f"free#{queue}", limit=COUNT_CAP, attributes_to_get=ids)
        near = Ticket.by_queue.query(queue, Ticket.due_key.startswith("b#"), limit=COUNT_CAP, attributes_to_get=ids)
        unassigned, breaching = unassigned + len(list(free)), breaching + len(list(near))
    return unassigned, breaching


def _shown(count: int) -> str:
    return f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)


def _title(visit: web.Visit, context: dict[str, Any]) -> str:
    """The browser tab's title: "(3 · 1) Queue · Promptly Support" (unassigned · breaching soon)."""
    title = words.catalog(visit.language)["queue_title"]
    return f"({context['unassigned']} · {context['breaching']}) {title} · {settings().desk.name}"


def _row(ticket: Ticket, now: datetime, zone: str, language: str, viewers: list[Viewer]) -> Row:
    nearest = clocks.nearest(clocks.running(settings(), ticket, now))
    if nearest is None:
        return Row(ticket, stage.ticket_page(ticket.ticket_id), None, "", "", "", "none", viewers)
    return Row(
        ticket,
        stage.ticket_page(ticket.ticket_id),
        nearest,
        clocks.label(nearest.kind, language),
        clocks.countdown(nearest, now, zone, language),
        clock.iso(nearest.due),
        _level(ticket, nearest),
        viewers,
    )


def _level(ticket: Ticket, clock_: Clock) -> str:
    """The row's colour: paused; breach; "late" for a warning past the policy's first share
    (its later alerts went out), "warn" at the first; ok."""
    if clock_.paused:
        return "paused"
    if clock_.level == "warn":
        first = settings().policy_for(ticket.channel, ticket.priority).alert_at[0]
        return "late" if clock_.share is not None and clock_.share > first else "warn"
    return clock_.level


def _url(view: str, queue: str | None, after: str | None = None) -> str:
    query = {"view": view, **({"queue": queue} if queue else {}), **({"after": after} if after else {})}
    return web.url("/queue?" + urlencode(query))


def _tabs(actor: Actor, view: str) -> list[dict[str, Any]]:
    """The views' tabs (All open only for leads and admins)."""
    shown = VIEWS if actor.sees_all else tuple(name for name in VIEWS if name != "all")
    return [{"view": name, "url": _url(name, None), "current": name == view} for name in shown]


def _chips(actor: Actor, view: str, wanted: str | None) -> list[dict[str, Any]]:
    """One link per queue (and one for all of them) when the view reads several; none for Mine."""
    queues = visible_queues(actor, None, tuple(settings().queues))
    if view == "mine" or len(queues) < 2:
        return []
    named = settings().queues
    chips = [{"name": None, "label": None, "url": _url(view, None), "current": wanted is None}]
    return chips + [
        {
            "name": queue,
            "label": named[queue].name if queue in named else queue,
            "url": _url(view, queue),
            "current": queue == wanted,
        }
        for queue in queues
    ]
