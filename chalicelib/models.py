"""PynamoDB models: what Promptly stores and the lookups it does on them.

Table names come from the stage (`promptly-<stage>-<table>`) and are read when this module
is imported, so the environment must be set first (see tests/conftest.py).

- Ticket    one item per ticket, keyed by its public reference ("PR-7K3QX9M2").
- Message   the conversation: every inbound, outbound and internal message of a ticket,
            sorted by time, so "open a ticket" is one Query.
- Customer  a person, whatever channel they use.
- Key       one table of exact-match lookups, each a GetItem: provider deliveries
            (idempotency), contact → customer, thread → ticket, acknowledgement cooldown,
            acknowledgement rate counters, the email suppression list, who has a ticket open
            in the console. chalicelib/keys.py builds every kind of key and gives its shape.
- Fact      what happened when, keyed by the desk-local day, for the KPI digest.
- Agent     a person of the desk: role, queues, where they want alerts, open load.

Indexes (each holds only the items that need it, so reads cost what the work costs):
- Ticket.by_queue   live tickets (new/open/pending) of a queue, in bands of its `due_key`
                    (lifecycle.refresh_index): "b#" breaching soon (a running clock has reached the
                    policy's first alert share, or is late), "d#" due later, "p#" pending (waiting
                    on the customer, by when the pause began), "r#" robot mail (by arrival); each
                    band soonest due first. So the console's Breaching soon, Waiting on customer,
                    Automated and All open views are each one Query (a key range, never a filter
                    that could return a short page). The key ends with the ticket id: unique, so a
                    page's position is one value and pages across queues merge exactly.
                    It projects whole tickets (ALL), for its readers that need them: the agents'
                    API list (api.ticket_view shows every field), the digest, and reindex_live
                    (which saves what it reads). That costs a rewrite of the copy (1 WCU) on every
                    write to a live ticket; for a new ticket 2 (intake, and the acknowledgement's
                    record that carries routing's offer, new_ticket.py).
                    Rows-only (INCLUDE ROW_ATTRIBUTES, as by_owner) would spare the writes that
                    touch no row attribute but put a BatchGetItem behind the API list and the
                    reindex: not done yet.
- Ticket.by_owner   live tickets by who works them: "agent#<id>" (the console's Mine, across
                    queues), "free#<queue>" (Unassigned), "robot#<queue>" (robot mail, owned or
                    not: never in a person's list), soonest due first. It projects only what a
                    queue row shows (ROW_ATTRIBUTES), not the whole ticket: DynamoDB writes an
                    index only when an item's key or projected attributes change, so the writes
                    that touch neither (a message's time, a planned alert, the version) cost it
                    nothing, and it holds a few hundred bytes per live ticket. The views that read
                    by_queue (ALL, as the SLA list and the digest need) do not pay for a copy.
                    Why Breaching soon is a band of by_queue and not an index of its own: a ticket
                    is in one partition of an index, and "breaching" cuts across owners; and
                    CloudFormation adds one index to a table per stack update, so a release that
                    adds two fails to deploy on an existing stage.
- Ticket.by_solved  solved tickets by solve time: the quiet-period close reads only those due.
                    ALL: the close saves the tickets it reads. Written when a ticket is solved,
                    on the few writes while it is solved (a rating), and when it leaves; not on a
                    new ticket's path. Keys only plus a BatchGetItem (as by_alert) would do too.
- Ticket.by_alert   tickets whose next SLA warning is planned, sharded: the minute job's Query.
                    Keys only: nearly every write to a live ticket (the acknowledgement's state,
                    routing's offer, an answer, a note's time, the version) changed a projected
                    attribute of an ALL index and rewrote the ticket's copy there (1 WCU a write),
                    while the watch reads it once a minute for the few tickets due. Now only a
                    change of the planned warning's time or shard writes it (keys ~100 bytes), and
                    the watch reads the due tickets with one consistent BatchGetItem per hundred
                    (sla/watch.py due_tickets) — which also gives it their latest version.
- Ticket.by_queue_done  solved and closed tickets of a queue, newest first: the agents' API's
                    list of finished work, a page at a time. Keys only, because of what it costs:
                    DynamoDB writes to an index only when an item's projected attributes change, so
                    this one is written when a ticket becomes solved or closed, or stops being so
                    (about 1 WCU; 2 for solved → closed, whose time moves), never on the later
                    writes to a finished ticket (a rating, a survey answer, a quiet close's event)
                    that would rewrite a whole projected ticket; and it holds ~100 bytes per ticket,
                    not a second copy of the desk's history. A page then costs one keys-only Query
                    per queue and one BatchGetItem of the page's tickets.
- Ticket.by_customer  a customer's tickets, newest first: the console's search (a phone number or
                    messenger id → its contact key → the customer → here) and a ticket's previous
                    ones. Keys only, on attributes every ticket has from its creation and never
                    changes (customer_id, created_at): DynamoDB writes it once per ticket, ~100
                    bytes, whatever later writes the ticket gets; existing tickets are backfilled
                    by DynamoDB when the index is created.
- Ticket.by_email   tickets by the address the customer wrote from (email, the form, the chat's
                    typed address; lower-cased by every channel), newest first: the console's
                    search by email. Not through the `contact#email` key, which only a proven
                    (authenticated) sender gets: a form's or an unverified sender's tickets would be
                    unfindable by the address they show. Sparse (tickets with no address are not
                    in it), keys only, written once per ticket for the same reasons.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import stage


class _Meta:
    region = stage.region()
    billing_mode = "PAY_PER_REQUEST"


class ByQueue(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Live tickets of a queue, by band and then soonest due (see the module docstring). Sparse:
    `open_queue` is removed when a ticket is solved or closed, so the index never grows with
    history."""

    class Meta:
        index_name = "by_queue"
        projection = AllProjection()

    open_queue = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


# What a queue row of the console shows, and what its SLA clock is computed from (console/clocks.py:
# status, pause, dues; channel, priority and queue choose the policy and the calendar).
ROW_ATTRIBUTES = [
    "subject",
    "customer_name",
    "channel",
    "language",
    "priority",
    "status",
    "queue",
    "assignee",
    "assignee_name",
    "automated",
    "created_at",
    "paused_at",
    "first_response_due",
    "first_responded_at",
    "next_response_due",
    "resolution_due",
]


class ByOwner(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Live tickets by who works them, soonest due first (see the module docstring). Sparse:
    `owner_lane` is set only while the ticket is live. Holds ROW_ATTRIBUTES only: a ticket read
    from it is for showing, never for saving."""

    class Meta:
        index_name = "by_owner"
        projection = IncludeProjection(ROW_ATTRIBUTES)

    owner_lane = UnicodeAttribute(hash_key=True)
    owner_key = UnicodeAttribute(range_key=True)


class BySolved(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Solved tickets by when they were solved, for the quiet-period close. Sparse: only
    solved tickets carry `solved_shard`."""

    class Meta:
        index_name = "by_solved"
        projection = AllProjection()

    solved_shard = UnicodeAttribute(hash_key=True)
    solved_at = UTCDateTimeAttribute(range_key=True)


class ByQueueDone(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Solved and closed tickets of a queue by when they became so, newest first with
    `scan_index_forward=False`. Sparse (only finished tickets carry `done_queue`); keys only:
    read the tickets themselves with one BatchGetItem (see the module docstring for why)."""

    class Meta:
        index_name = "by_queue_done"
        projection = KeysOnlyProjection()

    done_queue = UnicodeAttribute(hash_key=True)
    done_at = UTCDateTimeAttribute(range_key=True)


class ByCustomer(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """A customer's tickets by when they were opened (newest first with
    `scan_index_forward=False`); keys only: see the module docstring for why."""

    class Meta:
        index_name = "by_customer"
        projection = KeysOnlyProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByEmail(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Tickets by the customer's email address (lower-cased) and when they were opened. Sparse
    (only tickets with an address), keys only: see the module docstring for why."""

    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByAlert(GlobalSecondaryIndex["Ticket"]):  # type: ignore[no-untyped-call]  # Index.__init_subclass__: untyped
    """Tickets whose next SLA warning is set, by when it is due. Sparse (only tickets with a
    running clock carry `alert_shard`) and sharded, so the minute job reads what is due. Keys
    only: see the module docstring for why."""

    class Meta:
        index_name = "by_alert"
        projection = KeysOnlyProjection()

    alert_shard = UnicodeAttribute(hash_key=True)
    next_alert_at = UTCDateTimeAttribute(range_key=True)


class Ticket(Model):
    class Meta(_Meta):
        table_name = stage.resource("tickets")

    ticket_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    customer_name = UnicodeAttribute(default="")  # as the customer gave it in this conversation
    channel = UnicodeAttribute()
    address = UnicodeAttribute()  # where replies on the ticket's channel go
    email = UnicodeAttribute(null=True)  # also acknowledged by email when known
    subject = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="new")
    priority = UnicodeAttribute(default="normal")
    queue = UnicodeAttribute()
    assignee = UnicodeAttribute(null=True)
    # the owner's name as it was when they took the ticket: the queue's rows show it without
    # reading the agents (tickets.hand_to sets both)
    assignee_name = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    timezone = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_message_at = UTCDateTimeAttribute()
    first_response_due = UTCDateTimeAttribute(null=True)
    first_responded_at = UTCDateTimeAttribute(null=True)
    promised_at = UTCDateTimeAttribute(null=True)  # what the acknowledgement told the customer
    # when "we usually answer within …" ends for this ticket, if the acknowledgement said it:
    # the first_response fact carries it, so the digest counts how often the "usually" held
    usual_by = UTCDateTimeAttribute(null=True)
    ack_state = UnicodeAttribute(default="none")  # none | pending | sent | suppressed
    automated = UnicodeAttribute(null=True)  # why no acknowledgement: auto-reply, bounce...
    thread_ref = UnicodeAttribute(null=True)  # customer's first Message-ID, for email threading
    solved_at = UTCDateTimeAttribute(null=True)
    last_solved_at = UTCDateTimeAttribute(null=True)  # kept after closing: which solve a rating link is about
    rating = UnicodeAttribute(null=True)  # the customer's verdict on the last solve: good | bad
    rating_comment = UnicodeAttribute(null=True)
    rated_at = UTCDateTimeAttribute(null=True)
    nps_score = NumberAttribute(null=True)  # the customer's answer to the survey sent when it closed
    nps_comment = UnicodeAttribute(null=True)
    nps_at = UTCDateTimeAttribute(null=True)
    previous_ticket = UnicodeAttribute(null=True)  # the closed ticket this conversation continues
    message_count = NumberAttribute(default=0)
    next_response_due = UTCDateTimeAttribute(null=True)  # runs while the customer waits on us again
    resolution_due = UTCDateTimeAttribute(null=True)
    paused_at = UTCDateTimeAttribute(null=True)  # pending or solved since: the SLA clocks stand still
    paused_total = NumberAttribute(default=0)  # business seconds spent paused so far (business-clock targets)
    paused_wall = NumberAttribute(null=True)  # wall seconds spent paused so far (wall-clock targets)
    awaiting_since = UTCDateTimeAttribute(null=True)  # the customer has been waiting on us since
    urgent_reason = UnicodeAttribute(null=True)
    organization = UnicodeAttribute(null=True)  # set for a verified requester of a known organization
    requester_unverified = UnicodeAttribute(null=True)  # the organization a stranger claims to speak for
    # how the sender who opened it was authenticated (channels/base.py: authenticated | unauthenticated
    # | claimed), and in words ("spf=pass dkim=pass dmarc=pass")
    sender_trust = UnicodeAttribute(null=True)
    sender_auth = UnicodeAttribute(null=True)
    stranger_to = UnicodeAttribute(null=True)  # a ticket this sender referred to without being its participant
    # why email to the customer no longer goes out: "bounced" (permanently) or "complained" (marked
    # as spam); SES told us (chalicelib/suppression.py), the address is on the suppression list
    email_undeliverable = UnicodeAttribute(null=True)
    introduce = UnicodeAttribute(null=True)  # agent whose next answer introduces them (handover)
    open_queue = UnicodeAttribute(null=True)  # = queue while live; the by_queue index key
    due_key = UnicodeAttribute(null=True)  # "<band>#<nearest due or when>#<ticket id>", the by_queue key
    by_queue = ByQueue()
    owner_lane = UnicodeAttribute(null=True)  # agent#<id> | free#<queue> | robot#<queue> while live
    owner_key = UnicodeAttribute(null=True)  # "<nearest due, or ~ and the pause>#<ticket id>"
    by_owner = ByOwner()
    solved_shard = UnicodeAttribute(null=True)  # "solved" while solved: the by_solved index key
    by_solved = BySolved()
    done_queue = UnicodeAttribute(null=True)  # = queue while solved or closed: the by_queue_done key
    done_at = UTCDateTimeAttribute(null=True)  # when it was last solved or closed
    by_queue_done = ByQueueDone()
    alert_shard = UnicodeAttribute(null=True)  # set while a warning is planned: the by_alert key
    next_alert_at = UTCDateTimeAttribute(null=True)
    next_alert = JSONAttribute(null=True)  # {"target", "share", "cycle", "due"} of that warning
    alerts_sent = JSONAttribute(default=dict)  # "<target>#<cycle>" → highest share alerted
    alert_log = JSONAttribute(default=list)  # who was alerted, for the next alert's text
    by_alert = ByAlert()
    by_customer = ByCustomer()  # on customer_id and created_at, which every ticket has
    by_email = ByEmail()  # on email (lower-cased), when the ticket has one
    version = VersionAttribute()  # every write checks it: two agents never overwrite each other


class Message(Model):
    class Meta(_Meta):
        table_name = stage.resource("messages")

    ticket_id = UnicodeAttribute(hash_key=True)
    message_key = UnicodeAttribute(range_key=True)  # "<iso time>#<message id>": sorts by time
    message_id = UnicodeAttribute()
    direction = UnicodeAttribute()  # in | out | note (internal) | event (audit trail)
    kind = UnicodeAttribute(default="message")  # message | ack | answer | ...
    channel = UnicodeAttribute()
    author = UnicodeAttribute()  # an agent's id, "customer", "desk", "routing", "sla"
    author_name = UnicodeAttribute(null=True)  # an agent author's name when written: what the console signs it with
    subject = UnicodeAttribute(default="")
    body = UnicodeAttribute(default="")
    attachments = JSONAttribute(default=list)
    provider_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    automated = UnicodeAttribute(null=True)
    raw_ref = UnicodeAttribute(null=True)
    trust = UnicodeAttribute(null=True)  # inbound: how its sender was authenticated (see Ticket.sender_trust)
    auth = UnicodeAttribute(null=True)
    # inbound: what the parser left unread, in words ("99,801 MIME parts not read (more than 200)");
    # absent when the whole message was read
    truncated = JSONAttribute(null=True)


class Customer(Model):
    class Meta(_Meta):
        table_name = stage.resource("customers")

    customer_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(default="")
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Key(Model):
    class Meta(_Meta):
        table_name = stage.resource("keys")

    key = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)  # on contact keys: the customer's language and zone,
    timezone = UnicodeAttribute(null=True)  # so intake needs no extra read of the customer
    owner = UnicodeAttribute(null=True)  # who holds a claim (the job that sent an ack), or a token's agent
    digest = UnicodeAttribute(null=True)  # an API token's SHA-256: the token itself is never stored
    data = JSONAttribute(null=True)  # small structured values (a queue's weekly duty roster)
    # ids in a membership key (staff#leaders): changed by ADD/DELETE, which concurrent writers
    # cannot undo for each other, unlike rewriting a list they both read
    members = UnicodeSetAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)  # a claim's end (acknowledgement cooldown); what a summary covers
    tally = NumberAttribute(null=True)  # a rate counter's sends in its window (chalicelib/limits.py)
    expires = TTLAttribute(null=True)  # DynamoDB deletes short-lived keys after this
    # a personal API token (chalicelib/agents/tokens.py) also has `owner` (its holder), `digest`,
    # `until` (when it stops working) and `expires` (when DynamoDB forgets it, a while after)
    issued_by = UnicodeAttribute(null=True)  # the agent who issued it: an admin, or the holder
    issued_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)  # to within tokens.USE_RECORDED_EVERY
    # who has a ticket open in the console (presence#): agent id → {"name", "mode", "until"}. A raw
    # map, not JSON text: one agent's entry is SET or REMOVEd by its own document path
    # (`viewers.#agent`), so agents beating at once never overwrite each other's
    viewers = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]  # MapAttribute.__init__: untyped


class Fact(Model):
    class Meta(_Meta):
        table_name = stage.resource("facts")

    day = UnicodeAttribute(hash_key=True)  # desk-local date, "2026-11-23": the digest queries one day
    fact_key = UnicodeAttribute(range_key=True)  # "<iso time>#<ticket>#<kind>"
    kind = UnicodeAttribute()  # created | first_response | ...
    ticket_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    queue = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    data = JSONAttribute(default=dict)


def cancellation_codes(error: TransactWriteError) -> list[str | None]:
    """DynamoDB's reason for each item of a cancelled transaction, in the order they were written
    ("ConditionalCheckFailed", "TransactionConflict"; None for an item that was not the cause)."""
    return [getattr(reason, "code", None) for reason in error.cancellation_reasons or []]


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One low-level connection for transactions and reads across tables (a client per call is slow)."""
    return Connection(region=stage.region())


class Agent(Model):
    class Meta(_Meta):
        table_name = stage.resource("agents")

    agent_id = UnicodeAttribute(hash_key=True)
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute(default="agent")  # agent | lead | admin
    queues = JSONAttribute(default=list)
    language = UnicodeAttribute(default="en")
    timezone = UnicodeAttribute(null=True)  # the console's times are in this zone (else the desk's)
    shortcuts = BooleanAttribute(default=True)  # the console's single-key shortcuts (off: typing only)
    alert_email = UnicodeAttribute(null=True)
    slack_webhook = UnicodeAttribute(null=True)
    telegram_chat = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    open_load = NumberAttribute(default=0)  # live tickets assigned: routing offers to the lowest
    created_at = UTCDateTimeAttribute()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ALL_MODELS: tuple[type[Model], ...] = (Ticket, Message, Customer, Key, Fact, Agent)


def create_tables() -> None:
    """Create every table if missing (local desk and tests; deployed stages use infra/)."""
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
