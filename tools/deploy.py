"""Deploy a stage to AWS with one command, or tear a non-production stage down.

    python -m tools.deploy --stage dev  [--alarm-email ops@example.com] [--public-url https://desk.example.com] ...
    python -m tools.deploy --stage dev --destroy
    (make deploy STAGE=dev · make destroy STAGE=dev)

Deploy = build (tools/build.py: templates, merge template, `chalice package`, lean zip with
bytecode) → upload the zip and the template to the artifacts bucket (content-addressed: an
unchanged zip is not uploaded again and no function changes) → one CloudFormation change set
on the stack `promptly-<stage>` (created the first time, updated in place after) → wait →
print the API and webhook URLs and what is left to do by hand.

An update that would add or delete more than one index of a table (DynamoDB allows one per
update) first goes through intermediate templates, one index per table at a time
(infra/index_steps.py), each waited for until the index is built.

The first deploy learns the API's URL only when the stack exists, so it runs a second, quick
change set that gives the functions that URL (`PublicUrl`), unless `--public-url` named one
(a custom domain). Settings given once are kept by later deploys (`UsePreviousValue`).
If anything fails, CloudFormation rolls the whole stack back to the previous version.

Credentials and region come from the usual AWS places (AWS_PROFILE, AWS_REGION, ~/.aws).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from infra import index_steps
from infra.names import DEPLOYABLE, Names
from infra.secret_names import secret_names

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.literals import CapabilityType, ChangeSetTypeType
    from mypy_boto3_cloudformation.type_defs import ParameterTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef
    from mypy_boto3_ses import SESClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

ROOT = Path(__file__).resolve().parent.parent
CAPABILITIES: list[CapabilityType] = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # Chalice's roles; the SAM transform
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
WEBHOOKS = ("form", "chat", "telegram", "viber", "twilio")
BUCKETS = ("InboundMailBucket", "DigestArchiveBucket", "FilesBucket")  # outputs of infra/stack.py; emptied by destroy
WAITS = 360  # an update waited for: 30 minutes at the usual 5-second delay
INDEX_WAITS = 12 * WAITS  # one that builds an index (a backfill of a big table): 6 hours

# CLI option → template parameter (infra/stack.py PARAMETERS)
OPTIONS = {
    "public_url": "PublicUrl",
    "public_url_aliases": "PublicUrlAliases",
    "alarm_email": "AlarmEmail",
    "inbound_recipients": "InboundRecipients",
    "chat_reply_url": "ChatReplyUrl",
    "twilio_sms_from": "TwilioSmsFrom",
    "twilio_whatsapp_from": "TwilioWhatsappFrom",
    "files_keep_days": "FilesKeepDays",
}


class DeployError(RuntimeError):
    """Something an admin must fix; the message says what."""


@dataclass
class Clients:
    """The AWS clients a deploy uses (tests pass moto-backed ones)."""

    cloudformation: CloudFormationClient
    s3: S3Client
    sts: STSClient
    ssm: SSMClient | None = None
    ses: SESClient | None = None

    @classmethod
    def from_session(cls, region: str | None = None) -> Clients:
        import os

        import boto3

        session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION"))
        if not session.region_name:
            raise DeployError("no AWS region: set AWS_REGION (or --region), e.g. eu-central-1")
        return cls(
            session.client("cloudformation"),
            session.client("s3"),
            session.client("sts"),
            session.client("ssm"),
            session.client("ses"),
        )

    @property
    def region(self) -> str:
        return str(self.cloudformation.meta.region_name)


@dataclass
class Result:
    stack: str
    action: str  # created | updated | unchanged
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.outputs.get("EndpointURL", "").rstrip("/")


# The stack ---------------------------------------------------------------------------------
def stack_name(stage: str) -> str:
    return Names(stage).stack


def check_stage(stage: str) -> Names:
    if stage not in DEPLOYABLE:
        raise DeployError(f"stage {stage!r} is not deployable; choose one of {', '.join(DEPLOYABLE)}")
    return Names(stage)


def describe(cloudformation: CloudFormationClient, stack: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        # read below as a loose document (.get with defaults), as the deploy has always read it
        return cast("dict[str, Any]", cloudformation.describe_stacks(StackName=stack)["Stacks"][0])
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def artifacts_bucket(clients: Clients, name: str | None) -> str:
    """The bucket the zip and template go to: created once per account and region, private,
    encrypted, old artifacts expire (a rollback needs only what Lambda and CloudFormation keep)."""
    from botocore.exceptions import ClientError

    account = clients.sts.get_caller_identity()["Account"]
    bucket = name or f"promptly-deploy-{account}-{clients.region}"
    try:
        clients.s3.head_bucket(Bucket=bucket)
        return bucket
    except ClientError:
        pass
    options: dict[str, Any] = {"Bucket": bucket}
    if clients.region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": clients.region}
    clients.s3.create_bucket(**options)
    clients.s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    clients.s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    clients.s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old-artifacts",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 90},
                }
            ]
        },
    )
    return bucket


def _put_once(clients: Clients, bucket: str, key: str, body: bytes) -> None:
    from botocore.exceptions import ClientError

    try:
        clients.s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        clients.s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload(
    clients: Clients,
    bucket: str,
    stage: str,
    out: Path,
    template_hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """What `aws cloudformation package` does: the zip to S3 (keyed by its hash), CodeUri
    pointing at it, the template to S3 (it is past the 51 KB inline limit). Returns its URL
    and the template."""
    code = (out / "deployment.zip").read_bytes()
    code_key = f"promptly/{stage}/{hashlib.sha256(code).hexdigest()}.zip"
    _put_once(clients, bucket, code_key, code)
    template = json.loads((out / "sam.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{code_key}"
    if template_hook:
        template = template_hook(template)
    return upload_template(clients, bucket, stage, template), template


def upload_template(clients: Clients, bucket: str, stage: str, template: dict[str, Any]) -> str:
    """The template to S3, keyed by its hash; returns its URL."""
    body = json.dumps(template, sort_keys=True).encode()
    template_key = f"promptly/{stage}/{hashlib.sha256(body).hexdigest()}.template.json"
    _put_once(clients, bucket, template_key, body)
    host = "s3.amazonaws.com" if clients.region == "us-east-1" else f"s3.{clients.region}.amazonaws.com"
    return f"https://{bucket}.{host}/{template_key}"


def _parameters(
    declared: list[str], given: dict[str, str | None], existing: dict[str, Any] | None
) -> list[ParameterTypeDef]:
    """Given values win; an existing stack keeps its previous ones; a new stack takes defaults."""
    previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters", [])}
    parameters: list[ParameterTypeDef] = []
    for key in declared:
        if given.get(key) is not None:
            parameters.append({"ParameterKey": key, "ParameterValue": str(given[key])})
        elif key in previous:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def apply_change_set(
    clients: Clients,
    stack: str,
    parameters: dict[str, str | None],
    *,
    template_url: str | None = None,
    declared: list[str] | None = None,
    delay: int = 5,
    waits: int = WAITS,
) -> str:
    """One change set, executed and waited for (`waits` times `delay` seconds at most).
    Returns created | updated | unchanged."""
    cloudformation = clients.cloudformation
    existing = describe(cloudformation, stack)
    status = (existing or {}).get("StackStatus", "")
    if status == "ROLLBACK_COMPLETE":  # a first create that failed leaves an empty, unusable stack
        raise DeployError(
            f"{stack} failed to create and rolled back; read its events in the console, "
            f"then delete it (make destroy, or aws cloudformation delete-stack --stack-name {stack})"
        )
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(f"{stack} is busy ({status}); wait for it to finish and run again")
    kind: ChangeSetTypeType = "UPDATE" if existing else "CREATE"
    if template_url:
        declared = declared or []
        source: dict[str, Any] = {"TemplateURL": template_url}
    else:
        declared = [p["ParameterKey"] for p in existing["Parameters"]] if existing else []
        source = {"UsePreviousTemplate": True}
    name = f"promptly-{kind.lower()}-{hashlib.sha1(json.dumps([template_url, parameters]).encode()).hexdigest()[:10]}"
    cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        Capabilities=CAPABILITIES,
        Parameters=_parameters(declared, parameters, existing),
        Tags=[{"Key": "promptly:stage", "Value": stack.split("-", 1)[1]}],
        **source,
    )
    from botocore.exceptions import WaiterError

    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=name, WaiterConfig={"Delay": delay, "MaxAttempts": 120}
        )
    except WaiterError:
        change_set = cloudformation.describe_change_set(StackName=stack, ChangeSetName=name)
        reason = change_set.get("StatusReason", "")
        if any(text in reason for text in NO_CHANGES):
            cloudformation.delete_change_set(StackName=stack, ChangeSetName=name)
            return "unchanged"
        raise DeployError(f"change set for {stack} failed: {reason}") from None
    cloudformation.execute_change_set(StackName=stack, ChangeSetName=name)
    waiter = (
        cloudformation.get_waiter("stack_create_complete")
        if kind == "CREATE"
        else cloudformation.get_waiter("stack_update_complete")
    )
    try:
        waiter.wait(StackName=stack, WaiterConfig={"Delay": delay, "MaxAttempts": waits})
    except WaiterError:
        final = describe(cloudformation, stack) or {}
        if str(final.get("StackStatus", "")).endswith("_IN_PROGRESS"):
            raise DeployError(
                f"{stack} is still {final['StackStatus']} after {waits * delay // 60} minutes; it goes on "
                "without this command: follow it in the stack's events, then run the deploy again"
            ) from None
        raise DeployError(
            f"{stack}: {final.get('StackStatus')} {final.get('StackStatusReason', '')} — "
            "CloudFormation rolled back to the previous version; the failing resource is in the "
            "stack's events"
        ) from None
    return "created" if kind == "CREATE" else "updated"


def deploy(
    stage: str,
    clients: Clients,
    *,
    settings: dict[str, str | None] | None = None,
    out: Path | None = None,
    bucket: str | None = None,
    build: bool = True,
    template_hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    delay: int = 5,
    arch: str = "x86_64",
) -> Result:
    """Build (for `arch`: x86_64 or arm64), upload, create or update the stack, then give the
    functions the API's URL."""
    names = check_stage(stage)
    check_settings(settings or {})
    out = out or ROOT / "build" / stage
    if build:
        from tools import build as builder

        builder.build(stage, out, arch)
    if not (out / "sam.json").exists() or not (out / "deployment.zip").exists():
        raise DeployError(f"nothing built in {out}: run make package STAGE={stage} (or deploy without --no-build)")
    missing = _functions_without_permissions(stage)
    if missing:
        raise DeployError(f"no permissions written for {', '.join(missing)}: add them to infra/permissions.py")
    given = {OPTIONS[key]: value for key, value in (settings or {}).items() if key in OPTIONS}
    artifacts = artifacts_bucket(clients, bucket)
    template_url, template = upload(clients, artifacts, stage, out, template_hook)
    steps = step_indexes(clients, names.stack, artifacts, stage, template, delay=delay)
    action = apply_change_set(
        clients,
        names.stack,
        given,
        template_url=template_url,
        declared=sorted(template.get("Parameters", {})),
        delay=delay,
        waits=INDEX_WAITS if steps else WAITS,
    )
    result = _result(clients, names.stack, action)
    if not result.parameters.get("PublicUrl") and result.api_url:
        apply_change_set(clients, names.stack, {"PublicUrl": result.api_url}, delay=delay)
        result = _result(clients, names.stack, action)
    return result


def step_indexes(
    clients: Clients, stack: str, bucket: str, stage: str, template: dict[str, Any], *, delay: int = 5
) -> int:
    """Bring the deployed stack's tables to within one index of `template` (DynamoDB adds or
    deletes one global secondary index per table per update): apply the intermediate templates
    of infra/index_steps.py one after the other, each waited for. Prints one line per index and
    returns how many steps the indexes take, the last being `template`'s own change set (0: no
    index changes)."""
    existing = describe(clients.cloudformation, stack)
    status = str((existing or {}).get("StackStatus", ""))
    if not existing or status == "ROLLBACK_COMPLETE" or status.endswith("_IN_PROGRESS"):
        return 0  # a new stack gets all its indexes at once; a stack that cannot be updated: apply_change_set says why
    deployed = deployed_template(clients.cloudformation, stack)
    steps = index_steps.plan(deployed, template)
    for number, step in enumerate(steps, start=1):
        for move in step:
            print(move.describe(number, len(steps)), flush=True)
        if number < len(steps):  # the last step is the new template itself
            url = upload_template(clients, bucket, stage, index_steps.template_after(deployed, steps[:number]))
            declared = sorted(deployed.get("Parameters", {}))
            apply_change_set(clients, stack, {}, template_url=url, declared=declared, delay=delay, waits=INDEX_WAITS)
    return len(steps)


def deployed_template(cloudformation: CloudFormationClient, stack: str) -> dict[str, Any]:
    """The template CloudFormation has for the stack, as it was given (before the SAM transform)."""
    body: dict[str, Any] | str = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else dict(body)  # boto3 decodes a JSON body


def check_settings(settings: dict[str, str | None]) -> None:
    """Refuse a setting the functions would refuse at run time, before anything is built or changed:
    the chat reply URL must be https on a host desk.toml allows ([destinations] chat_reply_hosts)."""
    url = settings.get("chat_reply_url")
    if not url:
        return
    from chalicelib.config import CONFIG_PATH, load
    from chalicelib.destinations import NotAllowed, check

    try:
        check(url, load(CONFIG_PATH).destinations.chat_reply_hosts, what="--chat-reply-url")
    except NotAllowed as error:
        raise DeployError(str(error)) from None


def _functions_without_permissions(stage: str) -> list[str]:
    from infra.stack import missing_permissions

    return missing_permissions(stage)


def _result(clients: Clients, stack: str, action: str) -> Result:
    final = describe(clients.cloudformation, stack) or {}
    return Result(
        stack,
        action,
        outputs(clients, final),
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in final.get("Parameters", [])},
    )


def outputs(clients: Clients, stack: dict[str, Any]) -> dict[str, str]:
    """The stack's outputs; those the deploy relies on (the API URL, the buckets) are also found
    from the resources themselves when a CloudFormation implementation leaves outputs out (moto's
    change sets)."""
    found = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if not stack:
        return found
    resources = {
        r.get("LogicalResourceId", ""): r.get("PhysicalResourceId", "")
        for r in clients.cloudformation.describe_stack_resources(StackName=stack["StackName"])["StackResources"]
    }
    if "EndpointURL" not in found and resources.get("RestAPI"):
        api_stage = (
            json.loads((ROOT / ".chalice" / "config.json").read_text())
            .get("stages", {})
            .get(stack["StackName"].split("-", 1)[1], {})
            .get("api_gateway_stage", "api")
        )
        found["EndpointURL"] = f"https://{resources['RestAPI']}.execute-api.{clients.region}.amazonaws.com/{api_stage}/"
    for bucket in BUCKETS:
        if bucket not in found and resources.get(bucket):
            found[bucket] = resources[bucket]
    return found


# After the deploy ------------------------------------------------------------------------------
def next_steps(stage: str, result: Result, clients: Clients | None = None) -> str:
    """What the admin reads: the URLs to give the providers and what is left to do by hand
    (checked against the account where possible: secrets present, rule set active, sender verified)."""
    names = Names(stage)
    from chalicelib.config import CONFIG_PATH, load

    sender = load(CONFIG_PATH).desk.sender
    domain = sender.rsplit("@", 1)[-1]
    region = clients.region if clients else "<region>"
    public = result.parameters.get("PublicUrl") or result.api_url
    lines = [f"Stack {result.stack}: {result.action}.", "", f"{'API':<17}{result.api_url or '(no URL yet)'}"]
    if public and public != result.api_url:
        lines.append(f"{'public URL':<17}{public}")
    for hook in WEBHOOKS:
        lines.append(f"{'webhook ' + hook:<17}{public}/webhooks/{hook}")
    # Twilio retries a failed messaging webhook only at the Fallback URL: without one, a message
    # that met a 503 (storage busy past intake's retries) is lost
    lines.append(f"{'twilio fallback':<17}{public}/webhooks/twilio  (set it as the Fallback URL too)")
    lines += [
        f"{'agents API':<17}{public}/api/tickets … (openapi.yaml)",
        "",
        "Next steps (once per stage; the deploy never does them for you):",
    ]

    wanted = secret_names()
    present = _existing_secrets(clients, names, wanted)
    todo = [name for name in wanted if name not in present]
    step = 1
    if todo:
        lines.append(f"{step}. Put the secrets in SSM Parameter Store (SecureString; never in the repo):")
        for name in todo:
            lines.append(
                f"     aws ssm put-parameter --type SecureString --name {names.secret_prefix}{name} --value '…'"
            )
        lines.append("   (a changed value is picked up within 5 minutes; add --overwrite to change one)")
        step += 1
    lines.append(f"{step}. Register the messenger webhooks (Telegram, Viber) and print the Twilio/chat ones:")
    lines.append(
        f"     PROMPTLY_STAGE={stage} AWS_REGION={region} .venv/bin/python -m tools.register_webhooks --url {public}"
    )
    step += 1
    if not _rule_set_active(clients, names):
        lines.append(f"{step}. Activate the inbound mail rule set (one active set per account and region):")
        lines.append(f"     aws ses set-active-receipt-rule-set --rule-set-name {names.receipt_rule_set}")
        lines.append(f"   and point the domain's MX record at inbound-smtp.{region}.amazonaws.com")
        step += 1
    if not _identity_verified(clients, domain):
        lines.append(f"{step}. Verify the sender domain {domain} in SES (DKIM records) and request production access,")
        lines.append(f"   or acknowledgements from {sender} are refused:")
        lines.append(f"     aws sesv2 create-email-identity --email-identity {domain}")
        step += 1
    lines.append(f"{step}. Create the first admin (prints their API token once):")
    lines.append(
        f"     PROMPTLY_STAGE={stage} AWS_REGION={region} .venv/bin/python -m tools.create_admin "
        "--first … --last … --email …"
    )
    alarm_topic = result.outputs.get("AlarmTopicArn", "")
    if not result.parameters.get("AlarmEmail"):
        lines.append(
            f"{step + 1}. Get the alarms: deploy again with ALARM_EMAIL=you@example.com, or subscribe to {alarm_topic}"
        )
    return "\n".join(lines)


def _existing_secrets(clients: Clients | None, names: Names, wanted: list[str]) -> set[str]:
    if not clients or not clients.ssm or not wanted:
        return set()
    from botocore.exceptions import BotoCoreError, ClientError

    paths = [names.secret_prefix + name for name in wanted]
    present: set[str] = set()
    try:
        for start in range(0, len(paths), 10):  # GetParameters takes at most 10 names
            found = clients.ssm.get_parameters(Names=paths[start : start + 10])
            present |= {parameter["Name"].rsplit("/", 1)[-1] for parameter in found.get("Parameters", [])}
    except (BotoCoreError, ClientError):  # no permission to look: list them all
        return set()
    return present


def _rule_set_active(clients: Clients | None, names: Names) -> bool:
    if not clients or not clients.ses:
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        active = clients.ses.describe_active_receipt_rule_set().get("Metadata", {}).get("Name")
        return active == names.receipt_rule_set
    except (BotoCoreError, ClientError):  # not allowed to look, or SES has no receiving here: not done
        return False


def _identity_verified(clients: Clients | None, domain: str) -> bool:
    if not clients or not clients.ses:
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        attributes = clients.ses.get_identity_verification_attributes(Identities=[domain])["VerificationAttributes"]
        found = attributes.get(domain)
        return found is not None and found.get("VerificationStatus") == "Success"
    except (BotoCoreError, ClientError):  # not allowed to look, or SES has no receiving here: not done
        return False


# Destroy -----------------------------------------------------------------------------------
def destroy(stage: str, clients: Clients, *, delay: int = 5) -> str:
    """Delete a non-production stage: empty its buckets (CloudFormation deletes only empty ones),
    deactivate its rule set if it is the active one (SES refuses to delete an active set), delete
    the stack and wait."""
    names = check_stage(stage)
    if names.protected:
        raise DeployError(
            f"refusing to destroy {stage}: its tables are protected on purpose "
            "(delete protection and Retain); do it by hand in the console if you really mean it"
        )
    existing = describe(clients.cloudformation, names.stack)
    if existing is None:
        return f"{names.stack} does not exist"
    found = outputs(clients, existing)
    for bucket in BUCKETS:
        if found.get(bucket):
            _empty_bucket(clients, found[bucket])
    if clients.ses and _rule_set_active(clients, names):
        clients.ses.set_active_receipt_rule_set()  # no name: no active set
    clients.cloudformation.delete_stack(StackName=names.stack)
    clients.cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=names.stack, WaiterConfig={"Delay": delay, "MaxAttempts": 360}
    )
    return f"{names.stack} deleted"


def _empty_bucket(clients: Clients, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        for page in clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys: list[ObjectIdentifierTypeDef] = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                clients.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    except ClientError as error:
        if "NoSuchBucket" not in str(error):
            raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=DEPLOYABLE)
    parser.add_argument("--region", help="default: AWS_REGION / your AWS profile's region")
    parser.add_argument("--destroy", action="store_true", help="delete the stage's stack (not prod)")
    parser.add_argument("--yes", action="store_true", help="do not ask before destroying")
    parser.add_argument("--bucket", help="artifacts bucket (default: promptly-deploy-<account>-<region>, created)")
    parser.add_argument("--no-build", action="store_true", help="deploy build/<stage>/ as it is")
    parser.add_argument(
        "--arch",
        choices=("x86_64", "arm64"),
        default="x86_64",
        help="the functions' processor: arm64 (Graviton) costs less per GB-second (README: Deploying)",
    )
    parser.add_argument("--public-url", help="custom domain the API is reached at (default: the API Gateway URL)")
    parser.add_argument(
        "--public-url-aliases",
        help="other base URLs providers call the webhooks at, comma-separated "
        "(e.g. the API Gateway URL behind --public-url)",
    )
    parser.add_argument("--alarm-email", help="who gets the alarms (confirm the subscription mail)")
    parser.add_argument("--inbound-recipients", help="comma-separated addresses/domains the SES rule accepts")
    parser.add_argument("--chat-reply-url", help="the website chat backend's reply endpoint")
    parser.add_argument("--twilio-sms-from", help="Twilio number for SMS replies")
    parser.add_argument("--twilio-whatsapp-from", help="Twilio WhatsApp sender (whatsapp:+…)")
    parser.add_argument(
        "--files-keep-days",
        type=int,
        help="days a ticket's files are kept in S3; 0 keeps them for good (default: dev 30, prod 0)",
    )
    args = parser.parse_args(argv)
    os.environ["PROMPTLY_STAGE"] = args.stage  # the build and the permission check import app.py for this stage
    try:
        clients = Clients.from_session(args.region)
        if args.destroy:
            if not args.yes and input(f"Delete stack promptly-{args.stage} and all its data? [y/N] ").lower() != "y":
                print("nothing deleted")
                return 1
            print(destroy(args.stage, clients))
            return 0
        settings = {key: getattr(args, key) for key in OPTIONS}
        result = deploy(
            args.stage, clients, settings=settings, bucket=args.bucket, build=not args.no_build, arch=args.arch
        )
        print(next_steps(args.stage, result, clients))
        return 0
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # credentials, permissions, throttling: AWS's own words
        if type(error).__module__.startswith("botocore"):
            print(f"deploy: AWS said: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
