"""Finished tickets a page at a time across several queues (chalicelib/agents/paging.py): every
ticket once, newest first, no empty last page, and a cursor the API did not write is a 400.

`index` below stands in for each queue's newest-first index (Ticket.by_queue_done): read after a
position, up to a count, as agents/work.py reads it.
"""

from __future__ import annotations

import base64
import json
import math

import pytest

from chalicelib.agents import paging
from chalicelib.errors import BadRequest


def entries(queue: str, count: int, *, offset: int = 0, step: int = 1) -> list[paging.Entry]:
    """`count` finished tickets of `queue`, newest first (sort keys are times, written as text)."""
    times = [offset + step * n for n in range(count)]
    return [
        paging.Entry(queue, f"2026-11-16T09:{t // 60:02d}:{t % 60:02d}.000Z", f"PR-{queue}-{t}")
        for t in reversed(times)
    ]


def read(index: dict[str, list[paging.Entry]], positions: dict[str, paging.Position], count: int):
    """Each queue's next `count` entries after its position, as a Query with last_evaluated_key gives them."""
    result = {}
    for queue, position in positions.items():
        listed = index[queue]
        start = 0 if position is None else next(i + 1 for i, e in enumerate(listed) if e.position == tuple(position))
        result[queue] = listed[start : start + count]
    return result


def every_page(index: dict[str, list[paging.Entry]], limit: int) -> list[paging.Page]:
    pages, cursor = [], None
    while True:
        positions = paging.start(cursor, tuple(index))
        page = paging.merge(read(index, positions, limit + 1), positions, limit)
        pages.append(page)
        cursor = page.cursor
        if cursor is None or len(pages) > 100:
            return pages


@pytest.mark.parametrize(
    ("sizes", "limit"),
    [
        ({"general": 5}, 2),
        ({"general": 4}, 2),  # the last page is full: no empty page after it
        ({"general": 0}, 3),
        ({"general": 3, "billing": 3}, 3),
        ({"general": 7, "billing": 1, "tech": 0}, 2),
        ({"general": 1, "billing": 9, "tech": 4}, 5),
        ({"general": 12, "billing": 12}, 1),
        ({"general": 2, "billing": 2}, 50),
    ],
)
def test_paging_shows_every_finished_ticket_once_newest_first(sizes, limit):
    # interleaved times, so the newest of each page come from different queues
    index = {queue: entries(queue, count, offset=n, step=len(sizes)) for n, (queue, count) in enumerate(sizes.items())}
    pages = every_page(index, limit)
    shown = [entry for page in pages for entry in page.entries]
    everything = sorted((e for listed in index.values() for e in listed), key=lambda e: e.position, reverse=True)
    assert shown == everything
    assert all(len(page.entries) <= limit for page in pages)
    assert len(pages) == max(1, math.ceil(len(everything) / limit))
    assert all(page.entries for page in pages[1:])  # a "next page" is never empty


def test_a_first_page_starts_every_queue_from_the_top():
    assert paging.start(None, ("general", "billing")) == {"general": None, "billing": None}


def test_a_cursor_leaves_out_the_queues_that_are_finished_and_keeps_the_untouched_ones():
    index = {
        "general": entries("general", 3, offset=100),  # older than anything taken: untouched
        "billing": entries("billing", 1, offset=300),  # its only ticket is the newest: finished
        "tech": entries("tech", 9, offset=200),
    }
    positions = paging.start(None, tuple(index))
    page = paging.merge(read(index, positions, 4), positions, 3)
    assert [e.queue for e in page.entries] == ["billing", "tech", "tech"]
    assert paging.start(page.cursor, tuple(index)) == {"general": None, "tech": index["tech"][1].position}
    assert page.cursor is not None and "=" not in page.cursor


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "курсор",
        _cursor(["general", None]),  # not an object
        _cursor({"secret-queue": None}),  # a queue the agent does not see
        _cursor({"general": ["2026-11-16T09:00:00.000Z"]}),  # half a position
        _cursor({"general": [1, 2]}),
        _cursor({"general": "PR-1"}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not text
        "",
    ],
)
def test_a_cursor_this_list_did_not_give_is_a_bad_request(cursor):
    with pytest.raises(BadRequest) as refused:
        paging.start(cursor, ("general", "billing"))
    assert (refused.value.status, refused.value.field) == (400, "after")
