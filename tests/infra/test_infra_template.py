"""The packaged stack, as `make deploy` sends it: valid CloudFormation, every table the models
define, the queues, inbound mail, the digest archive, logs and alarms — with the same names and
settings the local desk (infra/local.py) creates, and no secret in it."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from chalicelib.models import ALL_MODELS
from chalicelib.outbox import MAX_RECEIVES
from infra import local
from infra.functions import functions
from infra.names import Names
from infra.secret_names import secret_names
from infra.stack import MAIL_PREFIX, table_kind
from tools.build import ROOT


@pytest.fixture(params=["dev", "prod"])
def built(request):
    return request.getfixturevalue(f"built_{request.param}")


def test_packaged_template_passes_cfn_lint(built):
    matches = lint(json.dumps(built.sam), config=ManualArgs(regions=["eu-central-1", "us-east-1"]))
    assert [str(match) for match in matches] == []


def test_one_stack_holds_functions_api_and_infra(built_dev):
    resources = built_dev.sam["Resources"]
    assert built_dev.sam["Transform"] == "AWS::Serverless-2016-10-31"
    assert {
        "RestAPI",
        "APIHandler",
        "OutboxQueue",
        "InboundMailBucket",
        "InboundReceiptRule",
        "DigestArchiveBucket",
    } <= set(resources)
    assert all("Type" in resource for resource in resources.values())
    for function in functions():
        properties = resources[function.logical_id]["Properties"]
        assert properties["FunctionName"] == f"promptly-dev-{function.name}"
        variables = properties["Environment"]["Variables"]
        assert variables["PROMPTLY_STAGE"] == "dev"  # Chalice's own variables survive the merge
        assert variables["PROMPTLY_INBOUND_BUCKET"] == {"Fn::Sub": Names("dev").inbound_bucket}
        assert variables["PROMPTLY_ARCHIVE_BUCKET"] == {"Fn::Sub": Names("dev").archive_bucket}


def test_functions_know_how_long_the_inbound_bucket_keeps_raw_mail(built_dev, built_prod):
    """ "Show the whole message" says it once the expiry rule removed a mail: the same days as the rule."""
    for built, days in ((built_dev, 30), (built_prod, 90)):
        resources = built.sam["Resources"]
        rules = resources["InboundMailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        [expiry] = [rule for rule in rules if "ExpirationInDays" in rule]
        assert expiry["ExpirationInDays"] == days
        for function in functions():
            variables = resources[function.logical_id]["Properties"]["Environment"]["Variables"]
            assert variables["PROMPTLY_RAW_MAIL_DAYS"] == str(days), function.name


def _table(built, kind):
    [table] = [
        r["Properties"]
        for r in built.of_type("AWS::DynamoDB::Table").values()
        if r["Properties"]["TableName"] == f"promptly-{built.stage}-{kind}"
    ]
    return table


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_table_is_built_from_its_model(built_dev, model):
    table = _table(built_dev, table_kind(model))
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    assert keys["HASH"] == model._hash_keyname
    assert keys.get("RANGE") == model._range_keyname
    assert table["KeySchema"][0]["KeyType"] == "HASH"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
    for name, index in model._indexes.items():
        schema = {k["KeyType"]: k["AttributeName"] for k in indexes[name]["KeySchema"]}
        attributes = index.Meta.attributes.values()
        assert schema == {
            ("HASH" if a.is_hash_key else "RANGE"): a.attr_name for a in attributes if a.is_hash_key or a.is_range_key
        }
    assert set(indexes) == set(model._indexes)
    ttl = model._ttl_attribute()
    assert table.get("TimeToLiveSpecification") == ({"AttributeName": ttl.attr_name, "Enabled": True} if ttl else None)


def test_keys_table_expires_short_lived_keys(built_dev):
    assert _table(built_dev, "keys")["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}


def test_prod_tables_have_point_in_time_recovery_deletion_protection_and_are_retained(built_prod, built_dev):
    for table in built_prod.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    for table in built_dev.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is False  # `make destroy STAGE=dev` works
        assert table["DeletionPolicy"] == "Delete"


def test_outbox_queue_redrives_to_a_dead_letter_queue_kept_14_days(built_dev):
    resources = built_dev.sam["Resources"]
    outbox, dlq = resources["OutboxQueue"]["Properties"], resources["OutboxDeadLetterQueue"]["Properties"]
    assert (outbox["QueueName"], dlq["QueueName"]) == ("promptly-dev-outbox", "promptly-dev-outbox-dlq")
    assert outbox["VisibilityTimeout"] == local.OUTBOX_VISIBILITY_SECONDS == 180
    assert outbox["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["OutboxDeadLetterQueue", "Arn"]},
        "maxReceiveCount": MAX_RECEIVES,
    }
    assert dlq["MessageRetentionPeriod"] == local.DLQ_RETENTION_SECONDS == 14 * 24 * 3600


def test_inbound_mail_is_private_encrypted_expiring_and_only_ses_writes_it(built_dev):
    resources = built_dev.sam["Resources"]
    bucket = resources["InboundMailBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    [expiry] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expiry["Prefix"] == MAIL_PREFIX and expiry["ExpirationInDays"] <= 90
    [ses_put] = [
        s
        for s in resources["InboundMailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert ses_put["Principal"] == {"Service": "ses.amazonaws.com"} and ses_put["Action"] == "s3:PutObject"
    assert set(ses_put["Condition"]["StringEquals"]) == {"aws:SourceAccount", "aws:SourceArn"}
    [publish] = resources["InboundEmailTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert publish["Principal"] == {"Service": "ses.amazonaws.com"} and publish["Action"] == "sns:Publish"
    assert resources["InboundEmailTopic"]["Properties"]["TopicName"] == "promptly-dev-inbound-email"

    rule = resources["InboundReceiptRule"]
    assert rule["Properties"]["RuleSetName"] == {"Ref": "InboundReceiptRuleSet"}
    [action] = rule["Properties"]["Rule"]["Actions"]
    assert action["S3Action"] == {
        "BucketName": {"Ref": "InboundMailBucket"},
        "ObjectKeyPrefix": MAIL_PREFIX,
        "TopicArn": {"Ref": "InboundEmailTopic"},
    }
    assert rule["Properties"]["Rule"]["ScanEnabled"] is True  # the spam/virus verdicts intake reads
    assert set(rule["DependsOn"]) == {"InboundMailBucketPolicy", "InboundEmailTopicPolicy"}  # SES checks both
    # The SNS topic is what app.py's inbound_email handler subscribes to.
    events = resources["InboundEmail"]["Properties"]["Events"]
    [subscription] = events.values()
    assert subscription["Properties"]["Topic"]["Fn::Sub"].endswith(":promptly-dev-inbound-email")


def test_the_digest_archive_is_private_encrypted_kept_and_only_the_digest_and_outbox_touch_it(built_dev, built_prod):
    for built in (built_dev, built_prod):
        archive = built.sam["Resources"]["DigestArchiveBucket"]
        bucket = archive["Properties"]
        assert bucket["BucketName"] == {"Fn::Sub": Names(built.stage).archive_bucket}
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        blocked = bucket["PublicAccessBlockConfiguration"]
        assert all(blocked.values()) and len(blocked) == 4
        assert not any("Expiration" in key for rule in bucket["LifecycleConfiguration"]["Rules"] for key in rule)
        assert archive["DeletionPolicy"] == ("Retain" if built.stage == "prod" else "Delete")  # dev: make destroy
        [tls] = built.sam["Resources"]["DigestArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    archive = Names("dev").archive_bucket
    touching = {}
    for function in functions():
        policy = built_dev.sam["Resources"].get(f"{function.logical_id}DataPolicy", {})
        for statement in policy.get("Properties", {}).get("PolicyDocument", {}).get("Statement", []):
            if archive in json.dumps(statement["Resource"]):
                touching[function.name] = (statement["Action"], statement["Resource"])
    digests = [{"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{archive}/digests/*"}]
    assert touching == {"morning_digest": (["s3:PutObject"], digests), "outbox_worker": (["s3:GetObject"], digests)}


def test_every_function_has_a_log_group_with_retention_and_an_error_alarm(built_dev, built_prod):
    for built, days in ((built_dev, 14), (built_prod, 90)):
        groups = {
            g["Properties"]["LogGroupName"]: g["Properties"]["RetentionInDays"]
            for g in built.of_type("AWS::Logs::LogGroup").values()
        }
        alarms = [a["Properties"] for a in built.of_type("AWS::CloudWatch::Alarm").values()]
        for function in functions():
            assert groups[f"/aws/lambda/promptly-{built.stage}-{function.name}"] == days
            assert any(
                a["MetricName"] == "Errors" and a["Dimensions"][0]["Value"] == {"Ref": function.logical_id}
                for a in alarms
            ), function.name
        queues = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a for a in alarms if a["Namespace"] == "AWS/SQS"}
        assert set(queues) == {
            "OutboxDeadLetterQueue",
            "InboundEmailDeadLetterQueue",  # every dead letter alarms
            "SesFeedbackDeadLetterQueue",
        }
        for dead_letters in queues.values():
            assert dead_letters["MetricName"] == "ApproximateNumberOfMessagesVisible"
            assert (dead_letters["ComparisonOperator"], dead_letters["Threshold"]) == ("GreaterThanThreshold", 0)
            assert dead_letters["AlarmActions"] == [{"Ref": "AlarmTopic"}]
            assert f"make redrive STAGE={built.stage}" in dead_letters["AlarmDescription"]


@pytest.mark.parametrize(
    "function, logical, queue",
    [("inbound_email", "InboundEmail", "inbound-email-dlq"), ("ses_feedback", "SesFeedback", "ses-feedback-dlq")],
)
def test_an_sns_event_that_fails_every_try_is_parked_not_dropped(built_dev, expanded_dev, function, logical, queue):
    """SNS invokes inbound_email and ses_feedback asynchronously: after their retries the event
    goes to a queue kept 14 days, alarmed, the way the outbox's dead letters do."""
    resources = built_dev.sam["Resources"]
    parked = resources[f"{logical}DeadLetterQueue"]["Properties"]
    assert parked["QueueName"] == f"promptly-dev-{queue}"
    assert parked["MessageRetentionPeriod"] == local.DLQ_RETENTION_SECONDS
    [config] = [
        r
        for r in expanded_dev["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig" and r["Properties"]["FunctionName"] == {"Ref": logical}
    ]
    assert config["Properties"]["Qualifier"] == "$LATEST" and config["Properties"]["MaximumRetryAttempts"] == 2
    assert config["Properties"]["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [f"{logical}DeadLetterQueue", "Arn"]}}
    }
    assert f"{logical}DataPolicy" in config["DependsOn"]  # Lambda checks the role may send there
    alarm = resources[f"{logical}DeadLettersAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{logical}DeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and "make redrive STAGE=dev" in alarm["AlarmDescription"]


def test_no_secret_is_in_the_template_and_every_secret_the_code_reads_is_named(built_dev):
    text = json.dumps(built_dev.sam)
    assert "PROMPTLY_SECRET_" not in text and "local-" not in text
    assert not built_dev.of_type("AWS::SSM::Parameter")  # secrets are put by hand as SecureString
    # The local stage stands in for SSM with PROMPTLY_SECRET_<NAME> variables: the same names.
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    local_secrets = {
        name.removeprefix("PROMPTLY_SECRET_").lower()
        for name in config["stages"]["local"]["environment_variables"]
        if name.startswith("PROMPTLY_SECRET_")
    }
    assert set(secret_names()) == local_secrets
    assert "form_secret" in local_secrets


def test_the_local_desk_creates_the_same_tables_queues_and_buckets(built_dev):
    """infra/local.py (moto) and the stack must agree: same names, keys, indexes, queue settings."""
    import boto3
    from moto import mock_aws

    from chalicelib import aws

    with mock_aws():
        aws.reset()
        local.create_resources()
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        for model in ALL_MODELS:
            kind = table_kind(model)
            live = dynamodb.describe_table(TableName=f"promptly-local-{kind}")["Table"]
            stack = _table(built_dev, kind)
            assert sorted(map(tuple, (k.items() for k in live["KeySchema"]))) == sorted(
                map(tuple, (k.items() for k in stack["KeySchema"]))
            )
            assert {i["IndexName"] for i in live.get("GlobalSecondaryIndexes", [])} == {
                i["IndexName"] for i in stack.get("GlobalSecondaryIndexes", [])
            }
        buckets = {bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]}
        assert {"promptly-local-inbound", "promptly-local-archive"} <= buckets
        url = sqs.get_queue_url(QueueName="promptly-local-outbox")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        outbox = built_dev.sam["Resources"]["OutboxQueue"]["Properties"]
        assert int(attributes["VisibilityTimeout"]) == outbox["VisibilityTimeout"]
        assert (
            int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
            == outbox["RedrivePolicy"]["maxReceiveCount"]
        )
        names = [item["Name"] for item in boto3.client("ses").list_configuration_sets()["ConfigurationSets"]]
        assert names == [
            built_dev.sam["Resources"]["OutboundConfigurationSet"]["Properties"]["Name"].replace(
                "promptly-dev-", "promptly-local-"
            )
        ]
    aws.reset()


def test_every_send_reports_bounces_and_complaints_to_the_feedback_function(built_dev):
    """The configuration set every send names (chalicelib/mail.py) publishes bounces and
    complaints to the topic `ses_feedback` listens to; only SES, for that set, may publish."""
    resources = built_dev.sam["Resources"]
    [configuration_set] = built_dev.of_type("AWS::SES::ConfigurationSet").values()
    assert configuration_set["Properties"]["Name"] == "promptly-dev-outbound"
    [destination] = built_dev.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    published = destination["Properties"]["EventDestination"]
    assert published["Enabled"] and sorted(published["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert published["SnsDestination"]["TopicARN"] == {"Ref": "SesFeedbackTopic"}
    assert resources["SesFeedbackTopic"]["Properties"]["TopicName"] == "promptly-dev-ses-feedback"
    [listener] = [f for f in functions() if f.name == "ses_feedback"]
    assert (listener.trigger, listener.source.split("-", 2)[2]) == ("sns", "ses-feedback")
    [publisher] = resources["SesFeedbackTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert publisher["Principal"] == {"Service": "ses.amazonaws.com"}
    assert publisher["Condition"]["StringEquals"]["aws:SourceArn"] == {"Fn::Sub": Names("dev").configuration_set_arn()}


def test_acknowledgements_refused_by_a_limit_raise_an_alarm(built_dev):
    alarm = built_dev.sam["Resources"]["AcksOverLimitAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Promptly", "AcksRefusedByLimit")
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"stage": "dev", "service": "promptly"}
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_files_bucket_is_private_encrypted_tls_only_and_lets_the_console_upload(built_dev, built_prod):
    for built in (built_dev, built_prod):
        resources = built.sam["Resources"]
        bucket = resources["FilesBucket"]["Properties"]
        assert bucket["BucketName"] == {"Fn::Sub": Names(built.stage).files_bucket}
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        blocked = bucket["PublicAccessBlockConfiguration"]
        assert all(blocked.values()) and len(blocked) == 4
        [tls] = resources["FilesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert resources["FilesBucket"]["DeletionPolicy"] == ("Retain" if built.stage == "prod" else "Delete")
        # CORS: the console's origin (PublicUrl's scheme and host), once it is known, may POST and GET
        on_url, rules, unknown = bucket["CorsConfiguration"]["Fn::If"]
        assert on_url == "HasPublicUrl" and unknown == {"Ref": "AWS::NoValue"}
        [rule] = rules["CorsRules"]
        assert sorted(rule["AllowedMethods"]) == ["GET", "POST"]
        [origin] = rule["AllowedOrigins"]
        assert evaluate_origin(origin, "https://abc123.execute-api.eu-central-1.amazonaws.com/api") == (
            "https://abc123.execute-api.eu-central-1.amazonaws.com"
        )
        assert evaluate_origin(origin, "https://desk.example.com") == "https://desk.example.com"
        for function in functions():
            variables = resources[function.logical_id]["Properties"]["Environment"]["Variables"]
            assert variables["PROMPTLY_FILES_BUCKET"] == {"Fn::Sub": Names(built.stage).files_bucket}


def test_abandoned_uploads_expire_in_a_day_and_ticket_files_as_the_stage_keeps_them(built_dev, built_prod):
    for built, keep_days in ((built_dev, "30"), (built_prod, "0")):
        assert built.sam["Parameters"]["FilesKeepDays"]["Default"] == keep_days  # prod: kept with the ticket
        rules = built.sam["Resources"]["FilesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        [uploads] = [rule for rule in rules if rule.get("Prefix") == "uploads/"]
        assert uploads["ExpirationInDays"] == 1 and uploads["Status"] == "Enabled"
        [conditional] = [rule for rule in rules if "Fn::If" in rule]
        condition, when_kept, otherwise = conditional["Fn::If"]
        assert when_kept == {"Ref": "AWS::NoValue"}
        assert built.sam["Conditions"][condition] == {"Fn::Equals": [{"Ref": "FilesKeepDays"}, "0"]}
        assert otherwise["Prefix"] == "tickets/" and otherwise["ExpirationInDays"] == {"Ref": "FilesKeepDays"}


def evaluate_origin(expression: dict, public_url: str) -> str:
    """CloudFormation's Fn::Join / Fn::Select / Fn::Split, as far as the CORS origin uses them."""

    def run(node):
        if isinstance(node, str):
            return node
        if node == {"Ref": "PublicUrl"}:
            return public_url
        [(name, arguments)] = node.items()
        if name == "Fn::Join":
            return arguments[0].join(run(part) for part in arguments[1])
        if name == "Fn::Select":
            return run(arguments[1])[arguments[0]]
        if name == "Fn::Split":
            return run(arguments[1]).split(arguments[0])
        raise AssertionError(f"unexpected {name}")

    return run(expression)
