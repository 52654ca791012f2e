"""`GET /console/t/{id}/files/{ref}/{index}`: what a thumbnail and a file's link in the thread
open. After the ticket page's own authorization (chalicelib/attachments/opening.py), a 303 to a
presigned S3 link that lasts `[attachments] link_minutes`: the bytes never pass through a Lambda,
and no page holds a link that outlives the agent's right to see the ticket. The redirect is not
cached (`no-store`, like every console answer), so each click is authorized afresh.

A file whose bytes are not kept is a page saying why (409); anything that is not a file of a
ticket the agent sees is the same 404 as a ticket that does not exist.
"""

from __future__ import annotations

from chalice.app import Response

from chalicelib import log
from chalicelib.attachments import opening
from chalicelib.console import web
from chalicelib.errors import Conflict
from chalicelib.http import console_response


def open_file(visit: web.Visit, ticket_id: str, segment: str, index: str) -> Response:
    try:
        entry = opening.stored_file(visit.signed.actor, ticket_id, segment, index)
    except Conflict as not_kept:  # pending, quarantined, refused...: its own words, not "nothing was changed"
        return web.refused(visit.request, "file", not_kept.status, visit.signed, detail=str(not_kept))
    link = opening.opened(entry)
    log.info("file opened", ticket_id=ticket_id, inline=link.inline)
    return console_response("", location=link.url)
