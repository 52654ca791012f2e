"""`GET /console/t/{id}/messages/{ref}/original`: "Show the whole message" under an email in the
thread. The ticket page stores only what the customer wrote; this shows the mail as received,
quoted history and signature included, read again from the raw mail (chalicelib/originals.py).

For htmx it is a fragment that takes the control's place, folded away again by its own summary
(a `<details>`: no script); without script the same link opens it as a page of its own. The text
is escaped and its whitespace kept, quoted lines (">") muted. Another queue's ticket, a message
that is not an inbound email, or a path the console did not make is a 404 (for htmx a fragment,
else the refusal page); raw
mail past its keeping days is a 410 and S3 failing a 503, each saying so in the agent's words.
Nothing here writes, and the answer is not cached (`no-store`, like every console answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalice.app import Response

from chalicelib import originals, stage
from chalicelib.console import web
from chalicelib.errors import NotFound, Unavailable


@dataclass(frozen=True)
class Line:
    text: str
    quoted: bool  # starts with ">" (after spaces): history, shown muted


def show(visit: web.Visit, ticket_id: str, segment: str) -> Response:
    context: dict[str, Any] = {"problem": None, "days": None, "lines": [], "raw_size": 0}
    status = 200
    try:
        found = originals.read(visit.signed.actor, ticket_id, segment)
        context.update(lines=lines_of(found.text), raw_size=found.raw_size)
    except originals.MailGone as gone:
        context.update(problem="gone", days=gone.days)
        status = gone.status
    except Unavailable as busy:
        context.update(problem="unavailable")
        status = busy.status
    except NotFound:
        if not visit.htmx:
            raise  # the door's refusal page
        context.update(problem="missing")  # in place: a whole refusal page would land inside the thread
        status = NotFound.status
    context.update(
        ticket_id=ticket_id,
        ticket_url=stage.ticket_page(ticket_id),
        anchor=segment.rpartition(".")[2],
        fragment=visit.htmx,
    )
    return visit.page("ticket_whole", context, status, section="queue")


def lines_of(text: str) -> list[Line]:
    return [Line(line, line.lstrip().startswith(">")) for line in text.split("\n")]
