"""Flood limits in the stack, from desk.toml `[throttles]` (chalicelib/config.py `Throttles`).

API Gateway: the stage's `MethodSettings` give every route a token bucket by its class —
webhooks (`/webhooks/...`), the agents' API (`/api/...`), customer pages (`/confirm`, `/rate`,
`/survey`, `/console`) — and a stage-wide default (`/*`, `*`) for any other route. Above a
bucket API Gateway answers 429 before a Lambda runs. Buckets are per route and method (that is
what API Gateway offers): five webhooks may each take `webhooks.rate`. Usage plans were not
used: they throttle per API key, and providers send none.

Lambda: reserved concurrency for the functions a flood drives — inbound_email (SNS, async:
throttled events wait in Lambda's queue and are retried for up to 6 hours) and outbox_worker
(SQS) — and for sla_watch, so neither flood can take the account's whole pool and the watch
always has its turn. api_handler is left unreserved: one function serves the webhooks, the
agents' API and the customers' pages, and a cap would let a webhook flood lock agents out; the
API Gateway buckets above bound it instead. The outbox's SQS event source gets the same number
as its maximum concurrency: Lambda's pollers would otherwise pull more messages than the
function may run, and each throttled try counts towards the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.config import Throttle, Throttles
from infra.functions import Function

# route class (a field of Throttles) → the path prefixes it covers
ROUTE_CLASSES: dict[str, tuple[str, ...]] = {
    "webhooks": ("/webhooks",),
    "api": ("/api",),
    "customer_pages": ("/confirm", "/rate", "/survey", "/console"),
}


def route_class(path: str) -> str | None:
    """The class a route belongs to, or None: the stage-wide default (`other`) applies."""
    for kind, prefixes in ROUTE_CLASSES.items():
        if any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            return kind
    return None


def resource_path(path: str) -> str:
    """API Gateway's form in MethodSettings: `/webhooks/form` → `/~1webhooks~1form`."""
    return "/" + path.replace("/", "~1")


def _setting(path: str, method: str, throttle: Throttle) -> dict[str, Any]:
    return {
        "ResourcePath": path,
        "HttpMethod": method,
        "ThrottlingRateLimit": throttle.rate,
        "ThrottlingBurstLimit": throttle.burst,
    }


def method_settings(routes: Mapping[str, Sequence[str]], throttles: Throttles) -> list[dict[str, Any]]:
    """The stage's MethodSettings: the default for every method, then one entry per classified
    route and method (a specific entry wins over `/*`)."""
    settings = [_setting("/*", "*", throttles.other)]
    for path in sorted(routes):
        kind = route_class(path)
        if kind is not None:
            settings += [_setting(resource_path(path), method, getattr(throttles, kind)) for method in routes[path]]
    return settings


def sqs_event_logical_id(function: Function) -> str:
    """The name `chalice package` gives a function's SQS event (`<name>-sqs-event-source`)."""
    return to_cfn_resource_name(f"{function.name}-sqs-event-source")


def reserved_concurrency(found: Sequence[Function], throttles: Throttles) -> dict[str, dict[str, Any]]:
    """Merge-template entries setting ReservedConcurrentExecutions (and the SQS pollers' cap)."""
    reserved = asdict(throttles.reserved_concurrency)
    by_name = {function.name: function for function in found}
    unknown = sorted(set(reserved) - set(by_name))
    if unknown:
        raise ValueError(f"[throttles.reserved_concurrency] names {unknown}, which app.py does not declare")
    resources: dict[str, dict[str, Any]] = {}
    for name, count in reserved.items():
        if not count:
            continue  # 0: nothing set aside (an account below Lambda's 100-unreserved minimum)
        function = by_name[name]
        properties: dict[str, Any] = {"ReservedConcurrentExecutions": count}
        if function.trigger == "sqs":
            properties["Events"] = {
                sqs_event_logical_id(function): {"Properties": {"ScalingConfig": {"MaximumConcurrency": count}}}
            }
        resources[function.logical_id] = {"Properties": properties}
    return resources


def api_throttles(routes: Mapping[str, Sequence[str]], throttles: Throttles) -> dict[str, dict[str, Any]]:
    """Merge-template entry for Chalice's `RestAPI` (an AWS::Serverless::Api: SAM passes
    MethodSettings on to the stage it creates)."""
    return {"RestAPI": {"Properties": {"MethodSettings": method_settings(routes, throttles)}}}
