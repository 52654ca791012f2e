"""Each Lambda function loads only its own path: app.py declares every handler, but a feature's
modules are imported when one of its handlers is first called (chalicelib/on_first_call.py).
Checked in a fresh interpreter: a webhook's cold start must not pay for the console, the digest,
the SLA watch or the feedback pages."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from chalicelib import config
from tests.conftest import ROOT
from tests.harness import in_a_fresh_interpreter

# What a cold start has loaded after `import app` and one form through the real handler
# (a signed one on moto: the ticket is stored and its acknowledgement queued).
FORM_WEBHOOK_PATH = {
    "chalicelib",
    "chalicelib.already_read",  # outbox.already_sent takes what a job read up front (no third party)
    "chalicelib.attachments",
    "chalicelib.attachments.files",  # a message's file entries (a form carries none; intake types them)
    "chalicelib.aws",
    "chalicelib.channels",
    "chalicelib.channels.base",
    "chalicelib.channels.form",
    "chalicelib.clock",
    "chalicelib.config",
    "chalicelib.customer_text",
    "chalicelib.destinations",
    "chalicelib.errors",
    "chalicelib.facts",
    "chalicelib.http",
    "chalicelib.intake",
    "chalicelib.job_kinds",
    "chalicelib.keys",
    "chalicelib.lifecycle",
    "chalicelib.log",
    "chalicelib.models",
    "chalicelib.on_first_call",
    "chalicelib.outbox",
    "chalicelib.providers",
    "chalicelib.routing",
    "chalicelib.secrets",
    "chalicelib.signing",
    "chalicelib.sla",  # the first-response due time: the SLA policy and the desk's calendar
    "chalicelib.sla.alerts",
    "chalicelib.sla.calendar",
    "chalicelib.sla.policy",
    "chalicelib.stage",
    "chalicelib.transient",
    "chalicelib.webhooks",
    "chalicelib.writes",
}
# Third-party packages the form path must not load: rendering, HTML mail, the digest's CSS, files,
# and pydantic (~60 ms to import: the desk file is read from the package's frozen form, the form
# by channels/form.py itself)
NOT_ON_THE_FORM_PATH = {"jinja2", "babel", "selectolax", "css_inline", "filetype", "pydantic", "pydantic_core"}

COLD_START = """
import json, os, sys, types
from moto import mock_aws
def loaded():
    return sorted(name for name in sys.modules if name == "chalicelib" or name.startswith("chalicelib."))
def event(path, body, headers):
    return {"resource": path, "path": path, "httpMethod": "POST", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
            "isBase64Encoded": False, "body": body,
            "requestContext": {"resourcePath": path, "httpMethod": "POST", "stage": "local", "requestId": "r-1",
                               "identity": {"sourceIp": "203.0.113.9"}}}
context = types.SimpleNamespace(function_name="promptly-local-api", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:eu-central-1:123456789012:function:promptly-local-api",
    aws_request_id="r-1", get_remaining_time_in_millis=lambda: 30000)
out = {}
with mock_aws():
    import app
    out["import app"] = loaded()
    # as in a package: the desk file's frozen form beside it (written by the test, as tools/build.py does)
    import pathlib
    from chalicelib import config
    config.FROZEN_PATH = pathlib.Path(sys.argv[2])
    # the tables and queues, made by the parts of chalicelib the webhook loads anyway (checked below)
    from chalicelib import aws, models, outbox, stage
    models.create_tables()
    aws.client("sqs").create_queue(QueueName=stage.outbox_queue())
    out["setup"] = loaded()
    from chalicelib import clock
    from chalicelib.signing import hmac_hex, timestamped, unix_seconds
    body = json.dumps({"submission_id": "c1", "email": "ivan@example.com", "name": "Ivan", "message": "Hi"})
    stamp = unix_seconds(clock.machine_now())
    signature = hmac_hex(os.environ["PROMPTLY_SECRET_FORM_SECRET"], timestamped(stamp, body.encode()))
    headers = {"Content-Type": "application/json", "X-Promptly-Timestamp": stamp,
               "X-Promptly-Signature": "sha256=" + signature}
    response = app.app(event("/webhooks/form", body, headers), context)
    out["status"] = response["statusCode"]
    out["body"] = response["body"]
    out["webhook"] = loaded()
    out["third party"] = sorted(name for name in sys.modules if name.split(".")[0] in json.loads(sys.argv[1])
                                or name in json.loads(sys.argv[1]))
print(json.dumps(out))
"""


def cold_start(frozen: Path) -> dict[str, object]:
    """A form webhook's cold start, the desk file read from its frozen form at `frozen`."""
    frozen.write_text(config.freeze(config.CONFIG_PATH, 2026), encoding="utf-8")
    return in_a_fresh_interpreter(
        COLD_START, json.dumps(sorted(NOT_ON_THE_FORM_PATH)), str(frozen), cwd=ROOT, root=ROOT
    )


def test_a_form_webhook_cold_start_loads_only_the_webhook_path(tmp_path):
    out = cold_start(tmp_path / "desk.json")
    assert out["status"] == 200, out["body"]
    assert json.loads(str(out["body"]))["created"] is True
    assert out["import app"] == ["chalicelib", "chalicelib.clock", "chalicelib.on_first_call", "chalicelib.stage"]
    assert set(out["setup"]) <= FORM_WEBHOOK_PATH  # setting up loaded nothing extra
    loaded = set(out["webhook"])
    assert sorted(loaded - FORM_WEBHOOK_PATH) == [], "the form webhook now loads these too"
    assert sorted(FORM_WEBHOOK_PATH - loaded) == [], "no longer loaded: take them off FORM_WEBHOOK_PATH"
    assert out["third party"] == []


def _bindings() -> tuple[dict[str, str], dict[str, str]]:
    """app.py's feature names → module: (under TYPE_CHECKING, as `feature(...)` at run time)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    guard = next(
        node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    typed: dict[str, str] = {}
    for node in guard.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names:
            typed[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    lazy: dict[str, str] = {}
    for node in guard.orelse:
        if isinstance(node, ast.Assign):
            targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else [node.targets[0]]
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for target, value in zip(targets, values, strict=True):
                assert isinstance(target, ast.Name) and isinstance(value, ast.Call)
                assert isinstance(value.args[0], ast.Constant)
                lazy[target.id] = str(value.args[0].value)
    return typed, lazy


def test_app_loads_on_first_call_the_same_modules_mypy_checks_it_against():
    typed, lazy = _bindings()
    assert len(typed) > 20
    assert lazy == typed


def test_every_handler_is_still_declared_when_app_is_imported():
    import app

    assert {"/webhooks/form", "/console/queue", "/rate/{token}", "/api/tickets"} <= set(app.app.routes)
    handlers = {source.name for source in app.app.event_sources}
    assert {"inbound_email", "outbox_worker", "ses_feedback", "sla_watch", "morning_digest", "quiet_close"} <= handlers
