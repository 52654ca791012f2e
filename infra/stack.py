"""Everything of a stage that is not a Lambda function, as CloudFormation merged into
`chalice package` output (`--merge-template`): one stack per stage, one deploy, one rollback.

    python -m infra.stack --stage dev          # print the merge template (tools/build.py writes it)

What it holds, and where the settings come from:
- the DynamoDB tables, generated from chalicelib/models.py (keys, indexes, TTL attribute), so
  the deployed tables cannot drift from the models; on `prod` point-in-time recovery, deletion
  protection and `DeletionPolicy: Retain`;
- the outbox queue and its dead-letter queue, with the numbers infra/local.py uses and the
  redrive count from chalicelib/outbox.py;
- inbound mail's dead-letter queue: `inbound_email`'s on-failure destination, so an SES event
  that failed every try is parked (alarmed, `make redrive`) instead of dropped;
- inbound mail: S3 bucket (encrypted, private, raw mail expires), SNS topic, SES receipt rule
  set + rule (S3 action that notifies the topic) — activate the rule set once, see README;
- outbound mail: the SES configuration set every send names, publishing bounces and complaints to
  an SNS topic → `ses_feedback` (the suppression list), and an alarm on acknowledgements refused by
  desk.toml [limits];
- the digest archive: its own S3 bucket (encrypted, private, nothing expires: the digests are
  the desk's history), retained with the tables on `prod`;
- the files bucket (attachments): encrypted, private, TLS only; CORS for the console's origin
  (agents' browsers POST uploads to it and GET files); abandoned uploads expire after a day;
  ticket files expire after `FilesKeepDays` (dev 30, prod 0: kept with the ticket);
- log groups with retention, alarms (dead letters, function errors) on an alarm topic;
- per-function IAM policies (infra/permissions.py) attached to the roles Chalice creates;
- per-function names and settings (environment) merged into Chalice's functions;
- flood limits from desk.toml `[throttles]`: API Gateway throttles per route class on the API's
  stage, reserved concurrency for the functions a flood drives (infra/throttles.py).
No secret is here: they live in SSM Parameter Store (infra/secret_names.py lists them).

`--merge-template` merges dicts deeply but replaces lists, so nothing here touches a list
Chalice wrote (e.g. the roles' `Policies`): IAM comes as separate `AWS::IAM::Policy` resources.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.attachments.links import UPLOADS
from chalicelib.metrics import ACKS_REFUSED, NAMESPACE
from chalicelib.stage import PARKED_QUEUES
from infra.functions import API_HANDLER, Function, functions, routes

if TYPE_CHECKING:
    from pynamodb._schema import KeySchema  # PynamoDB's type for a table's key schema entry
from infra.names import Names
from infra.permissions import grants, policy_document
from infra.throttles import api_throttles, reserved_concurrency

MAIL_PREFIX = "mail/"  # SES writes raw messages under this prefix; the lifecycle rule expires them
TICKET_FILES_PREFIX = "tickets/"  # kept files (chalicelib/attachments/files.py object_key)
UPLOADS_PREFIX = f"{UPLOADS}/"  # agents' uploads before an answer takes them (links.upload_key)
UPLOAD_DAYS = 1  # an upload no answer took within a day was abandoned (a closed tab, a changed mind)


def _retention(names: Names) -> dict[str, int]:
    """Days things are kept. `files_days` is the default of the FilesKeepDays parameter (0: for
    good): on `prod` a ticket's files stay as long as the ticket; a dev stage's go after a month."""
    protected = names.protected
    return {
        "logs_days": 90 if protected else 14,
        "mail_days": 90 if protected else 30,
        "files_days": 0 if protected else 30,
    }


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


# Every alarm of the stack fires when its figure is above zero in a five-minute period, and tells
# the alarm topic when it fires and when it clears.
_ABOVE_ZERO_IN_5_MINUTES: dict[str, Any] = {
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching",
    "AlarmActions": [_ref("AlarmTopic")],
    "OKActions": [_ref("AlarmTopic")],
}


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _title(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.replace("_", "-").split("-"))


# Parameters: settings an admin gives at deploy time (never secrets) ---------------------------
PARAMETERS: dict[str, dict[str, Any]] = {
    "PublicUrl": {
        "Type": "String",
        "Default": "",
        "Description": "Base URL providers and customers reach the API at (no trailing slash). "
        "Empty on the first deploy: tools/deploy.py fills in the API Gateway URL.",
    },
    "PublicUrlAliases": {
        "Type": "String",
        "Default": "",
        "Description": "Other base URLs providers may call the webhooks at, comma-separated (e.g. the "
        "API Gateway URL behind a custom domain): Twilio's signature is checked "
        "against each.",
    },
    "AlarmEmail": {
        "Type": "String",
        "Default": "",
        "Description": "Email address subscribed to the alarm topic (confirm the mail AWS sends).",
    },
    "InboundRecipients": {
        "Type": "String",
        "Default": "",
        "Description": "Comma-separated addresses or domains the SES receipt rule accepts mail for; "
        "empty: every verified domain of the account in this region.",
    },
    "ChatReplyUrl": {
        "Type": "String",
        "Default": "",
        "AllowedPattern": "^(https://.+)?$",
        "Description": "The website chat backend's endpoint for our replies (signed): https, on a host "
        "listed in desk.toml [destinations] chat_reply_hosts.",
    },
    "TwilioSmsFrom": {"Type": "String", "Default": "", "Description": "Twilio sender number for SMS."},
    "TwilioWhatsappFrom": {"Type": "String", "Default": "", "Description": "Twilio WhatsApp sender, whatsapp:+…"},
}


def _parameters(names: Names) -> dict[str, dict[str, Any]]:
    """PARAMETERS, and those whose default depends on the stage."""
    return {
        **PARAMETERS,
        "FilesKeepDays": {
            "Type": "Number",
            "Default": str(_retention(names)["files_days"]),
            "MinValue": 0,
            "Description": "Days a ticket's files (attachments) are kept in S3; 0 keeps them for good. The "
            "default is 30 on dev, 0 on prod. The messages keep listing an expired file by name.",
        },
    }


CONDITIONS: dict[str, Any] = {
    "HasPublicUrl": {"Fn::Not": [{"Fn::Equals": [_ref("PublicUrl"), ""]}]},
    "KeepsFilesForGood": {"Fn::Equals": [_ref("FilesKeepDays"), "0"]},
    "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [_ref("AlarmEmail"), ""]}]},
    "HasInboundRecipients": {"Fn::Not": [{"Fn::Equals": [_ref("InboundRecipients"), ""]}]},
}


def _environment(names: Names) -> dict[str, Any]:
    """Added to every function's variables (Chalice's own — PROMPTLY_STAGE etc. — stay)."""
    return {
        "PROMPTLY_PUBLIC_URL": _ref("PublicUrl"),
        "PROMPTLY_PUBLIC_URL_ALIASES": _ref("PublicUrlAliases"),
        "PROMPTLY_INBOUND_BUCKET": _sub(names.inbound_bucket),
        "PROMPTLY_ARCHIVE_BUCKET": _sub(names.archive_bucket),
        "PROMPTLY_FILES_BUCKET": _sub(names.files_bucket),
        # what "show the whole message" says once the expiry rule (inbound_mail) has removed a mail
        "PROMPTLY_RAW_MAIL_DAYS": str(_retention(names)["mail_days"]),
        "PROMPTLY_CHAT_REPLY_URL": _ref("ChatReplyUrl"),
        "PROMPTLY_TWILIO_SMS_FROM": _ref("TwilioSmsFrom"),
        "PROMPTLY_TWILIO_WHATSAPP_FROM": _ref("TwilioWhatsappFrom"),
    }


# Tables, from the PynamoDB models -----------------------------------------------------------
def _key_schema(keys: Iterable[KeySchema | dict[str, str]]) -> list[dict[str, str]]:
    """CloudFormation wants HASH before RANGE; PynamoDB lists them in attribute order."""
    return sorted(
        ({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys),
        key=lambda k: k["KeyType"] != "HASH",
    )


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        out["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return out


def table_kind(model: Any) -> str:
    """ "promptly-<any stage>-tickets" → "tickets" (the models were imported for some stage)."""
    return str(model.Meta.table_name).split("-", 2)[2]


def tables(names: Names) -> dict[str, dict[str, Any]]:
    from chalicelib.models import ALL_MODELS

    resources: dict[str, dict[str, Any]] = {}
    for model in ALL_MODELS:
        kind = table_kind(model)
        schema = model._get_schema()
        definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
        properties: dict[str, Any] = {
            "TableName": names.resource(kind),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": definitions[name]} for name in sorted(definitions)
            ],
            "KeySchema": _key_schema(schema["key_schema"]),
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": names.protected},
            "DeletionProtectionEnabled": names.protected,
            "Tags": [{"Key": "promptly:stage", "Value": names.stage}],
        }
        if schema.get("global_secondary_indexes"):
            properties["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index["index_name"],
                    "KeySchema": _key_schema(index["key_schema"]),
                    "Projection": _projection(index["projection"]),
                }
                for index in sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
            ]
        if schema.get("local_secondary_indexes"):
            properties["LocalSecondaryIndexes"] = [
                {
                    "IndexName": index["index_name"],
                    "KeySchema": _key_schema(index["key_schema"]),
                    "Projection": _projection(index["projection"]),
                }
                for index in sorted(schema["local_secondary_indexes"], key=lambda i: i["index_name"])
            ]
        ttl = model._ttl_attribute()  # type: ignore[no-untyped-call]  # PynamoDB leaves it unannotated
        if ttl is not None:
            properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
        policy = "Retain" if names.protected else "Delete"
        resources[f"{_title(kind)}Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": properties,
        }
    return resources


# Queues -------------------------------------------------------------------------------------
def queues(names: Names) -> dict[str, dict[str, Any]]:
    from chalicelib.outbox import MAX_RECEIVES
    from infra.local import DLQ_RETENTION_SECONDS, OUTBOX_VISIBILITY_SECONDS

    return {
        "OutboxDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": names.resource("outbox-dlq"),
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        "OutboxQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": names.resource("outbox"),
                "VisibilityTimeout": OUTBOX_VISIBILITY_SECONDS,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["OutboxDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": MAX_RECEIVES,
                },
            },
        },
    }


# Buckets: private, encrypted, TLS only ---------------------------------------------------------
ABORT_UPLOADS = {
    "Id": "abort-incomplete-uploads",
    "Status": "Enabled",
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
}


def _bucket(names: Names, bucket: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """Kept on `prod` if the stack goes, like the tables (a bucket must be empty to be deleted:
    `make destroy` empties a dev stage's buckets first)."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain" if names.protected else "Delete",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": _sub(bucket),
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": rules},
            "Tags": [{"Key": "promptly:stage", "Value": names.stage}],
        },
    }


def _tls_only(names: Names, bucket: str) -> dict[str, Any]:
    return {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [_sub(names.bucket_arn(bucket)), _sub(names.bucket_objects_arn(bucket))],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def digest_archive(names: Names) -> dict[str, dict[str, Any]]:
    """`digests/<day>.json` and `.html`, written by morning_digest, read by the outbox that mails
    them. Nothing expires: they are the desk's history (a few dozen KB a day). Not versioned:
    no role may delete, the only writer rewrites a day only when a failed run is redone, and the
    figures can be recomputed from the facts table (point-in-time recovery on prod)."""
    return {
        "DigestArchiveBucket": _bucket(names, names.archive_bucket, [ABORT_UPLOADS]),
        "DigestArchiveBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": _ref("DigestArchiveBucket"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [_tls_only(names, names.archive_bucket)]},
            },
        },
    }


def _origin_of(url: dict[str, str]) -> dict[str, Any]:
    """`https://host` of `https://host/api`: CloudFormation has no URL parser; split on "//", then "/"."""
    halves = {"Fn::Split": ["//", url]}
    host = {"Fn::Select": [0, {"Fn::Split": ["/", {"Fn::Select": [1, halves]}]}]}
    return {"Fn::Join": ["", [{"Fn::Select": [0, halves]}, "//", host]]}


def files(names: Names) -> dict[str, dict[str, Any]]:
    """Attachments: `tickets/<ticket>/<message>/<NN>-<sha16>` (kept files) and `uploads/...`
    (agents' uploads, presigned POSTs from the console). Agents' browsers reach it straight:
    CORS lets the console's origin (PublicUrl's; none until it is known) POST and GET, and
    nothing else — the presigned policy still decides what may be put. Abandoned uploads go after
    UPLOAD_DAYS; ticket files after FilesKeepDays unless that is 0 (prod's default)."""
    expire_files: dict[str, Any] = {
        "Id": "expire-ticket-files",
        "Status": "Enabled",
        "Prefix": TICKET_FILES_PREFIX,
        "ExpirationInDays": _ref("FilesKeepDays"),
    }
    rules: list[dict[str, Any]] = [
        {"Fn::If": ["KeepsFilesForGood", _ref("AWS::NoValue"), expire_files]},
        {
            "Id": "expire-abandoned-uploads",
            "Status": "Enabled",
            "Prefix": UPLOADS_PREFIX,
            "ExpirationInDays": UPLOAD_DAYS,
        },
        ABORT_UPLOADS,
    ]
    bucket = _bucket(names, names.files_bucket, rules)
    bucket["Properties"]["CorsConfiguration"] = {
        "Fn::If": [
            "HasPublicUrl",
            {
                "CorsRules": [
                    {
                        "Id": "console",
                        "AllowedOrigins": [_origin_of(_ref("PublicUrl"))],
                        "AllowedMethods": ["GET", "POST"],
                        "AllowedHeaders": ["*"],
                        "MaxAge": 3600,
                    }
                ]
            },
            _ref("AWS::NoValue"),
        ]
    }
    return {
        "FilesBucket": bucket,
        "FilesBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": _ref("FilesBucket"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [_tls_only(names, names.files_bucket)]},
            },
        },
    }


# Inbound mail: SES → S3 (raw MIME) + SNS → inbound_email ------------------------------------
def _topic_for_ses(logical: str, name: str, display: str, sid: str, condition: dict[str, Any]) -> dict[str, Any]:
    """An SNS topic and the policy that lets only SES publish to it, on `condition` (our account,
    and where it matters the one configuration set)."""
    return {
        logical: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name, "DisplayName": display}},
        f"{logical}Policy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [_ref(logical)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": sid,
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": _ref(logical),
                            "Condition": condition,
                        },
                    ],
                },
            },
        },
    }


def inbound_mail(names: Names) -> dict[str, dict[str, Any]]:
    ses_source = {"StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")}}
    expire_mail = {
        "Id": "expire-raw-mail",
        "Status": "Enabled",
        "Prefix": MAIL_PREFIX,
        "ExpirationInDays": _retention(names)["mail_days"],
    }
    return {
        "InboundMailBucket": _bucket(names, names.inbound_bucket, [expire_mail, ABORT_UPLOADS]),
        "InboundMailBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": _ref("InboundMailBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SesStoresInboundMail",
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": _sub(names.bucket_objects_arn(names.inbound_bucket, MAIL_PREFIX)),
                            "Condition": {
                                "StringEquals": {
                                    "aws:SourceAccount": _ref("AWS::AccountId"),
                                    "aws:SourceArn": _sub(names.receipt_rule_arn()),
                                }
                            },
                        },
                        _tls_only(names, names.inbound_bucket),
                    ],
                },
            },
        },
        **_topic_for_ses(
            "InboundEmailTopic",
            names.resource("inbound-email"),
            "Promptly inbound email",
            "SesPublishesReceipts",
            ses_source,
        ),
        "InboundReceiptRuleSet": {
            "Type": "AWS::SES::ReceiptRuleSet",
            "Properties": {
                "RuleSetName": names.receipt_rule_set,
            },
        },
        "InboundReceiptRule": {
            "Type": "AWS::SES::ReceiptRule",
            "DependsOn": ["InboundMailBucketPolicy", "InboundEmailTopicPolicy"],
            "Properties": {
                "RuleSetName": _ref("InboundReceiptRuleSet"),
                "Rule": {
                    "Name": names.receipt_rule,
                    "Enabled": True,
                    "ScanEnabled": True,  # spam and virus verdicts: chalicelib/channels/ses.py reads them
                    "TlsPolicy": "Optional",
                    "Recipients": {
                        "Fn::If": [
                            "HasInboundRecipients",
                            {"Fn::Split": [",", _ref("InboundRecipients")]},
                            _ref("AWS::NoValue"),
                        ]
                    },
                    "Actions": [
                        {
                            "S3Action": {
                                "BucketName": _ref("InboundMailBucket"),
                                "ObjectKeyPrefix": MAIL_PREFIX,
                                "TopicArn": _ref("InboundEmailTopic"),
                            }
                        }
                    ],
                },
            },
        },
    }


# Outbound mail's protection: SES feedback → SNS → ses_feedback; an alarm on refused acks ------
def outbound_mail(names: Names) -> dict[str, dict[str, Any]]:
    """Every send names the configuration set (chalicelib/mail.py); it publishes permanent and
    transient bounces and complaints to the feedback topic, whose function keeps the suppression
    list (chalicelib/suppression.py). SES pauses an account whose bounce or complaint rate stays
    high: the list is what keeps ours low. The alarm tells an admin when acknowledgements hit a
    limit of desk.toml [limits] (chalicelib/limits.py, metric from chalicelib/metrics.py)."""
    from infra.local import FEEDBACK_DESTINATION, FEEDBACK_EVENTS  # like queues(): infra.local loads the models

    return {
        **_topic_for_ses(
            "SesFeedbackTopic",
            names.resource("ses-feedback"),
            "Promptly SES bounces and complaints",
            "SesPublishesFeedback",
            {
                "StringEquals": {
                    "aws:SourceAccount": _ref("AWS::AccountId"),
                    "aws:SourceArn": _sub(names.configuration_set_arn()),
                }
            },
        ),
        "OutboundConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": names.configuration_set,
                "ReputationOptions": {"ReputationMetricsEnabled": True},  # bounce and complaint rates in CloudWatch
            },
        },
        "OutboundFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "DependsOn": ["SesFeedbackTopicPolicy"],
            "Properties": {
                "ConfigurationSetName": _ref("OutboundConfigurationSet"),
                "EventDestination": {
                    "Name": FEEDBACK_DESTINATION,
                    "Enabled": True,
                    "MatchingEventTypes": list(FEEDBACK_EVENTS),
                    "SnsDestination": {"TopicARN": _ref("SesFeedbackTopic")},
                },
            },
        },
        "AcksOverLimitAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": names.resource("acks-over-limit"),
                "AlarmDescription": "Acknowledgements by email were refused by a limit of desk.toml [limits]: someone "
                "may be aiming the contact form at other people's addresses, or a campaign needs "
                "higher limits. The tickets are kept; each says why it got no acknowledgement.",
                "Namespace": NAMESPACE,
                "MetricName": ACKS_REFUSED,
                "Dimensions": [{"Name": "stage", "Value": names.stage}, {"Name": "service", "Value": "promptly"}],
                **_ABOVE_ZERO_IN_5_MINUTES,
                "Statistic": "Sum",
            },
        },
    }


# Functions: names, settings, logs, permissions, alarms ---------------------------------------
EVENT_SOURCES = {
    ("sqs", "outbox"): "OutboxQueue",
    ("sns", "inbound-email"): "InboundEmailTopic",
    ("sns", "ses-feedback"): "SesFeedbackTopic",
}


def _event_source(function: Function) -> str:
    """The logical id of the queue or topic a handler listens to: this stack must create it."""
    kind = function.source.split("-", 2)[-1]  # promptly-<stage>-<kind>
    try:
        return EVENT_SOURCES[(function.trigger, kind)]
    except KeyError:
        raise ValueError(
            f"{function.name} listens to {function.trigger} {function.source!r}, which infra/stack.py does not create"
        ) from None


def function_resources(
    names: Names, found: list[Function], sender: str, arch: str = "x86_64"
) -> dict[str, dict[str, Any]]:
    policies = grants(names.stage, sender=sender)
    logs_days = _retention(names)["logs_days"]
    resources: dict[str, dict[str, Any]] = {}
    for function in found:
        log_group = f"{function.logical_id}LogGroup"
        policy = f"{function.logical_id}DataPolicy"
        depends = [log_group]
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": names.log_group(function.name), "RetentionInDays": logs_days},
        }
        if function.name in policies:
            depends.append(policy)
            resources[policy] = {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": names.resource(f"{function.name}-data"),
                    "Roles": [_ref(function.role_logical_id)],
                    "PolicyDocument": policy_document(policies[function.name]),
                },
            }
        # The event source must exist before Lambda subscribes to or polls it.
        if function.trigger in ("sqs", "sns"):
            depends.append(_event_source(function))
        resources[function.logical_id] = {
            "DependsOn": sorted(d for d in depends if d),
            "Properties": {
                "FunctionName": names.function(function.name),
                "Environment": {"Variables": _environment(names)},
                "Architectures": [arch],  # tools/build.py put this platform's binary wheels in the zip
            },
        }
        resources[f"{function.logical_id}ErrorsAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": names.resource(f"{function.name}-errors"),
                "AlarmDescription": f"{names.function(function.name)} raised an error (see its log group). "
                + (
                    "The outbox retries failed sends; repeated errors end in the dead-letter queue."
                    if function.trigger == "sqs"
                    else ""
                ),
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": _ref(function.logical_id)}],
                **_ABOVE_ZERO_IN_5_MINUTES,
                "Statistic": "Sum",
            },
        }
    return resources


# Events that failed every try: parked, alarmed, redriven ------------------------------------------
ASYNC_RETRIES = 2  # Lambda's own default for asynchronous invocations, said where it matters


class Parked(NamedTuple):
    """A function SNS invokes asynchronously (its queue: chalicelib/stage.py PARKED_QUEUES)."""

    logical: str  # prefix of the queue, destination and alarm resources
    what: str  # for the alarm: what waits there, and what is lost if nobody redrives it


# Lambda tries an asynchronous event three times and then, with no on-failure destination, drops it.
PARKED = {
    "inbound_email": Parked(
        "InboundEmail",
        "Inbound email failed every try and waits in the inbound dead-letter queue (each record "
        "says why; the raw mail is in the inbound bucket).",
    ),
    "ses_feedback": Parked(
        "SesFeedback",
        "An SES bounce or complaint failed every try and waits in its dead-letter queue: until "
        "it is redriven, the address it names is not on the suppression list.",
    ),
}


def async_dead_letters(names: Names, found: list[Function]) -> dict[str, dict[str, Any]]:
    """For each function of PARKED: a queue that keeps its failed events with the reason
    (Lambda's record: `requestPayload`, `responsePayload`) for 14 days, an alarm that says one is
    there, and `make redrive` hands them to the function again (tools/redrive.py). An
    EventInvokeConfig rather than the function's DeadLetterConfig: its record says why the last
    try failed."""
    resources: dict[str, dict[str, Any]] = {}
    for function in found:
        if function.name in PARKED:
            resources.update(_parked(names, function, PARKED[function.name], PARKED_QUEUES[function.name]))
    return resources


def _parked(names: Names, function: Function, parked: Parked, kind: str) -> dict[str, dict[str, Any]]:
    from infra.local import DLQ_RETENTION_SECONDS

    queue = f"{parked.logical}DeadLetterQueue"
    return {
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": names.resource(kind),
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        # Lambda checks the role may send to the destination when it is set: the policy first.
        f"{parked.logical}FailureDestination": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "DependsOn": [f"{function.logical_id}DataPolicy"],
            "Properties": {
                "FunctionName": _ref(function.logical_id),
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": ASYNC_RETRIES,
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
            },
        },
        f"{parked.logical}DeadLettersAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": names.resource(kind.removesuffix("-dlq") + "-dead-letters"),
                "AlarmDescription": f"{parked.what} Fix the cause, then: make redrive STAGE={names.stage}",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
                **_ABOVE_ZERO_IN_5_MINUTES,
                "Statistic": "Maximum",
            },
        },
    }


def alarms(names: Names) -> dict[str, dict[str, Any]]:
    return {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": names.resource("alarms"), "DisplayName": f"Promptly {names.stage} alarms"},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": _ref("AlarmTopic"), "Protocol": "email", "Endpoint": _ref("AlarmEmail")},
        },
        "DeadLettersAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": names.resource("outbox-dead-letters"),
                "AlarmDescription": "Outbound messages gave up after every retry and wait in the dead-letter queue. "
                f"Fix the cause, then: make redrive STAGE={names.stage}",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["OutboxDeadLetterQueue", "QueueName"]}}],
                **_ABOVE_ZERO_IN_5_MINUTES,
                "Statistic": "Maximum",
            },
        },
    }


def outputs(names: Names) -> dict[str, dict[str, Any]]:
    return {
        "Stage": {"Value": names.stage},
        "InboundMailBucket": {"Value": _ref("InboundMailBucket")},
        "DigestArchiveBucket": {"Value": _ref("DigestArchiveBucket")},
        "FilesBucket": {"Value": _ref("FilesBucket")},
        "InboundEmailTopicArn": {"Value": _ref("InboundEmailTopic")},
        "ReceiptRuleSetName": {"Value": _ref("InboundReceiptRuleSet")},
        "OutboxQueueUrl": {"Value": _ref("OutboxQueue")},
        "DeadLetterQueueUrl": {"Value": _ref("OutboxDeadLetterQueue")},
        "InboundDeadLetterQueueUrl": {"Value": _ref("InboundEmailDeadLetterQueue")},
        "SesFeedbackDeadLetterQueueUrl": {"Value": _ref("SesFeedbackDeadLetterQueue")},
        "AlarmTopicArn": {"Value": _ref("AlarmTopic")},
        "SesFeedbackTopicArn": {"Value": _ref("SesFeedbackTopic")},
        "ConfigurationSetName": {"Value": _ref("OutboundConfigurationSet")},
        "SecretsPath": {"Value": names.secret_prefix},
    }


def template(
    stage: str, *, found: list[Function] | None = None, sender: str | None = None, arch: str = "x86_64"
) -> dict[str, Any]:
    """The merge template for `stage` (Chalice's output supplies the functions, roles and API);
    `arch` is the functions' processor (tools/build.py PLATFORMS), the one the zip was built for."""
    from chalicelib.config import CONFIG_PATH, load

    names = Names(stage)
    desk = load(CONFIG_PATH)  # the desk.toml that is packaged
    if sender is None:
        sender = desk.desk.sender
    found = functions() if found is None else found
    if not any(function.name == API_HANDLER for function in found):
        raise ValueError("app.py declares no route: nothing would receive webhooks")
    resources: dict[str, Any] = {}
    for part in (
        tables(names),
        queues(names),
        inbound_mail(names),
        digest_archive(names),
        files(names),
        alarms(names),
        outbound_mail(names),
        function_resources(names, found, sender, arch),
        async_dead_letters(names, found),
    ):
        resources.update(part)
    for extra in (api_throttles(routes(), desk.throttles), reserved_concurrency(found, desk.throttles)):
        _merge(resources, extra)
    return {
        "Description": f"Promptly support desk, stage {stage}: API, functions, tables, queues, inbound mail, "
        "digest archive, files, alarms",
        "Parameters": _parameters(names),
        "Conditions": CONDITIONS,
        "Resources": resources,
        "Outputs": outputs(names),
    }


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Deep-merge `extra` into `into` (dicts merge, anything else is set), as
    `chalice package --merge-template` will merge the result into Chalice's own template."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def missing_permissions(stage: str, found: list[Function] | None = None) -> list[str]:
    """Functions with no hand-written grants in infra/permissions.py (they could only log)."""
    found = functions() if found is None else found
    declared = grants(stage, sender="nobody@example.com")
    return [function.name for function in found if function.name not in declared]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    print(json.dumps(template(args.stage), indent=1))


if __name__ == "__main__":
    main()
