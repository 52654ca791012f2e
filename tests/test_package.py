"""The deployment package is what runs in Lambda: it must import and render every template
on its own, with no templates/ folder and no development packages beside it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.render import PAGES, page, render, template_names
from tests.conftest import ROOT, packaged
from tools import build

_TICKET = {
    "desk_name": "Promptly Support",
    "ticket_ref": "PR-7K3QX9M2",
    "subject": "Cannot <log> in",
    "customer_name": "Olena",
    "due": "2026-11-23T11:00:00+00:00",
    "tz": "Europe/Kyiv",
    "channel": "form",
    "unverified_for": "ACME Ltd",
}
SAMPLE_CONTEXT = {
    "digest": json.loads((Path(__file__).parent / "fixtures" / "digest" / "view.json").read_text()),
    "ack": {**_TICKET, "usual": 420},  # "we usually answer within 7 minutes" rendered too
    "solved": {
        **_TICKET,
        "agent_name": "Taras Shevchuk",
        "confirm_url": "https://desk.example/confirm/x.y",
        "rate_url": "https://desk.example/rate/x.y",
        "rate_good_url": "https://desk.example/rate/x.y?rating=good",
        "rate_bad_url": "https://desk.example/rate/x.y?rating=bad",
        "quiet_close": 259200,
    },
    "alert": {
        **_TICKET,
        "queue": "general",
        "priority": "high",
        "target": "first response",
        "share": 90,
        "breach": False,
        "minutes": 24,
        "late": False,
        "target_key": "first_response",
        "already": ["A-1"],
        "owner": "A-1",
        "ticket_url": "https://desk.example/console/t/PR-7K3QX9M2",
    },
    "offer": {
        **_TICKET,
        "queue": "general",
        "priority": "normal",
        "owner": "A-1",
        "ticket_url": "https://desk.example/console/t/PR-7K3QX9M2",
    },
    "confirm": {
        **_TICKET,
        "answered": "closed",
        "status": "closed",
        "token": "x.y",
        "rate_url": "https://desk.example/rate/x.y",
    },
    "link_error": {**_TICKET, "status": 410, "reason": "Gone", "message": "this link has expired"},
    "answer": {
        **_TICKET,
        "text": "Reset it <here>.\nThen log in.",
        "agent_name": "Taras Shevchuk",
        "agent_first_name": "Taras",
        "introduce": True,
    },
    "nps": {
        **_TICKET,
        "survey_url": "https://desk.example/survey/x.y",
        "score_urls": [[n, f"https://desk.example/survey/x.y?score={n}"] for n in range(11)],
    },
    "rate": {
        **_TICKET,
        "chosen": "bad",
        "saved": True,
        "comment": "Too <slow>",
        "voted": "good",
        "until": "2026-11-26T10:00:00+00:00",
        "max_comment": 1000,
    },
    "survey": {**_TICKET, "chosen": 9, "saved": False, "scores": list(range(11)), "comment": "", "max_comment": 1000},
    "rating_alert": {
        **_TICKET,
        "queue": "general",
        "priority": "normal",
        "owner": "A-1",
        "rating_comment": "Nobody <read> it",
        "ticket_url": "https://desk.example/console/t/PR-7K3QX9M2",
    },
    "token_issued": {
        "desk_name": "Promptly Support",
        "holder_name": "Olena Koval",
        "holder_id": "A-1",
        "issuer_name": "Ada <Admin>",
        "issuer_id": "A-2",
        "token_id": "3fa85f64a1b2",
        "issued_at": "2026-11-23T08:00:00+00:00",
        "expires_at": "2027-02-21T08:00:00+00:00",
        "api_url": "https://desk.example",
    },
    "sign_in_code": {
        "desk_name": "Promptly Support",
        "agent_name": "Olena",
        "code": "042917",
        "expires_at": "2026-11-23T08:10:00+00:00",
        "console_url": "https://desk.example/console",
    },
}
# Mail about an agent's account rather than a ticket: no ticket reference to show.
NOT_ABOUT_A_TICKET = {"token_issued", "sign_in_code"}

RENDER_ALL = """
import json, sys
from datetime import datetime, timedelta
sys.path.insert(0, sys.argv[1])
import app  # the Lambda entry point imports cleanly from the package alone
from chalicelib import render
assert not render.SOURCE_DIR.is_dir(), "package must not rely on the source templates"
samples = json.loads(sys.argv[2])
out = {}
for key in json.loads(sys.argv[3]):
    message, language, channel = key.split("/")
    context = dict(samples[message])
    for moment in ("due", "until", "issued_at", "expires_at"):  # ISO in JSON, datetime in templates
        if moment in context:
            context[moment] = datetime.fromisoformat(context[moment])
    for span in ("quiet_close", "usual"):  # seconds in JSON, timedelta in templates
        if isinstance(context.get(span), int):  # the digest's "usual" is a figure, not a span
            context[span] = timedelta(seconds=context[span])
    if message in render.PAGES:
        out[key] = ["", "", render.page(message, language, context)]
    else:
        done = render.render(message, language, context, channel=channel or None)
        out[key] = [done.subject, done.text, done.html]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(packaged(tmp_path_factory, "dev") / "deployment.zip") as archive:
        archive.extractall(unpacked)
    return unpacked


def test_every_template_has_a_sample_context():
    messages = {name.split("/")[0] for name in template_names()}
    assert messages <= SAMPLE_CONTEXT.keys(), f"add a sample context for {messages - SAMPLE_CONTEXT.keys()}"


def renderings() -> list[str]:
    """ "message/language/channel" for every template file: each one is rendered at least once."""
    keys = set()
    for name in template_names():
        message, file = name.split("/")
        language, *variant, _part = file.split(".")
        channel = {"message": "telegram"}.get(variant[0], variant[0]) if variant else ""
        keys.add(f"{message}/{language}/")
        keys.add(f"{message}/{language}/{channel}")
    return sorted(keys)


def test_packaged_zip_renders_every_template_like_the_source(package):
    keys = renderings()
    result = subprocess.run(
        [sys.executable, "-S", "-c", RENDER_ALL, str(package), json.dumps(SAMPLE_CONTEXT), json.dumps(keys)],
        capture_output=True,
        text=True,
        check=False,
        cwd=package,
        env={"PROMPTLY_STAGE": "dev", "AWS_DEFAULT_REGION": "eu-central-1"},
    )
    assert result.returncode == 0, result.stderr
    packaged = json.loads(result.stdout.strip().splitlines()[-1])

    assert set(packaged) == set(keys) and any(key.endswith("/telegram") for key in keys)
    for key, (subject, text, html) in packaged.items():
        message, language, channel = key.split("/")
        context = dict(SAMPLE_CONTEXT[message])
        for moment in ("due", "until", "issued_at", "expires_at"):
            if moment in context:
                context[moment] = datetime.fromisoformat(context[moment])
        for span in ("quiet_close", "usual"):  # seconds in JSON, timedelta in templates
            if isinstance(context.get(span), int):  # the digest's "usual" is a figure, not a span
                context[span] = timedelta(seconds=context[span])
        if message in PAGES:
            assert html == page(message, language, context), key
            continue
        source = render(message, language, context, channel=channel or None)
        assert (subject, text, html) == (source.subject, source.text, source.html), key
        assert "PR-7K3QX9M2" in subject + text or message in NOT_ABOUT_A_TICKET


def test_package_carries_no_test_or_dev_dependencies(package):
    present = {path.name.split("-")[0].lower() for path in package.iterdir()}
    assert not present & {"moto", "pytest", "hypothesis", "responses", "cfnlint", "time_machine", "tests"}
    assert not (package / "templates").exists()
    assert (package / "chalicelib" / "compiled_templates" / "manifest.json").exists()


def test_package_carries_the_vendored_static_files_byte_for_byte(package):
    from chalicelib import assets

    shipped = package / "chalicelib" / "static"
    for path in assets.STATIC_DIR.rglob("*"):
        if path.is_file() and path.name != "VENDORED.md":
            assert (shipped / path.relative_to(assets.STATIC_DIR)).read_bytes() == path.read_bytes()
    assert (shipped / "console").is_dir()  # the console's own bundles' parts


# What the trimmed package still does --------------------------------------------------------
# botocore's models cut to build.BOTOCORE_SERVICES, `holidays` to desk.toml's countries and
# Powertools to what the desk imports (tools/build.py): the package, with moto behind it (moto
# is appended to the path, so the package's own botocore and holidays answer), takes a form
# and computes a due time across a public holiday like the source does.
ANSWER_A_FORM = """
import json, sys, types
sys.path.insert(0, sys.argv[1])  # the package first: its botocore, holidays, chalicelib
sys.path.append(sys.argv[2])  # then infra/ from the source tree (not in the package)
import moto
from moto import mock_aws
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
import botocore, holidays
assert botocore.__file__.startswith(sys.argv[1]) and holidays.__file__.startswith(sys.argv[1])
out = {}
with mock_aws():
    from infra.local import create_resources
    from chalicelib import clock
    from chalicelib.signing import hmac_hex, timestamped, unix_seconds
    import app
    from chalicelib.config import settings
    from chalicelib.models import Ticket
    from aws_lambda_powertools.utilities import parameters  # SSM stages import it lazily
    create_resources()
    body = json.dumps(json.loads(sys.argv[3])).encode()
    stamp = unix_seconds(clock.machine_now())  # signed as the website's server signs (tests/harness.py)
    headers = {"Content-Type": "application/json", "X-Promptly-Timestamp": stamp,
               "X-Promptly-Signature": "sha256=" + hmac_hex(sys.argv[4], timestamped(stamp, body))}
    event = {
        "resource": "/webhooks/form", "path": "/webhooks/form", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False, "body": body.decode(),
        "requestContext": {"resourcePath": "/webhooks/form", "httpMethod": "POST", "stage": "local",
                           "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9"}},
    }
    context = types.SimpleNamespace(function_name="promptly-dev-webhooks", memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:eu-central-1:123456789012:function:promptly-dev-webhooks",
        aws_request_id="r-1", get_remaining_time_in_millis=lambda: 30000)
    response = app.app(event, context)
    out["status"] = response["statusCode"]
    from chalicelib import config
    out["frozen form read"] = config.thawed(config.CONFIG_PATH) is not None
    out["pydantic loaded"] = sorted(name for name in sys.modules if name.split(".")[0] in ("pydantic", "pydantic_core"))
    out["powertools beside its Logger"] = sorted(
        name for name in sys.modules if name.startswith(("aws_lambda_powertools.metrics", "aws_lambda_powertools.tracing"))
    )
    from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric  # still there, on first use
    out["powertools names"] = [Logger.__name__, Metrics.__name__, Tracer.__name__, single_metric.__name__]
    ticket = Ticket.get(json.loads(response["body"])["ticket"])
    out["due"] = ticket.first_response_due.isoformat()
    start = datetime.fromisoformat(sys.argv[5])
    out["over_holiday"] = settings().calendar_for("general").add(start, timedelta(hours=2)).isoformat()
print(json.dumps(out))
"""
BEFORE_A_HOLIDAY = datetime(2021, 1, 6, 17, 0, tzinfo=ZoneInfo("Europe/Kyiv"))  # Orthodox Christmas is the 7th


def test_trimmed_package_answers_a_form_and_computes_a_due_time_over_a_holiday(package):
    from chalicelib.config import settings
    from tests.harness import in_a_fresh_interpreter, local_stage_env

    form = {"submission_id": "p1", "email": "ivan@example.com", "name": "Ivan", "message": "Where is my order?"}
    out = in_a_fresh_interpreter(
        ANSWER_A_FORM,
        str(package),
        str(ROOT),
        json.dumps(form),
        local_stage_env(ROOT)["PROMPTLY_SECRET_FORM_SECRET"],
        BEFORE_A_HOLIDAY.isoformat(),
        cwd=package,
        root=ROOT,
    )
    assert out["status"] == 200 and out["due"]
    assert out["frozen form read"] and out["pydantic loaded"] == []  # the desk file was validated at build
    # Powertools' Metrics and Tracer load when first named (tools/build.py), not with its Logger
    assert out["powertools beside its Logger"] == []
    assert out["powertools names"] == ["Logger", "Metrics", "Tracer", "single_metric"]
    expected = settings().calendar_for("general").add(BEFORE_A_HOLIDAY, timedelta(hours=2))
    assert datetime.fromisoformat(out["over_holiday"]) == expected
    # 1 h on the 6th; Christmas (the 7th), the day off moved to the 8th and the weekend closed: 1 h on the 11th
    assert expected == datetime(2021, 1, 11, 10, 0, tzinfo=ZoneInfo("Europe/Kyiv"))


def test_the_package_keeps_every_aws_service_the_code_calls(package):
    """BOTOCORE_SERVICES is checked against the code: a client made anywhere in app.py or
    chalicelib/ for a service the build drops fails here, naming it."""
    called = {"dynamodb"}  # PynamoDB's
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        called |= set(re.findall(r"""\bclient\(\s*["']([a-z0-9-]+)["']""", text))
        for literal in re.findall(r"^Service = Literal\[(.*?)\]", text, re.MULTILINE):
            called |= set(re.findall(r"""["']([a-z0-9-]+)["']""", literal))
    missing = called - set(build.BOTOCORE_SERVICES)
    assert not missing, f"add {sorted(missing)} to tools/build.py BOTOCORE_SERVICES (the package drops them)"
    assert {p.name for p in (package / "botocore" / "data").iterdir() if p.is_dir()} == set(build.BOTOCORE_SERVICES)


def test_the_package_keeps_only_the_desk_files_holiday_countries(package):
    kept = {p.stem for p in (package / "holidays" / "countries").glob("*.py")} - {"__init__"}
    assert kept == {"ukraine"}  # desk.toml: calendars.default holidays_country = "UA"
    assert not (package / "aws_lambda_powertools" / "event_handler").exists()


def test_package_carries_the_reply_patterns_byte_for_byte(package):
    from chalicelib.channels.reply_text import PATTERNS_DIR

    shipped = package / "chalicelib" / "channels" / "reply_patterns"
    sources = sorted(PATTERNS_DIR.glob("*.toml"))
    assert sources, "no reply pattern files"
    for path in sources:
        assert (shipped / path.name).read_bytes() == path.read_bytes(), path.name
