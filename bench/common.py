"""Shared by the benchmarks: an embedded AWS in-process and a counter of AWS API calls."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import moto  # noqa: F401  (before any client exists)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]
os.environ.update(
    AWS_DEFAULT_REGION="eu-central-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    PROMPTLY_STAGE="local",
    POWERTOOLS_LOG_LEVEL="ERROR",
)


class CallCounter:
    """Counts AWS API calls by operation through botocore's `before-call` event on every client
    the desk uses (boto3's and PynamoDB's)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: object) -> None:
        self.calls[event_name.split(".", 1)[1]] += 1

    def attach(self, client: object) -> None:
        client.meta.events.register("before-call", self)  # type: ignore[attr-defined]

    def attach_all(self) -> None:
        from chalicelib import aws, models

        for service in ("sqs", "ses", "s3", "sns"):
            self.attach(aws.client(service))
        self.attach(models.connection().client)
        for model in models.ALL_MODELS:
            self.attach(model._get_connection().connection.client)

    def total(self) -> int:
        return sum(self.calls.values())


def table(title: str, rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    lines = [title, "-" * len(title)] + [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)
