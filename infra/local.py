"""Create every table, queue, bucket, topic and identity the desk needs on the embedded AWS
(moto), with the same names and settings the deployed stack uses. Idempotent."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from chalicelib import aws, stage
from chalicelib.config import settings
from chalicelib.models import create_tables
from chalicelib.outbox import MAX_RECEIVES

if TYPE_CHECKING:
    from mypy_boto3_s3.literals import BucketLocationConstraintType
    from mypy_boto3_ses.literals import EventTypeType

OUTBOX_VISIBILITY_SECONDS = 180  # AWS advice: at least 6x the worker's 30 s timeout
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
FEEDBACK_DESTINATION = "bounces-and-complaints"
FEEDBACK_EVENTS: tuple[EventTypeType, ...] = (
    "bounce",
    "complaint",
)  # what chalicelib/suppression.py acts on; deliveries would only cost


def create_resources() -> dict[str, str]:
    create_tables()
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(
        QueueName=stage.resource("outbox-dlq"), Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    outbox_url = sqs.create_queue(
        QueueName=stage.outbox_queue(),
        Attributes={
            "VisibilityTimeout": str(OUTBOX_VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )["QueueUrl"]
    region = cast("BucketLocationConstraintType", stage.region())  # any region the desk runs in
    for bucket in (stage.inbound_bucket(), stage.archive_bucket(), stage.files_bucket()):
        aws.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    allow_console(stage.files_bucket())
    topic = aws.client("sns").create_topic(Name=stage.resource("inbound-email"))["TopicArn"]
    aws.client("ses").verify_email_identity(EmailAddress=settings().desk.sender)
    feedback = create_feedback_path()
    return {
        "outbox": outbox_url,
        "dlq": dlq_url,
        "topic": topic,
        "bucket": stage.inbound_bucket(),
        "archive": stage.archive_bucket(),
        "files": stage.files_bucket(),
        "feedback": feedback,
    }


def allow_console(bucket: str) -> None:
    """The files bucket's CORS, as the stack sets it: the console's origin may POST (agents'
    presigned uploads) and GET. (The embedded AWS answers CORS on its own; this keeps the
    settings the same, and a tool that reads them sees the deployed ones.)"""
    scheme, _, rest = stage.public_url().partition("://")
    origin = f"{scheme}://{rest.split('/', 1)[0]}"
    aws.client("s3").put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [origin],
                    "AllowedMethods": ["GET", "POST"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def create_feedback_path() -> str:
    """The configuration set every send names (SES refuses a send naming one that does not
    exist) and its bounce/complaint destination, the topic `ses_feedback` listens to. Nothing
    runs the handler locally: moto never bounces, tests feed it notifications themselves."""
    topic = aws.client("sns").create_topic(Name=stage.resource("ses-feedback"))["TopicArn"]
    ses = aws.client("ses")
    name = stage.ses_configuration_set()
    if name not in {item["Name"] for item in ses.list_configuration_sets().get("ConfigurationSets", [])}:
        ses.create_configuration_set(ConfigurationSet={"Name": name})
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestination={
                "Name": FEEDBACK_DESTINATION,
                "Enabled": True,
                "MatchingEventTypes": list(FEEDBACK_EVENTS),
                "SNSDestination": {"TopicARN": topic},
            },
        )
    return topic
