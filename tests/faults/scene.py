"""What the fault suite does to the desk and what it checks afterwards, in a customer's and an
agent's terms: messages stored, acknowledgements and answers received, tickets offered."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from chalicelib.models import Message, Ticket
from tests.faults.injector import AwsFaults

# The calls Lambda's SQS poller makes around our handler: not the desk's, never failed here.
POLLER = frozenset({"sqs.ReceiveMessage", "sqs.DeleteMessage", "sqs.GetQueueAttributes"})

FORM = {
    "submission_id": "f-1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}
TELEGRAM = {
    "update_id": 7001,
    "message": {
        "message_id": 11,
        "date": 1795420800,
        "text": "Де моє замовлення?",
        "chat": {"id": 4242, "type": "private"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Taras"},
    },
}


@dataclass(frozen=True)
class Call:
    """One AWS call of a path: the `nth` call of `operation` in it, and what it is for."""

    operation: str
    nth: int
    what: str

    def __str__(self) -> str:
        return f"{self.operation.split('.')[1]}#{self.nth}-{self.what}"


def calls_of(aws: AwsFaults, since: int = 0) -> list[str]:
    """The desk's own AWS calls since `since` (an index into aws.order), in order."""
    return [operation for operation in aws.order[since:] if operation not in POLLER]


def numbered(operations: list[str]) -> list[tuple[str, int]]:
    """[("dynamodb.GetItem", 1), ("dynamodb.PutItem", 1), ("dynamodb.GetItem", 2), ...]."""
    seen: dict[str, int] = {}
    out = []
    for operation in operations:
        seen[operation] = seen.get(operation, 0) + 1
        out.append((operation, seen[operation]))
    return out


def runs(operations: list[str]) -> list[tuple[str, int]]:
    """`numbered`, with a run of the same call (the digest's Query per day) kept as its first:
    one call of a run stands for the others, which differ only in the key they read."""
    out: list[tuple[str, int]] = []
    for index, (operation, nth) in enumerate(numbered(operations)):
        if index == 0 or operations[index - 1] != operation:
            out.append((operation, nth))
    return out


def schedule(desk: Any, function: str) -> None:
    """What EventBridge does: invoke a scheduled function once."""
    desk.client.lambda_.invoke(
        function,
        desk.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )


class Scene:
    def __init__(self, desk: Any, team: dict[str, Any], providers: Any, aws: AwsFaults) -> None:
        self.desk, self.team, self.providers, self.aws = desk, team, providers, aws

    # what providers do ---------------------------------------------------------------------
    def post_form(self, payload: dict[str, Any] | None = None) -> Any:
        return self.desk.post_form(payload or FORM)

    def post_telegram(self, update: dict[str, Any] | None = None) -> Any:
        return self.desk.post_telegram(update or TELEGRAM)

    def pump(self) -> int:
        return self.desk.pump(rounds=60)

    # what people see -----------------------------------------------------------------------
    def tickets(self) -> list[Ticket]:
        return list(Ticket.scan())

    def ticket(self) -> Ticket:
        [ticket] = self.tickets()
        return ticket

    def stored(self, ticket: Ticket) -> list[str]:
        """The customer's messages on the ticket, as an agent reads them."""
        return [m.body for m in Message.query(ticket.ticket_id) if m.direction == "in"]

    def acks_by_mail(self, address: str = FORM["email"]) -> list[str]:
        return [subject for subject in self.mail_to(address) if "We received your request" in subject]

    def mail_to(self, address: str) -> list[str]:
        """Subjects of the mail `address` received, oldest first."""
        return [m["subject"] for m in reversed(self.desk.sent_mail()) if parseaddr(m["to"])[1] == address]

    def telegram_to(self, chat_id: int) -> list[str]:
        return [
            m["payload"]["text"]
            for m in self.providers.messages("telegram")
            if str(m["payload"].get("chat_id")) == str(chat_id)
        ]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.desk.dead_letters()

    def backlog(self) -> int:
        """Jobs still on the outbox queue, visible or waiting out a backoff."""
        from chalicelib import aws, stage

        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=aws.queue_url(stage.outbox_queue()), AttributeNames=["All"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
