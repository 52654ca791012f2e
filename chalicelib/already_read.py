"""What a job already read: the single keys-table items it fetched up front, in one consistent
BatchGetItem, so the functions it calls need not each GetItem their own (a new ticket's job asks
for six, new_ticket.py). A function given one uses it only for the keys it asked for: a key asked
and not found does not exist, a key not asked is read as ever. Callers without one (an answer, an
SLA alert, the old "ack" and "offer" jobs) pass nothing and read for themselves.

Read strongly consistently, since some of these decide a send (`sent#` markers); it lives for
one try of one job, so a retried job reads again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chalicelib.models import Key


@dataclass(frozen=True)
class AlreadyRead:
    """The keys asked for, and the items of those that exist."""

    asked: frozenset[str] = frozenset()
    found: Mapping[str, Key] = field(default_factory=dict)

    def knows(self, key: str) -> bool:
        """Whether `key` was asked for: then `item` is the answer, with no read."""
        return key in self.asked

    def item(self, key: str) -> Key | None:
        """The item of `key` as read (None: it does not exist, or it was not asked for)."""
        return self.found.get(key)


NOTHING = AlreadyRead()  # read for yourself


def read(wanted: Iterable[str]) -> AlreadyRead:
    """`wanted` in one consistent BatchGetItem (PynamoDB splits past 100 keys and retries the
    unprocessed ones)."""
    asked = frozenset(wanted)
    if not asked:
        return NOTHING
    return AlreadyRead(asked, {item.key: item for item in Key.batch_get(sorted(asked), consistent_read=True)})
