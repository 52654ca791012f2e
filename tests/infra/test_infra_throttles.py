"""A flood is stopped at the edge: the packaged stack throttles every route by its class with
the numbers in desk.toml `[throttles]`, and reserves Lambda concurrency so inbound mail and the
outbox cannot take the SLA watch's turn."""

from __future__ import annotations

import pytest

from chalicelib.config import CONFIG_PATH, ConfigError, Throttle, Throttles, load, validated
from infra.functions import Function, functions, routes
from infra.throttles import method_settings, reserved_concurrency, resource_path, route_class
from tests.conftest import edited_desk_file

CONFIGURED = load(CONFIG_PATH).throttles


def by_route(settings: list[dict]) -> dict[tuple[str, str], tuple[float, int]]:
    return {
        (s["ResourcePath"], s["HttpMethod"]): (s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"]) for s in settings
    }


def limits(throttle: Throttle) -> tuple[float, int]:
    return throttle.rate, throttle.burst


def test_every_route_is_throttled_by_its_class_with_the_configured_numbers(built_dev, built_prod):
    for built in (built_dev, built_prod):
        throttled = by_route(built.sam["Resources"]["RestAPI"]["Properties"]["MethodSettings"])

        assert throttled[("/*", "*")] == limits(CONFIGURED.other)  # the default, e.g. /dev/*
        assert throttled[("/~1webhooks~1form", "POST")] == limits(CONFIGURED.webhooks)
        assert throttled[("/~1webhooks~1chat", "POST")] == limits(CONFIGURED.webhooks)
        assert throttled[("/~1api~1tickets~1{ticket_id}~1reply", "POST")] == limits(CONFIGURED.api)
        assert throttled[("/~1confirm~1{token}", "GET")] == limits(CONFIGURED.customer_pages)
        assert throttled[("/~1survey~1{token}", "POST")] == limits(CONFIGURED.customer_pages)
        assert ("/~1dev~1outbox", "GET") not in throttled
        for path, methods in routes().items():
            kind = route_class(path)
            for method in methods:
                expected = limits(getattr(CONFIGURED, kind)) if kind else None
                assert throttled.get((resource_path(path), method)) == expected, (path, method)


def test_cloudformation_gets_the_throttles_on_the_api_stage(expanded_dev):
    """What the SAM transform makes of it: the stage API Gateway serves carries the settings."""
    [stage] = [r for r in expanded_dev["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]

    throttled = by_route(stage["Properties"]["MethodSettings"])
    assert throttled[("/~1webhooks~1telegram", "POST")] == limits(CONFIGURED.webhooks)
    assert throttled[("/*", "*")] == limits(CONFIGURED.other)


def test_inbound_mail_the_outbox_and_the_sla_watch_have_reserved_concurrency(built_dev, expanded_dev):
    resources = built_dev.sam["Resources"]
    reserved = CONFIGURED.reserved_concurrency

    assert resources["InboundEmail"]["Properties"]["ReservedConcurrentExecutions"] == reserved.inbound_email
    assert resources["OutboxWorker"]["Properties"]["ReservedConcurrentExecutions"] == reserved.outbox_worker
    assert resources["SlaWatch"]["Properties"]["ReservedConcurrentExecutions"] == reserved.sla_watch
    assert "ReservedConcurrentExecutions" not in resources["APIHandler"]["Properties"]  # bounded by the API throttles
    # the outbox's pollers take no more messages than the function may run at once
    [mapping] = [
        r["Properties"]
        for r in expanded_dev["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping" and ":sqs:" in str(r["Properties"]["EventSourceArn"])
    ]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": reserved.outbox_worker}
    assert mapping["BatchSize"] == 1  # Chalice's own settings survive the merge


def test_other_numbers_and_a_new_route_class_member_follow_the_config():
    throttles = Throttles(
        webhooks=Throttle(rate=2.5, burst=5), customer_pages=Throttle(rate=1, burst=3), other=Throttle(rate=1, burst=1)
    )
    settings = by_route(
        method_settings(
            {"/webhooks/viber": ["POST"], "/console/tickets": ["GET", "POST"], "/consoles": ["GET"]}, throttles
        )
    )

    assert settings == {
        ("/*", "*"): (1, 1),
        ("/~1webhooks~1viber", "POST"): (2.5, 5),
        ("/~1console~1tickets", "GET"): (1, 3),
        ("/~1console~1tickets", "POST"): (1, 3),
    }


def test_zero_sets_nothing_aside():
    found = [
        Function("inbound_email", "sns", "promptly-dev-inbound-email"),
        Function("outbox_worker", "sqs", "promptly-dev-outbox"),
        Function("sla_watch", "schedule", "rate(1 minute)"),
    ]
    throttles = validated(Throttles, {"reserved_concurrency": {"inbound_email": 0, "outbox_worker": 0, "sla_watch": 1}})

    assert reserved_concurrency(found, throttles) == {"SlaWatch": {"Properties": {"ReservedConcurrentExecutions": 1}}}
    assert {f.name for f in functions()} >= {"inbound_email", "outbox_worker", "sla_watch"}


@pytest.mark.parametrize(
    "old, new, named",
    [
        ("webhooks = { rate = 50, burst = 100 }", "webhooks = { rate = 0, burst = 100 }", "throttles.webhooks.rate"),
        ("api = { rate = 20, burst = 40 }", "api = { rate = 20, burst = 0 }", "throttles.api.burst"),
        ("api = { rate = 20, burst = 40 }", "api = { rate = 20 }", "throttles.api.burst"),
        ("other = { rate = 5, burst = 10 }", "other = { rate = 50000, burst = 10 }", "throttles.other.rate"),
        ("webhooks = { rate = 50, burst = 100 }", "webhook = { rate = 50, burst = 100 }", "throttles.webhook"),
        ("outbox_worker = 10", "outbox_worker = 1", "outbox_worker: 0 (none set aside) or at least 2"),
        ("outbox_worker = 10", "outbox_worker = 899", "reserved concurrency adds up to 911; at most 900"),
        ("sla_watch = 2", "sla_watch = -1", "throttles.reserved_concurrency.sla_watch"),
    ],
)
def test_a_wrong_limit_stops_the_desk_at_start_naming_it(tmp_path, old, new, named):
    with pytest.raises(ConfigError) as error:
        load(edited_desk_file(tmp_path, old, new))

    assert named in str(error.value)
