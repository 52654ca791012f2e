"""The one place AWS clients are made: lazily, once per process, so import stays cheap
and tests under moto intercept every client (moto must be imported before the first call)."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib import stage


@cache
def client(service: str) -> Any:
    import boto3  # ~280 ms: paid on first use, not at import of the app

    return boto3.session.Session().client(service, region_name=stage.region())


@cache
def queue_url(name: str) -> str:
    """Queue URL by name, resolved once per process (an extra call only on cold start)."""
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    """Forget cached clients (tests start each moto context afresh)."""
    client.cache_clear()
    queue_url.cache_clear()
