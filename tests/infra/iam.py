"""Just enough IAM to check our own policies: which IAM action and resource an AWS API call
needs, and whether a role's statements allow it (explicit Deny wins, `*`/`?` wildcards).

Deliberately small: our policies use no NotAction/NotResource and no conditions; meeting one
makes `allowed` fail loudly instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws"
DATA_SERVICES = ("dynamodb", "s3", "ses", "sqs")

# boto3 service name → IAM prefix, where they differ
IAM_PREFIX = {"sesv2": "ses", "email": "ses"}


@dataclass(frozen=True)
class Need:
    action: str
    resource: str


def resolve(value: Any) -> str:
    """A policy value as IAM sees it: Fn::Sub with the pseudo parameters filled in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for name, real in (("AWS::Region", REGION), ("AWS::AccountId", ACCOUNT), ("AWS::Partition", PARTITION)):
            text = text.replace("${" + name + "}", real)
        if "${" in text:
            raise AssertionError(f"policy references a resource attribute IAM tests cannot resolve: {text}")
        return text
    raise AssertionError(f"unsupported policy value {value!r}: write ARNs as strings or Fn::Sub")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pattern(wildcard: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("^" + re.escape(wildcard).replace(r"\*", ".*").replace(r"\?", ".") + "$", flags)


def _matches(patterns: Iterable[str], value: str, *, ignore_case: bool = False) -> bool:
    return any(_pattern(pattern, ignore_case).match(value) for pattern in patterns)


def allowed(statements: list[dict[str, Any]], need: Need) -> bool:
    granted = False
    for statement in statements:
        unsupported = {"NotAction", "NotResource", "Condition", "Principal"} & set(statement)
        if unsupported:
            raise AssertionError(f"statement {statement.get('Sid')} uses {unsupported}: teach tests/infra/iam.py")
        if not _matches(_listed(statement["Action"]), need.action, ignore_case=True):  # actions are case-insensitive
            continue
        if not _matches([resolve(r) for r in _listed(statement["Resource"])], need.resource):
            continue
        if statement["Effect"] == "Deny":
            return False
        granted = True
    return granted


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement that applies to `role` in a (SAM or plain) template: the role's inline
    policies and each AWS::IAM::Policy attached to it."""
    resources = template["Resources"]
    statements: list[dict[str, Any]] = []
    for policy in resources[role]["Properties"].get("Policies", []):
        statements += _listed(policy["PolicyDocument"]["Statement"])
    assert not resources[role]["Properties"].get("ManagedPolicyArns"), f"{role} has managed policies: check them"
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            statements += _listed(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


# API call → what IAM checks ----------------------------------------------------------------------
def _arn(service: str, rest: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{rest}"


def _table(name: str, index: str | None = None) -> str:
    return _arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))


# SQS batch calls are authorized as their single-message action.
SQS_ACTION = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


# S3 operations authorized as another action: a HEAD as the GET it describes; a copy as a GET of
# its source and a PUT of its copy (the PUT named here; `needs` names both).
S3_ACTION = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "CopyObject": "PutObject"}


def iam_action(service: str, operation: str) -> str:
    """The IAM action an operation is authorized as (when it is not simply service:Operation)."""
    if service == "sqs":
        return f"sqs:{SQS_ACTION.get(operation, operation)}"
    if service == "s3":
        return f"s3:{S3_ACTION.get(operation, operation)}"
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def needs(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The (action, resource) pairs IAM authorizes for one call. TransactWriteItems is checked
    per item as Put/Update/Delete/ConditionCheckItem on each item's table; batch calls on each
    table they touch."""
    prefix = IAM_PREFIX.get(service, service)
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                Need(f"dynamodb:{TRANSACT_WRITE[kind]}", _table(body["TableName"]))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if operation == "TransactGetItems":
            return [Need("dynamodb:GetItem", _table(item["Get"]["TableName"])) for item in params["TransactItems"]]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Need(f"dynamodb:{operation}", _table(table)) for table in params["RequestItems"]]
        return [Need(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]
    if service == "sqs":
        name = params["QueueName"] if operation == "GetQueueUrl" else params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        return [Need(f"sqs:{SQS_ACTION.get(operation, operation)}", _arn("sqs", name))]
    if service == "s3":
        target = params["Bucket"] + (f"/{params['Key']}" if "Key" in params else "")
        found = [Need(iam_action("s3", operation), f"arn:{PARTITION}:s3:::{target}")]
        if operation == "CopyObject":
            source = params["CopySource"]
            found.append(Need("s3:GetObject", f"arn:{PARTITION}:s3:::{source['Bucket']}/{source['Key']}"))
        return found
    if service == "ses" and operation in ("SendRawEmail", "SendEmail"):
        sender = params["Source"].rsplit("<", 1)[-1].strip(">")
        domain = sender.rsplit("@", 1)[-1]
        # SES authorizes the verified identity it sends as: the address, or else its domain; and
        # the configuration set the call names, if any.
        wanted = [Need(f"ses:{operation}", _arn("ses", f"identity/{identity}")) for identity in (sender, domain)]
        if params.get("ConfigurationSetName"):
            wanted.append(Need(f"ses:{operation}", _arn("ses", f"configuration-set/{params['ConfigurationSetName']}")))
        return wanted
    if service == "ssm" and operation in ("GetParameter", "GetParameters"):
        names = [params["Name"]] if operation == "GetParameter" else params["Names"]
        return [Need(f"ssm:{operation}", _arn("ssm", "parameter" + name)) for name in names]
    if service == "sns" and operation == "Publish":
        return [Need("sns:Publish", params.get("TopicArn") or params["TargetArn"])]
    return [Need(f"{prefix}:{operation}", "*")]  # unknown here: only a `*` grant would pass, so it fails


def wildcard_grants(statements: list[dict[str, Any]]) -> list[str]:
    """Allow statements granting `*` (or `<service>:*`) actions, or `*` resources on the data
    services: DynamoDB, S3, SES, SQS."""
    problems = []
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = _listed(statement["Action"])
        resources = [resolve(r) for r in _listed(statement["Resource"])]
        for action in actions:
            service = action.split(":", 1)[0].lower()
            if action == "*" or action.endswith(":*"):
                problems.append(f"{statement.get('Sid')}: action {action}")
            if service in DATA_SERVICES:
                for resource in resources:
                    if (
                        resource == "*"
                        or re.fullmatch(rf"arn:[^:]+:{service}:[^:]*:[^:]*:\*", resource)
                        or resource.endswith((":table/*", ":::*"))
                    ):
                        problems.append(f"{statement.get('Sid')}: {action} on {resource}")
    return problems
