"""Names and ARNs of one deployed stage, in CloudFormation's `Fn::Sub` syntax.

Every resource is `promptly-<stage>-<kind>` (see chalicelib/stage.py), so a stage's ARNs can
be written before the stack exists; region, account and partition stay `${AWS::...}`
placeholders that CloudFormation fills in (and that tests/infra fills in to evaluate them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

APP = "promptly"
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,15}$")  # no "-": resource names split on it
DEPLOYABLE = ("dev", "prod")  # `local` lives on the embedded AWS only
PROTECTED = ("prod",)  # point-in-time recovery, deletion protection, retained tables, no destroy

ARN = "arn:${AWS::Partition}"
REGIONAL = "${AWS::Region}:${AWS::AccountId}"


@dataclass(frozen=True)
class Names:
    stage: str

    def __post_init__(self) -> None:
        if not STAGE_PATTERN.match(self.stage):
            raise ValueError(f"stage {self.stage!r}: lower-case letters and digits, 2-16 characters")

    @property
    def protected(self) -> bool:
        return self.stage in PROTECTED

    def resource(self, kind: str) -> str:
        return f"{APP}-{self.stage}-{kind}"

    # resources ------------------------------------------------------------------------
    @property
    def stack(self) -> str:
        return f"{APP}-{self.stage}"

    def function(self, name: str) -> str:
        """Lambda function name: what Chalice's own deployer would call it."""
        return self.resource(name)

    def log_group(self, name: str) -> str:
        return f"/aws/lambda/{self.function(name)}"

    @property
    def inbound_bucket(self) -> str:
        """Bucket names are global across all AWS accounts: the account and region make it ours.
        Functions learn it from PROMPTLY_INBOUND_BUCKET (chalicelib/stage.py)."""
        return self.resource("inbound") + "-${AWS::AccountId}-${AWS::Region}"

    @property
    def archive_bucket(self) -> str:
        """The morning digests, kept for good; functions learn it from PROMPTLY_ARCHIVE_BUCKET."""
        return self.resource("archive") + "-${AWS::AccountId}-${AWS::Region}"

    @property
    def files_bucket(self) -> str:
        """Attachments (chalicelib/attachments/): customers' files under `tickets/`, agents'
        uploads under `uploads/`; functions learn it from PROMPTLY_FILES_BUCKET."""
        return self.resource("files") + "-${AWS::AccountId}-${AWS::Region}"

    @property
    def receipt_rule_set(self) -> str:
        return self.resource("inbound")

    @property
    def receipt_rule(self) -> str:
        return self.resource("store-mail")

    @property
    def secret_prefix(self) -> str:
        return f"/{APP}/{self.stage}/"

    # ARNs -------------------------------------------------------------------------------
    def table_arn(self, kind: str) -> str:
        return f"{ARN}:dynamodb:{REGIONAL}:table/{self.resource(kind)}"

    def index_arn(self, kind: str, index: str) -> str:
        return f"{self.table_arn(kind)}/index/{index}"

    def queue_arn(self, kind: str) -> str:
        return f"{ARN}:sqs:{REGIONAL}:{self.resource(kind)}"

    def topic_arn(self, kind: str) -> str:
        return f"{ARN}:sns:{REGIONAL}:{self.resource(kind)}"

    def bucket_arn(self, bucket: str) -> str:
        return f"{ARN}:s3:::{bucket}"

    def bucket_objects_arn(self, bucket: str, prefix: str = "") -> str:
        return f"{self.bucket_arn(bucket)}/{prefix}*"

    def ses_identity_arn(self, identity: str) -> str:
        return f"{ARN}:ses:{REGIONAL}:identity/{identity}"

    def parameter_arn(self, name: str) -> str:
        return f"{ARN}:ssm:{REGIONAL}:parameter{self.secret_prefix}{name}"

    def log_group_arn(self, name: str) -> str:
        return f"{ARN}:logs:{REGIONAL}:log-group:{self.log_group(name)}:*"

    def receipt_rule_arn(self) -> str:
        return f"{ARN}:ses:{REGIONAL}:receipt-rule-set/{self.receipt_rule_set}:receipt-rule/{self.receipt_rule}"

    # outbound mail's feedback (chalicelib/suppression.py) ----------------------------------
    @property
    def configuration_set(self) -> str:
        """What every send names (chalicelib/stage.py `ses_configuration_set`, same rule)."""
        return self.resource("outbound")

    def configuration_set_arn(self) -> str:
        return f"{ARN}:ses:{REGIONAL}:configuration-set/{self.configuration_set}"
