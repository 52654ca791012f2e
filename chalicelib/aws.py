"""The one place AWS clients are made: lazily, once per process, so import stays cheap
and tests under moto intercept every client (moto must be imported before the first call).

Each service the desk calls has its own overload, so a call's parameters and answer are
checked against the service's API (boto3-stubs, a dev-only dependency: the types are read by
mypy, never imported at run time)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Literal, overload

from chalicelib import stage

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

Service = Literal["lambda", "s3", "ses", "sns", "sqs", "ssm"]


@overload
def client(service: Literal["lambda"]) -> LambdaClient: ...
@overload
def client(service: Literal["s3"]) -> S3Client: ...
@overload
def client(service: Literal["ses"]) -> SESClient: ...
@overload
def client(service: Literal["sns"]) -> SNSClient: ...
@overload
def client(service: Literal["sqs"]) -> SQSClient: ...
@overload
def client(service: Literal["ssm"]) -> SSMClient: ...
def client(service: Service) -> LambdaClient | S3Client | SESClient | SNSClient | SQSClient | SSMClient:
    return _client(service)


@cache
def _client(service: Service) -> LambdaClient | S3Client | SESClient | SNSClient | SQSClient | SSMClient:
    import boto3  # ~280 ms: paid on first use, not at import of the app

    return boto3.session.Session().client(service, region_name=stage.region())


@cache
def queue_url(name: str) -> str:
    """Queue URL by name, resolved once per process (an extra call only on cold start)."""
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    """Forget cached clients (tests start each moto context afresh)."""
    _client.cache_clear()
    queue_url.cache_clear()
