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
# chalicelib modules that hold only what other functions do, though the path names their subjects:
# the HTTP client to providers (the outbox and destinations name its error from errors.py) and
# tomllib (a package reads the desk file's frozen form)
NOT_LOADED_BY_THE_FORM = {"chalicelib.providers", "tomllib"}

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
    out["not loaded"] = sorted(set(sys.modules) & set(json.loads(sys.argv[3])))
    out["third party"] = sorted(name for name in sys.modules if name.split(".")[0] in json.loads(sys.argv[1])
                                or name in json.loads(sys.argv[1]))
print(json.dumps(out))
"""


def cold_start(frozen: Path) -> dict[str, object]:
    """A form webhook's cold start, the desk file read from its frozen form at `frozen`."""
    frozen.write_text(config.freeze(config.CONFIG_PATH, 2026), encoding="utf-8")
    return in_a_fresh_interpreter(
        COLD_START,
        json.dumps(sorted(NOT_ON_THE_FORM_PATH)),
        str(frozen),
        json.dumps(sorted(NOT_LOADED_BY_THE_FORM)),
        cwd=ROOT,
        root=ROOT,
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
    assert sorted(set(out["not loaded"]) & NOT_LOADED_BY_THE_FORM) == []


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


# What an outbox worker's cold start has loaded after one "new_ticket" job (acknowledge, offer):
# the job's own path (the offer tells the agent as an SLA warning does: sla/notify.py), not the
# digest, the surveys, the rating alerts, the console or the messengers' files.
NEW_TICKET_JOB_PATH = {
    "chalicelib",
    "chalicelib.agents",
    "chalicelib.agents.access",
    "chalicelib.agents.duty",
    "chalicelib.agents.offers",
    "chalicelib.agents.paging",
    "chalicelib.agents.staff",
    "chalicelib.agents.work",
    "chalicelib.already_read",
    "chalicelib.attachments",
    "chalicelib.attachments.answers",
    "chalicelib.attachments.customer_links",
    "chalicelib.attachments.delivery",
    "chalicelib.attachments.files",
    "chalicelib.attachments.links",
    "chalicelib.attachments.reach",
    "chalicelib.aws",
    "chalicelib.channels",
    "chalicelib.channels.base",
    "chalicelib.channels.fields",
    "chalicelib.channels.telegram",
    "chalicelib.channels.twilio",
    "chalicelib.channels.viber",
    "chalicelib.clock",
    "chalicelib.config",
    "chalicelib.customer_text",
    "chalicelib.destinations",
    "chalicelib.errors",
    "chalicelib.facts",
    "chalicelib.feedback",
    "chalicelib.feedback.confirm",
    "chalicelib.feedback.csat",
    "chalicelib.feedback.pages",
    "chalicelib.http",
    "chalicelib.job_kinds",
    "chalicelib.jobs",
    "chalicelib.keys",
    "chalicelib.kpi",
    "chalicelib.kpi.reading",
    "chalicelib.kpi.stats",
    "chalicelib.kpi.tally",
    "chalicelib.kpi.topics",
    "chalicelib.kpi.usual_wait",
    "chalicelib.lifecycle",
    "chalicelib.limits",
    "chalicelib.links",
    "chalicelib.log",
    "chalicelib.mail",
    "chalicelib.metrics",
    "chalicelib.models",
    "chalicelib.new_ticket",
    "chalicelib.on_first_call",
    "chalicelib.outbox",
    "chalicelib.providers",
    "chalicelib.render",
    "chalicelib.replies",
    "chalicelib.secrets",
    "chalicelib.signing",
    "chalicelib.sla",
    "chalicelib.sla.alerts",
    "chalicelib.sla.calendar",
    "chalicelib.sla.notify",
    "chalicelib.sla.policy",
    "chalicelib.sla.recipients",
    "chalicelib.stage",
    "chalicelib.suppression",
    "chalicelib.tickets",
    "chalicelib.transient",
    "chalicelib.writes",
}
NOT_ON_THE_JOB_PATH = {
    "chalicelib.kpi.mailing",
    "chalicelib.feedback.nps",
    "chalicelib.feedback.rating_alert",
    "chalicelib.attachments.fetch",
    "chalicelib.console",
}

WORKER_COLD_START = """
import base64, json, pathlib, sys, types
from moto import mock_aws
def loaded():
    return sorted(name for name in sys.modules if name == "chalicelib" or name.startswith("chalicelib."))
context = types.SimpleNamespace(function_name="promptly-local-outbox_worker", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:eu-central-1:123456789012:function:promptly-local-outbox_worker",
    aws_request_id="r-1", get_remaining_time_in_millis=lambda: 30000)
given = json.loads(pathlib.Path(sys.argv[1]).read_text())
out = {}
with mock_aws():
    import app
    from chalicelib import config
    config.FROZEN_PATH = pathlib.Path(sys.argv[2])
    from infra.local import create_resources  # the tables, queues, SES identities: parts the job loads anyway
    create_resources()
    from chalicelib import aws, stage
    dynamodb, sqs = aws.client("dynamodb"), aws.client("sqs")
    for table, items in given["tables"].items():  # the ticket the webhook stored, as it stored it
        for item in items:
            dynamodb.put_item(TableName=table, Item=item)
    url = aws.queue_url(stage.outbox_queue())
    sqs.send_message(QueueUrl=url, MessageBody=given["job"])
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    out["setup"] = loaded()
    app.outbox_worker({"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"], "attributes": message["Attributes"], "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:outbox", "awsRegion": "eu-central-1"}]}, context)
    out["worker"] = loaded()
    from chalicelib.models import Ticket
    out["ack_state"] = Ticket.get(json.loads(given["job"])["ticket_id"]).ack_state
print(json.dumps(out))
"""


def test_an_outbox_worker_cold_start_loads_only_the_new_ticket_jobs_path(desk, tmp_path):
    """A form's ticket, stored by the webhook here, then acknowledged by a worker started cold in
    a fresh interpreter: the worker imports the one handler its job's kind names."""
    import boto3

    from chalicelib import aws, stage
    from chalicelib.models import ALL_MODELS

    desk.post_form({"submission_id": "w1", "email": "ivan@example.com", "name": "Ivan", "message": "Hi"})
    sqs = aws.client("sqs")
    [message] = sqs.receive_message(QueueUrl=aws.queue_url(stage.outbox_queue()))["Messages"]
    assert json.loads(message["Body"])["kind"] == "new_ticket"
    client = boto3.client("dynamodb", region_name=stage.region())
    tables = {m.Meta.table_name: client.scan(TableName=m.Meta.table_name)["Items"] for m in ALL_MODELS}
    given = tmp_path / "given.json"
    given.write_text(json.dumps({"job": message["Body"], "tables": tables}))
    frozen = tmp_path / "desk.json"
    frozen.write_text(config.freeze(config.CONFIG_PATH, 2026), encoding="utf-8")

    out = in_a_fresh_interpreter(WORKER_COLD_START, str(given), str(frozen), cwd=ROOT, root=ROOT)

    assert out["ack_state"] == "sent"
    loaded = set(out["worker"])
    assert sorted(loaded & NOT_ON_THE_JOB_PATH) == []
    assert sorted(loaded - NEW_TICKET_JOB_PATH) == [], "the new ticket's job now loads these too"
    assert sorted(NEW_TICKET_JOB_PATH - loaded) == [], "no longer loaded: take them off NEW_TICKET_JOB_PATH"
