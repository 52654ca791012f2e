"""One desk-local day of facts: a paginated Query on the `day` partition, never a Scan.

Facts are keyed by the day the desk's clock showed when they happened (`chalicelib/facts.py`),
so a day's facts are exactly one partition and the digest's cost grows with the day's activity,
not with history. Items are read raw (PynamoDB's low-level Query through the model's own
connection) and turned into small `Row`s: building a full `Fact` model per item costs ~18 µs,
seven times more, which is seconds on a busy day. Rows are yielded as they come, so memory
holds one page (≤ 1 MB) of items, not the day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.models import Fact

# The attributes a row needs; `day` is the key we asked for and `at` is the fact_key's prefix.
ATTRIBUTES = ("fact_key", "kind", "ticket_id", "channel", "queue", "data")


@dataclass(frozen=True, slots=True)
class Row:
    at: datetime  # UTC
    kind: str
    ticket: str
    channel: str
    queue: str
    data: dict[str, Any]


@dataclass
class Reads:
    """What reading cost: Query calls and items returned, per day read."""

    queries: int = 0
    items: int = 0
    per_day: dict[str, int] = field(default_factory=dict)


def day_rows(day: str, reads: Reads | None = None) -> Iterator[Row]:
    """Every fact of the desk-local `day` ("2026-11-23"), oldest first."""
    connection = Fact._get_connection()
    start: dict[str, Any] | None = None
    reads = reads if reads is not None else Reads()
    reads.per_day.setdefault(day, 0)
    while True:
        page = connection.query(day, attributes_to_get=list(ATTRIBUTES), exclusive_start_key=start)
        reads.queries += 1
        items = page.get("Items", [])
        reads.items += len(items)
        reads.per_day[day] += len(items)
        for item in items:
            yield _row(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _row(item: dict[str, dict[str, str]]) -> Row:
    key = item["fact_key"]["S"]
    raw = item.get("data", {}).get("S")
    return Row(
        at=datetime.fromisoformat(key.split("#", 1)[0]),
        kind=item["kind"]["S"],
        ticket=item["ticket_id"]["S"],
        channel=item["channel"]["S"],
        queue=item["queue"]["S"],
        data=json.loads(raw) if raw else {},
    )
