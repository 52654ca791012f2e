"""The packaged stack, expanded with aws-sam-translator as CloudFormation would, is created on
moto's CloudFormation, and the result is what the desk needs.

moto cannot import API Gateway's Swagger 2.0 body, so the API's Deployment and Stage are left
out (and the RestApi gets the Name moto requires). moto's CloudFormation also skips a few types
(alarms, SES receipt rules, bucket and topic policies, SNS subscriptions) and ignores a table's
TimeToLiveSpecification: those are asserted on the template (test_infra_template.py) and here
on the expanded template, and only what moto really creates is asserted on moto.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.models import ALL_MODELS
from chalicelib.outbox import MAX_RECEIVES
from infra.functions import functions
from infra.stack import table_kind
from tests.infra.conftest import ARTIFACTS_BUCKET
from tests.infra.iam import REGION

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")  # moto skips some types: see above

LEFT_OUT = ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")


def for_moto(expanded: dict) -> dict:
    template = json.loads(json.dumps(expanded))
    for name, resource in list(template["Resources"].items()):
        if resource["Type"] in LEFT_OUT:
            del template["Resources"][name]
        elif resource["Type"] == "AWS::ApiGateway::RestApi":
            resource["Properties"]["Name"] = "promptly-dev"
    return template


@pytest.fixture(scope="module")
def stack(built_dev, expanded_dev):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key="deployment.zip", Body=built_dev.zip.read_bytes())
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="promptly-dev",
            TemplateBody=json.dumps(for_moto(expanded_dev)),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "PublicUrl", "ParameterValue": "https://desk.example"}],
        )
        yield cloudformation.describe_stacks(StackName="promptly-dev")["Stacks"][0]


def client(service: str):
    return boto3.client(service, region_name=REGION)


def test_the_expanded_template_creates_the_stack(stack):
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["EndpointURL"].startswith("https://") and outputs["EndpointURL"].endswith("/api/")
    assert outputs["InboundMailBucket"] == f"promptly-dev-inbound-123456789012-{REGION}"
    assert outputs["DigestArchiveBucket"] == f"promptly-dev-archive-123456789012-{REGION}"


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_table_exists_with_its_keys_and_indexes(stack, model):
    table = client("dynamodb").describe_table(TableName=f"promptly-dev-{table_kind(model)}")["Table"]
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    assert keys == {"HASH": model._hash_keyname, **({"RANGE": model._range_keyname} if model._range_keyname else {})}
    assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])} == set(model._indexes)
    assert all(index["IndexStatus"] == "ACTIVE" for index in table.get("GlobalSecondaryIndexes", []))
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_ttl_is_declared_for_the_keys_table(expanded_dev):
    [keys] = [
        r
        for r in expanded_dev["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table" and r["Properties"]["TableName"] == "promptly-dev-keys"
    ]
    assert keys["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}


def test_outbox_queue_redrives_to_its_dead_letter_queue(stack):
    sqs = client("sqs")
    outbox = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName="promptly-dev-outbox")["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName="promptly-dev-outbox-dlq")["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    redrive = json.loads(outbox["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVES
    assert outbox["VisibilityTimeout"] == "180"
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_inbound_mail_bucket_and_topic_exist(stack):
    bucket = f"promptly-dev-inbound-123456789012-{REGION}"
    assert bucket in [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    assert f"arn:aws:sns:{REGION}:123456789012:promptly-dev-inbound-email" in topics
    assert f"arn:aws:sns:{REGION}:123456789012:promptly-dev-alarms" in topics


def test_the_digest_archive_bucket_exists_encrypted(stack):  # its privacy: test_infra_template.py
    s3 = client("s3")
    bucket = f"promptly-dev-archive-123456789012-{REGION}"
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_every_function_exists_with_its_trigger_and_settings(stack, expanded_dev):
    lambda_ = client("lambda")
    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    events = client("events")
    rules = events.list_rules()["Rules"]
    resources = expanded_dev["Resources"].values()
    for function in functions():
        name = f"promptly-dev-{function.name}"
        configuration = lambda_.get_function(FunctionName=name)["Configuration"]
        variables = configuration["Environment"]["Variables"]
        assert variables["PROMPTLY_STAGE"] == "dev"
        assert variables["PROMPTLY_PUBLIC_URL"] == "https://desk.example"
        assert variables["PROMPTLY_ARCHIVE_BUCKET"] == f"promptly-dev-archive-123456789012-{REGION}"
        assert configuration["Runtime"] == "python3.11"
        if function.trigger == "sqs":
            [mapping] = [m for m in mappings if m["FunctionArn"].endswith(f":function:{name}")]
            assert mapping["EventSourceArn"].endswith(":promptly-dev-outbox") and mapping["BatchSize"] == 1
        elif function.trigger == "sns":  # moto skips AWS::SNS::Subscription: check what SAM made of it
            [subscription] = [
                r["Properties"]
                for r in resources
                if r["Type"] == "AWS::SNS::Subscription"
                and r["Properties"]["Protocol"] == "lambda"
                and r["Properties"]["Endpoint"] == {"Fn::GetAtt": [function.logical_id, "Arn"]}
            ]
            assert subscription["TopicArn"]["Fn::Sub"].endswith(":promptly-dev-" + function.source.split("-", 2)[2])
        elif function.trigger in ("schedule", "event"):
            targets = {
                rule["Name"]: [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
                for rule in rules
            }
            [rule] = [r for r in rules if any(arn.endswith(f":function:{name}") for arn in targets[r["Name"]])]
            if function.trigger == "schedule":
                assert rule["ScheduleExpression"] == function.source and rule["State"] == "ENABLED"
