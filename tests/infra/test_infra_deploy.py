"""`make deploy` / `make destroy` against moto: the same code path as against AWS, except that
moto cannot run the SAM transform, so the template is expanded here first (as in
test_infra_on_moto.py) by the `template_hook` the deploy offers for that."""

from __future__ import annotations

import json
from urllib.parse import urlparse

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


TICKETS_NEW_INDEXES = ("by_customer", "by_email", "by_owner")


def release_without(*indexes: str):
    """A template_hook: the tickets table as a release before these indexes had it (its attribute
    definitions exactly the keys still in use, as DynamoDB requires)."""

    def hook(template: dict) -> dict:
        template = moto_ready(template)
        properties = template["Resources"]["TicketsTable"]["Properties"]
        properties["GlobalSecondaryIndexes"] = [
            i for i in properties["GlobalSecondaryIndexes"] if i["IndexName"] not in indexes
        ]
        used = {k["AttributeName"] for i in [properties, *properties["GlobalSecondaryIndexes"]] for k in i["KeySchema"]}
        properties["AttributeDefinitions"] = [
            d for d in properties["AttributeDefinitions"] if d["AttributeName"] in used
        ]
        return template

    return hook


def gsis(template: dict, table: str = "TicketsTable") -> dict[str, dict]:
    return {i["IndexName"]: i for i in template["Resources"][table]["Properties"].get("GlobalSecondaryIndexes", [])}


def watch_updates(clients: deploy.Clients) -> list[tuple[dict, dict]]:
    """Each stack update's templates (deployed, given), and DynamoDB's rule checked on each, which
    moto's CloudFormation does not enforce: at most one index added or deleted per table."""
    updates: list[tuple[dict, dict]] = []

    def record(params: dict, **_: object) -> None:
        if params.get("ChangeSetType") != "UPDATE" or "TemplateURL" not in params:
            return  # a new stack, or the PublicUrl pass on the previous template
        url = urlparse(params["TemplateURL"])
        body = clients.s3.get_object(Bucket=url.netloc.split(".", 1)[0], Key=url.path.lstrip("/"))["Body"].read()
        deployed = clients.cloudformation.get_template(StackName=params["StackName"])["TemplateBody"]
        given = json.loads(body)
        for logical, resource in given["Resources"].items():
            if resource["Type"] == "AWS::DynamoDB::Table" and logical in deployed["Resources"]:
                old, new = gsis(deployed, logical), gsis(given, logical)
                moved = (old.keys() ^ new.keys()) | {name for name in old.keys() & new.keys() if old[name] != new[name]}
                assert len(moved) <= 1, f"{logical}: {sorted(moved)} in one update"
        updates.append((deployed, given))

    clients.cloudformation.meta.events.register("provide-client-params.cloudformation.CreateChangeSet", record)
    return updates


def test_an_update_that_adds_three_indexes_to_a_table_adds_them_one_at_a_time(aws_account, built_dev, capsys):
    deploy.deploy(
        "dev", aws_account, out=built_dev.out, build=False, template_hook=release_without(*TICKETS_NEW_INDEXES), delay=0
    )
    before = aws_account.cloudformation.get_template(StackName="promptly-dev")["TemplateBody"]
    updates = watch_updates(aws_account)
    capsys.readouterr()

    result = run("dev", aws_account, built_dev)

    assert capsys.readouterr().out.splitlines() == [
        f"promptly-dev-tickets: adding index {name} (step {number} of 3)"
        for number, name in enumerate(TICKETS_NEW_INDEXES, start=1)
    ]
    assert result.action == "updated"
    old = sorted(gsis(before))
    assert [sorted(gsis(given)) for _, given in updates] == [
        sorted([*old, "by_customer"]),
        sorted([*old, "by_customer", "by_email"]),
        sorted([*old, *TICKETS_NEW_INDEXES]),
    ]
    # the steps between move the tickets table's indexes and nothing else: the running code stays
    for _, given in updates[:-1]:
        assert {k: v for k, v in given["Resources"].items() if k != "TicketsTable"} == {
            k: v for k, v in before["Resources"].items() if k != "TicketsTable"
        }
    final = aws_account.cloudformation.get_template(StackName="promptly-dev")["TemplateBody"]
    assert gsis(final) == gsis(built_dev.sam) and set(gsis(final)) > set(TICKETS_NEW_INDEXES)


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
    assert sorted(emptied) == [f"promptly-dev-{kind}-123456789012-{REGION}" for kind in ("archive", "files", "inbound")]
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


def test_an_update_still_building_when_the_wait_ends_is_not_called_rolled_back(aws_account, built_dev, monkeypatch):
    """An index's backfill may outlast the wait: the stack is then still updating, not rolled back."""
    from botocore.exceptions import WaiterError

    run("dev", aws_account, built_dev)
    cloudformation = aws_account.cloudformation
    describe_stacks = cloudformation.describe_stacks

    class Building:
        def wait(self, **_: object) -> None:
            monkeypatch.setattr(
                cloudformation,
                "describe_stacks",
                lambda **kwargs: {
                    "Stacks": [describe_stacks(**kwargs)["Stacks"][0] | {"StackStatus": "UPDATE_IN_PROGRESS"}]
                },
            )
            raise WaiterError("StackUpdateComplete", "Max attempts exceeded", {})

    get_waiter = cloudformation.get_waiter
    monkeypatch.setattr(
        cloudformation, "get_waiter", lambda name: Building() if name == "stack_update_complete" else get_waiter(name)
    )

    with pytest.raises(deploy.DeployError, match="still UPDATE_IN_PROGRESS after 30 minutes") as raised:
        deploy.apply_change_set(aws_account, "promptly-dev", {"TwilioSmsFrom": "+15005550006"}, delay=5)
    assert "rolled back" not in str(raised.value)


def test_a_dev_stage_may_keep_its_files_for_good_and_a_later_deploy_keeps_that(aws_account, built_dev):
    """--files-keep-days sets FilesKeepDays (the bucket's rules: test_infra_template.py; moto's
    CloudFormation does not apply lifecycle rules)."""
    default = run("dev", aws_account, built_dev)
    kept = run("dev", aws_account, built_dev, files_keep_days=0)
    again = run("dev", aws_account, built_dev)

    assert default.parameters["FilesKeepDays"] == "30"
    assert kept.parameters["FilesKeepDays"] == again.parameters["FilesKeepDays"] == "0"


def release_projecting_all(index: str):
    """A template_hook: the tickets table as a release whose `index` projected whole tickets."""

    def hook(template: dict) -> dict:
        template = moto_ready(template)
        for found in template["Resources"]["TicketsTable"]["Properties"]["GlobalSecondaryIndexes"]:
            if found["IndexName"] == index:
                found["Projection"] = {"ProjectionType": "ALL"}
        return template

    return hook


def test_an_index_whose_projection_shrank_is_deleted_and_added_again_one_step_each(aws_account, built_dev, capsys):
    """by_alert held whole tickets before it held keys only: DynamoDB cannot alter an index's
    projection, so the deploy deletes it, then adds it again, each in an update of its own."""
    assert gsis(built_dev.sam)["by_alert"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    deploy.deploy(
        "dev", aws_account, out=built_dev.out, build=False, template_hook=release_projecting_all("by_alert"), delay=0
    )
    updates = watch_updates(aws_account)
    capsys.readouterr()

    result = run("dev", aws_account, built_dev)

    assert capsys.readouterr().out.splitlines() == [
        "promptly-dev-tickets: removing index by_alert (step 1 of 2)",
        "promptly-dev-tickets: adding index by_alert (step 2 of 2)",
    ]
    assert result.action == "updated"
    assert "by_alert" not in gsis(updates[0][1])
    final = aws_account.cloudformation.get_template(StackName="promptly-dev")["TemplateBody"]
    assert gsis(final)["by_alert"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
