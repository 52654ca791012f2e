"""Least privilege, checked against what the code really does.

The real handlers run under moto the way Lambda runs them (HTTP routes → api_handler, the SNS
notification → inbound_email, SQS jobs → outbox_worker) with secrets read from SSM as on a
deployed stage. Every AWS call is recorded through botocore — boto3's clients and PynamoDB's
alike — with the function that made it, mapped to the IAM action and resource AWS authorizes
(a TransactWriteItems is one Put/Update/Delete/ConditionCheckItem per item and table), and
must be allowed by that function's role in the packaged template. A static scan of chalicelib
adds the calls the driven flows do not reach.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import timedelta
from typing import Any

import botocore.client
import chalice.test
import pytest
from botocore.exceptions import ClientError

from chalicelib.models import ALL_MODELS
from infra.functions import functions
from infra.permissions import SQS_POLLER_ACTIONS
from infra.secret_names import secret_names
from infra.stack import missing_permissions, table_kind
from tests.infra.iam import ACCOUNT, REGION, Need, allowed, iam_action, needs, resolve, role_statements, wildcard_grants
from tests.infra.static_calls import scan
from tools.build import ROOT

# Run by operators with their own credentials (tools/redrive.py), never by a Lambda function.
OPERATOR_ONLY = {
    "outbox.py": {"redrive"},
    "agents/staff.py": {"reindex_leaders", "reindex_emails"},
    "agents/tokens.py": {"reindex_tokens"},
}


# A presigned link makes no call: S3 checks, when the link is used, that its signer may do this.
PRESIGNED = {"generate_presigned_url": "s3:GetObject", "generate_presigned_post": "s3:PutObject"}


@pytest.fixture(params=["dev", "prod"])
def built(request):
    return request.getfixturevalue(f"built_{request.param}")


def statements(built, function) -> list[dict[str, Any]]:
    return role_statements(built.sam, function.role_logical_id)


def test_every_function_has_hand_written_permissions():
    assert missing_permissions("dev") == [], "add the function's grants to infra/permissions.py"


def test_no_statement_grants_wildcard_actions_or_data_resources(built):
    for function in functions():
        assert wildcard_grants(statements(built, function)) == [], function.name


def test_chalice_policy_files_only_let_functions_write_their_logs():
    for stage in ("dev", "prod"):
        document = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
        for statement in document["Statement"]:
            assert all(action.startswith("logs:") for action in statement["Action"]), statement
            assert statement["Resource"].startswith(f"arn:aws:logs:*:*:log-group:/aws/lambda/promptly-{stage}-")


def test_queue_handlers_let_lambda_poll_their_queue(built_dev):
    for function in functions():
        if function.trigger != "sqs":
            continue
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:promptly-dev-{function.source.split('-', 2)[2]}"
        for action in SQS_POLLER_ACTIONS:
            assert allowed(statements(built_dev, function), Need(action, arn)), (function.name, action)


@pytest.mark.parametrize("name, queue", [("inbound_email", "inbound-email-dlq"), ("ses_feedback", "ses-feedback-dlq")])
def test_an_sns_function_may_park_an_event_that_failed_every_try(built, name, queue):
    """Lambda sends the failed event to the on-failure destination with the function's own role."""
    [function] = [f for f in functions() if f.name == name]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:promptly-{built.stage}-{queue}"
    assert allowed(statements(built, function), Need("sqs:SendMessage", arn))
    others = [
        f.name for f in functions() if f.name != name and allowed(statements(built, f), Need("sqs:SendMessage", arn))
    ]
    assert others == []


# What the handlers call, recorded ----------------------------------------------------------------
def fresh_process() -> None:
    """Each Lambda function is its own process: forget what another function's invocation
    cached (secrets, queue URLs), or its calls would be missing from this function's record."""
    from aws_lambda_powertools.utilities import parameters

    from chalicelib import aws

    parameters.clear_caches()
    aws.queue_url.cache_clear()


class Recorder:
    """botocore's `_make_api_call` is where boto3 client methods and PynamoDB's connection both
    end up: record (function, service, operation, params) while a handler runs."""

    def __init__(self) -> None:
        self.function: str | None = None
        self.calls: list[tuple[str, str, str, dict[str, Any]]] = []

    def install(self, monkeypatch) -> None:
        recorder = self
        make_api_call = botocore.client.BaseClient._make_api_call
        request = chalice.test.TestHTTPClient.request
        invoke = chalice.test.TestLambdaClient.invoke

        def recording_call(client, operation, params):
            if recorder.function:
                recorder.calls.append((recorder.function, client.meta.service_model.service_name, operation, params))
            return make_api_call(client, operation, params)

        def as_function(name, original):
            def run(self, *args, **kwargs):
                fresh_process()
                outer, recorder.function = recorder.function, name or args[0]
                try:
                    return original(self, *args, **kwargs)
                finally:
                    recorder.function = outer

            return run

        patched_env = chalice.test.BaseClient._patched_env_vars

        def without_local_secrets(self, variables):  # the local stage's config puts them back per invoke
            return patched_env(self, {k: v for k, v in variables.items() if not k.startswith("PROMPTLY_SECRET_")})

        monkeypatch.setattr(chalice.test.BaseClient, "_patched_env_vars", without_local_secrets)
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)
        monkeypatch.setattr(chalice.test.TestHTTPClient, "request", as_function("api_handler", request))
        monkeypatch.setattr(chalice.test.TestLambdaClient, "invoke", as_function(None, invoke))


@pytest.fixture
def deployed_like(monkeypatch):
    """The desk as on a deployed stage: buckets named like the stack names them, secrets in SSM."""
    local_secrets = {name: value for name, value in os.environ.items() if name.startswith("PROMPTLY_SECRET_")}
    for name in local_secrets:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PROMPTLY_INBOUND_BUCKET", f"promptly-local-inbound-{ACCOUNT}-{REGION}")
    monkeypatch.setenv("PROMPTLY_ARCHIVE_BUCKET", f"promptly-local-archive-{ACCOUNT}-{REGION}")
    monkeypatch.setenv("PROMPTLY_FILES_BUCKET", f"promptly-local-files-{ACCOUNT}-{REGION}")
    yield local_secrets


def _store_secrets_in_ssm(local_secrets: dict[str, str]) -> None:
    from aws_lambda_powertools.utilities import parameters

    from chalicelib import aws

    for variable, value in local_secrets.items():
        name = variable.removeprefix("PROMPTLY_SECRET_").lower()
        aws.client("ssm").put_parameter(Name=f"/promptly/local/{name}", Value=value, Type="SecureString")
    parameters.clear_caches()


def _drive_every_flow(desk, providers) -> None:
    """Each inbound channel, its acknowledgement, a follow-up, a redelivery, and a send that
    fails once (the outbox backs off) — the paths a deployed desk runs every day."""
    from chalicelib import aws
    from tests.test_channels import telegram_update, twilio_sms, viber_message

    def fixture_bytes(*parts: str) -> bytes:  # (importing tests.conftest again would reset the environment)
        return ROOT.joinpath("tests", "fixtures", *parts).read_bytes()

    throttled: list[int] = []

    def throttle_once(**_: object) -> None:
        if not throttled:
            throttled.append(1)
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendRawEmail")

    aws.client("ses").meta.events.register("before-call.ses.SendRawEmail", throttle_once)
    providers.fail("sendMessage", status=500, times=1)

    form = {"submission_id": "perm-1", "email": "ivan@example.com", "name": "Ivan", "message": "Where is my order?"}
    assert desk.post_form(form).status_code == 200
    assert desk.post_form(form).status_code == 200  # the provider's redelivery
    assert (
        desk.post_chat(
            {
                "message_id": "m1",
                "visitor_id": "visitor-1",
                "text": "Can I change my plan?",
                "email": "ann@example.com",
                "locale": "ru",
            }
        ).status_code
        == 200
    )
    assert desk.post_telegram(telegram_update(10001)).status_code == 200
    assert desk.post_viber(viber_message()).status_code == 200
    assert desk.post_twilio(twilio_sms()).status_code == 200
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"), key="mail/first")
    desk.pump()
    _bounce_and_write_again(desk, form)
    desk.advance(timedelta(minutes=2))
    assert desk.post_telegram(telegram_update(10002, text="Any news?")).status_code == 200  # joins the ticket
    desk.deliver_email(fixture_bytes("email", "gmail_reply_uk.eml"), key="mail/reply")
    photo = [{"file_id": "local-photo", "file_unique_id": "p", "width": 8, "height": 8}]
    assert desk.post_telegram(telegram_update(10003, text="", photo=photo)).status_code == 200  # fetched by a job
    desk.pump()
    from chalicelib.models import Message

    kept = [entry for message in Message.scan() for entry in message.attachments if entry.get("state") == "stored"]
    assert kept, [m.attachments[0].get("reason") for m in Message.scan() if m.attachments]  # and put in S3
    assert throttled, "the SES failure path was not exercised"


def _bounce_and_write_again(desk, form: dict[str, str]) -> None:
    """SES reports a hard bounce of the form's acknowledgement (→ ses_feedback); the customer
    writes again past the cooldown, and the outbox withholds the new acknowledgement."""
    ack = next(mail for mail in desk.sent_mail() if form["email"] in mail["to"])
    desk.ses_feedback(
        {
            "notificationType": "Bounce",
            "mail": {"messageId": ack["id"]},
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": form["email"]}]},
        }
    )
    desk.advance(timedelta(minutes=10))
    assert desk.post_form({**form, "submission_id": "perm-bounced"}).status_code == 200
    desk.pump()


def _drive_the_agents_side(desk, team) -> None:
    """The agents' API from a ticket's first look to its quiet close, and the admin's side."""
    import re

    tokens = {who: person["token"] for who, person in team.items()}
    ids = {who: person["id"] for who, person in team.items()}

    def call(method: str, path: str, who: str, payload: Any = None) -> Any:
        response = desk.api(method, path, tokens[who], payload)
        assert response.status_code in (200, 201), (method, path, response.status_code, response.body)
        return response.json_body

    call("PUT", "/api/rosters/general/2026-W48", "lead", {"agents": [ids["olena"], ids["taras"]]})  # duty offers
    ticket = desk.post_form(
        {
            "submission_id": "perm-agents",
            "email": "olga@example.com",
            "name": "Olga",
            "subject": "Cannot log in",
            "message": "Hello, I cannot log in.",
        }
    ).json_body["ticket"]
    desk.pump()
    call("GET", "/api/me", "olena")
    call("GET", "/api/tickets", "olena")
    call("GET", f"/api/tickets/{ticket}", "olena")
    from chalicelib.attachments import opening
    from chalicelib.models import Message

    mail = next(m for m in Message.scan() if m.channel == "email" and m.direction == "in")  # "show the whole message"
    call("GET", f"/api/tickets/{mail.ticket_id}/messages/{opening.ref(mail.message_key)}/original", "admin")
    call("POST", f"/api/tickets/{ticket}/take", "olena")
    call("POST", f"/api/tickets/{ticket}/notes", "olena", {"text": "Checking the logs."})
    call("POST", f"/api/tickets/{ticket}/reply", "olena", {"text": "Looking into it."})
    call("POST", f"/api/tickets/{ticket}/handover", "olena", {"to": ids["taras"], "reason": "going on leave"})
    call("POST", f"/api/tickets/{ticket}/assign", "lead", {"to": ids["olena"], "reason": "back from leave"})
    call("POST", f"/api/tickets/{ticket}/priority", "olena", {"priority": "urgent", "reason": "cannot take payments"})
    call("POST", f"/api/tickets/{ticket}/status", "olena", {"status": "solved"})
    desk.pump()
    links = [re.search(r"(/confirm/\S+)", m["text"]) for m in desk.sent_mail()]
    [path] = {link.group(1) for link in links if link}
    assert desk.client.http.get(path).status_code == 200
    answer = desk.client.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body="answer=no"
    )
    assert answer.status_code == 200
    call("POST", f"/api/tickets/{ticket}/status", "olena", {"status": "solved"})
    desk.pump()
    _customer_says(desk, "/rate/", "rating=bad&comment=slow")  # a bad rating alerts the owner and lead
    desk.advance(timedelta(days=30))
    desk.client.lambda_.invoke(
        "quiet_close",
        desk.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )
    desk.pump()  # closing asks for the NPS survey
    _customer_says(desk, "/survey/", "score=9&comment=fine")

    call("GET", "/api/agents", "admin")
    nina = call(
        "POST",
        "/api/agents",
        "admin",
        {"first_name": "Nina", "last_name": "New", "email": "nina@promptly.example", "queues": ["general"]},
    )
    call("PATCH", f"/api/agents/{nina['agent']}", "admin", {"queues": ["general", "billing"]})
    issued = call("POST", f"/api/agents/{nina['agent']}/tokens", "admin")
    call("DELETE", f"/api/tokens/{issued['token'].split('_')[1]}", "admin")
    call("GET", "/api/rosters/general/2026-W48", "olena")


def _customer_says(desk, prefix: str, body: str) -> None:
    """Open the newest link starting with `prefix` the desk sent, answer its page, run the jobs."""
    import re

    path = next(
        re.search(rf"({prefix}[A-Za-z0-9_.-]+)", m["text"]).group(1) for m in desk.sent_mail() if prefix in m["text"]
    )
    assert desk.client.http.get(path).status_code == 200
    answer = desk.client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)
    assert answer.status_code == 200, answer.body
    desk.pump()


def _run_the_schedules(desk) -> None:
    """Every scheduled or EventBridge function, the way EventBridge invokes it (a new one is
    driven here without touching this test), then the jobs it queued."""
    for function in functions():
        if function.trigger in ("schedule", "event"):
            desk.client.lambda_.invoke(
                function.name,
                desk.client.events.generate_cw_event(
                    source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
                ),
            )
    desk.pump()


def test_every_call_a_handler_makes_is_allowed_to_that_function(
    deployed_like, desk, providers, team, monkeypatch, built_dev, built_prod
):
    _store_secrets_in_ssm(deployed_like)
    recorder = Recorder()
    recorder.install(monkeypatch)

    providers.media.bot_token = deployed_like["PROMPTLY_SECRET_TELEGRAM_BOT_TOKEN"]  # the desk reads it from SSM
    _drive_every_flow(desk, providers)
    for later in (timedelta(minutes=20), timedelta(hours=5)):  # warnings come due, then breaches
        desk.advance(later)
        _run_the_schedules(desk)
    _drive_the_agents_side(desk, team)
    _run_the_schedules(desk)

    by_function: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for function, service, operation, params in recorder.calls:
        for need in needs(service, operation, params):
            by_function[function].add((need.action, need.resource))
    assert {function.name for function in functions()} <= set(by_function), "drive every function"
    assert any(action == "ssm:GetParameter" for action, _ in by_function["api_handler"]), "secrets came from SSM"
    assert any(action == "sqs:ChangeMessageVisibility" for action, _ in by_function["outbox_worker"])
    digests = f"arn:aws:s3:::promptly-local-archive-{ACCOUNT}-{REGION}/digests/"
    assert any(a == "s3:PutObject" and r.startswith(digests) for a, r in by_function["morning_digest"]), "archived"
    assert any(a == "s3:GetObject" and r.startswith(digests) for a, r in by_function["outbox_worker"]), "mailed"
    assert not any(a == "dynamodb:Scan" for a, _ in by_function["morning_digest"])

    roles = {function.name: function for function in functions()}
    denied = []
    for built in (built_dev, built_prod):
        for function, wanted in sorted(by_function.items()):
            granted = statements(built, roles[function])
            for action, resource in sorted(wanted):
                resource = resource.replace("promptly-local-", f"promptly-{built.stage}-").replace(
                    "/promptly/local/", f"/promptly/{built.stage}/"
                )
                if not allowed(granted, Need(action, resource)):
                    denied.append(f"{built.stage} {function}: {action} on {resource}")
    assert denied == [], "grant these in infra/permissions.py:\n" + "\n".join(denied)


def test_every_call_in_the_source_is_allowed_to_some_function(built_dev):
    """Calls on paths the flows above do not drive (the agents' API, new jobs): each action on
    a known table must be granted to at least one function's role on that table."""
    import boto3

    models = {model.__name__: table_kind(model) for model in ALL_MODELS}
    every = [s for function in functions() for s in statements(built_dev, function)]
    problems = []
    clients: dict[str, Any] = {}
    for call in scan(set(models), OPERATOR_ONLY):
        if call.service == "dynamodb":
            table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/promptly-dev-{models[call.model]}"
            resource = f"{table}/index/{call.index}" if call.index else table
            if not allowed(every, Need(call.action, resource)):
                problems.append(f"{call.where}: {call.action} on {resource}")
        else:
            client = clients.setdefault(call.service, boto3.client(call.service, region_name=REGION))
            operation = client.meta.method_to_api_mapping.get(call.action)
            assert operation or call.action in PRESIGNED, f"{call.where}: {call.service} has no method {call.action}"
            action = PRESIGNED.get(call.action) or iam_action(call.service, str(operation))
            if not any(
                action.lower() in [a.lower() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
                for s in every
            ):
                problems.append(f"{call.where}: {action}")
    assert problems == [], "grant these in infra/permissions.py (or mark the code operator-only):\n" + "\n".join(
        problems
    )


def test_secrets_are_granted_by_name_to_the_functions_that_need_them(built_dev):
    """Each secret the code reads is readable by some function, and no function reads other paths."""
    every = [s for function in functions() for s in statements(built_dev, function)]
    for name in secret_names():
        arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/promptly/dev/{name}"
        assert allowed(every, Need("ssm:GetParameter", arn)), name
    assert not allowed(every, Need("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/promptly/prod/x"))


# The files bucket: exactly these actions on exactly these prefixes, per function ------------------
FILE_GRANTS = {
    # a mail's attachments, kept at intake
    "inbound_email": {("s3:PutObject", "tickets/")},
    # a messenger's media fetched into its ticket; an answer's files read to send (uploads are the API's alone)
    "outbox_worker": {("s3:GetObject", "tickets/"), ("s3:PutObject", "tickets/")},
    # every route: the console and API presign GETs and upload POSTs, an answer copies an upload in
    "api_handler": {
        ("s3:GetObject", "tickets/"),
        ("s3:GetObject", "uploads/"),
        ("s3:PutObject", "uploads/"),
        ("s3:PutObject", "tickets/"),
        ("s3:DeleteObject", "uploads/"),
    },
}


def test_each_function_has_exactly_its_actions_on_exactly_its_prefixes_of_the_files_bucket(built):
    bucket = f"arn:aws:s3:::promptly-{built.stage}-files-{ACCOUNT}-{REGION}"
    granted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for function in functions():
        for statement in statements(built, function):
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                arn = resolve(resource)
                if arn == bucket or arn.startswith(bucket + "/"):
                    assert statement["Effect"] == "Allow" and arn.endswith("/*"), (function.name, arn)
                    prefix = arn.removeprefix(bucket + "/").removesuffix("*")
                    granted[function.name] |= {(action, prefix) for action in statement["Action"]}
    assert dict(granted) == FILE_GRANTS
    for function in functions():  # and the IAM check agrees: nothing outside those prefixes
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"):
            for key in ("mail/x", "digests/x", "other/x", "x"):
                assert not allowed(statements(built, function), Need(action, f"{bucket}/{key}")), (function.name, key)


# The inbound bucket: raw mail is read under mail/ only (intake, and "show the whole message"); nobody
# may list, write or delete there (SES writes it, the expiry rule removes it).
INBOUND_GRANTS = {
    "inbound_email": {("s3:GetObject", "mail/")},
    "api_handler": {("s3:GetObject", "mail/")},
}


def test_only_intake_and_the_api_read_raw_mail_and_only_under_mail(built):
    bucket = f"arn:aws:s3:::promptly-{built.stage}-inbound-{ACCOUNT}-{REGION}"
    granted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for function in functions():
        for statement in statements(built, function):
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                arn = resolve(resource)
                if arn == bucket or arn.startswith(bucket + "/"):
                    assert statement["Effect"] == "Allow" and arn.endswith("/*"), (function.name, arn)
                    prefix = arn.removeprefix(bucket + "/").removesuffix("*")
                    granted[function.name] |= {(action, prefix) for action in statement["Action"]}
    assert dict(granted) == INBOUND_GRANTS
    for function in functions():
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:ListBucket"):
            assert not allowed(statements(built, function), Need(action, f"{bucket}/mail/x")), (function.name, action)
        for key in ("digests/x", "other/x", "x"):
            assert not allowed(statements(built, function), Need("s3:GetObject", f"{bucket}/{key}")), function.name
