"""`make deploy` / `make destroy` against moto: the same code path as against AWS, except that
moto cannot run the SAM transform, so the template is expanded here first (as in
test_infra_on_moto.py) by the `template_hook` the deploy offers for that."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.secret_names import secret_names
from tests.infra.conftest import expand
from tests.infra.iam import REGION
from tests.infra.test_infra_on_moto import for_moto
from tools import deploy

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")


def moto_ready(template: dict) -> dict:
    [uri] = {
        r["Properties"]["CodeUri"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    }
    return for_moto(expand(template, uri))


@pytest.fixture
def aws_account():
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield deploy.Clients(*(session.client(name) for name in ("cloudformation", "s3", "sts", "ssm", "ses")))


def run(stage, clients, built, **settings):
    return deploy.deploy(
        stage, clients, settings=settings, out=built.out, build=False, template_hook=moto_ready, delay=0
    )


def test_first_deploy_creates_the_stack_and_gives_the_functions_the_api_url(aws_account, built_dev):
    result = run("dev", aws_account, built_dev, alarm_email="ops@example.com")

    assert result.action == "created" and result.stack == "promptly-dev"
    assert result.api_url.startswith("https://") and result.api_url.endswith("/api")
    assert result.parameters["PublicUrl"] == result.api_url  # the second pass filled it in
    assert result.parameters["AlarmEmail"] == "ops@example.com"
    function = boto3.client("lambda", region_name=REGION).get_function(FunctionName="promptly-dev-api_handler")
    assert function["Configuration"]["Environment"]["Variables"]["PROMPTLY_PUBLIC_URL"] == result.api_url
    bucket = f"promptly-deploy-123456789012-{REGION}"
    keys = [o["Key"] for o in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket)["Contents"]]
    assert sum(key.endswith(".zip") for key in keys) == 1


def test_running_it_again_updates_the_same_stack_in_place_and_keeps_settings(aws_account, built_dev):
    first = run("dev", aws_account, built_dev, alarm_email="ops@example.com")
    stack_id = aws_account.cloudformation.describe_stacks(StackName="promptly-dev")["Stacks"][0]["StackId"]

    again = run("dev", aws_account, built_dev, twilio_sms_from="+15005550006")

    assert again.action in ("updated", "unchanged")
    assert aws_account.cloudformation.describe_stacks(StackName="promptly-dev")["Stacks"][0]["StackId"] == stack_id
    assert again.parameters["AlarmEmail"] == "ops@example.com"  # not given again: kept
    assert again.parameters["TwilioSmsFrom"] == "+15005550006"
    assert again.api_url == first.api_url


def test_what_it_prints_names_every_webhook_secret_and_manual_step(aws_account, built_dev):
    result = run("dev", aws_account, built_dev)
    aws_account.ssm.put_parameter(Name="/promptly/dev/form_secret", Value="s3cret", Type="SecureString")

    text = deploy.next_steps("dev", result, aws_account)

    for hook in ("form", "chat", "telegram", "viber", "twilio"):
        assert f"{result.api_url}/webhooks/{hook}" in text
    for name in secret_names():
        line = f"--type SecureString --name /promptly/dev/{name} "
        assert (line in text) == (name != "form_secret"), name  # already there: not asked again
    assert "tools.register_webhooks --url " + result.api_url in text
    assert "set-active-receipt-rule-set --rule-set-name promptly-dev-inbound" in text
    assert "promptly.example" in text and "tools.create_admin" in text


def test_destroy_deletes_a_dev_stack_and_refuses_prod(aws_account, built_dev, monkeypatch):
    run("dev", aws_account, built_dev)
    emptied: list[str] = []
    empty = deploy._empty_bucket
    monkeypatch.setattr(
        deploy, "_empty_bucket", lambda clients, bucket: (emptied.append(bucket), empty(clients, bucket))
    )

    with pytest.raises(deploy.DeployError, match="refusing to destroy prod"):
        deploy.destroy("prod", aws_account, delay=0)
    assert deploy.destroy("dev", aws_account, delay=0) == "promptly-dev deleted"
    # CloudFormation deletes only empty buckets (moto deletes them anyway: checked here)
    assert sorted(emptied) == [f"promptly-dev-{kind}-123456789012-{REGION}" for kind in ("archive", "inbound")]
    assert (
        deploy.describe(aws_account.cloudformation, "promptly-dev") in (None, {})
        or deploy.describe(aws_account.cloudformation, "promptly-dev")["StackStatus"] == "DELETE_COMPLETE"
    )


def test_local_is_not_a_deployable_stage(aws_account, built_dev):
    with pytest.raises(deploy.DeployError, match="not deployable"):
        deploy.deploy("local", aws_account, out=built_dev.out, build=False)


def test_secrets_already_in_ssm_are_not_asked_for_however_many_the_code_reads(aws_account, monkeypatch):
    """SSM's GetParameters takes ten names at a time; the eleventh secret must be checked too."""
    wanted = [f"secret_{number:02}" for number in range(12)]
    monkeypatch.setattr(deploy, "secret_names", lambda: wanted)
    for name in ("secret_01", "secret_11"):
        aws_account.ssm.put_parameter(Name=f"/promptly/dev/{name}", Value="s3cret", Type="SecureString")

    text = deploy.next_steps("dev", deploy.Result("promptly-dev", "created"), aws_account)

    asked = [name for name in wanted if f"--name /promptly/dev/{name} " in text]
    assert asked == [name for name in wanted if name not in ("secret_01", "secret_11")]


def test_it_prints_the_twilio_fallback_url_at_the_public_address():
    """Twilio retries a failed messaging webhook only at the number's Fallback URL."""
    result = deploy.Result(
        "promptly-dev",
        "updated",
        outputs={"EndpointURL": "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/api/"},
        parameters={"PublicUrl": "https://desk.example.com"},
    )

    text = deploy.next_steps("dev", result)

    assert "twilio fallback  https://desk.example.com/webhooks/twilio  (set it as the Fallback URL too)" in text
