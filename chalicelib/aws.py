"""The one place AWS clients are made: lazily, once per process, so import stays cheap
and tests under moto intercept every client (moto must be imported before the first call).
All come from one boto3 session, which reads botocore's endpoint and service data once
(a session per client read it again for each: ~0.25 s of CPU per client).

Each service the desk calls has its own overload, so a call's parameters and answer are
checked against the service's API (boto3-stubs, a dev-only dependency: the types are read by
mypy, never imported at run time)."""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

from chalicelib import stage

if TYPE_CHECKING:
    from boto3.session import Session
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


_making = threading.Lock()  # a boto3 session is not thread-safe; the clients it makes are


@cache
def _client(service: Service) -> LambdaClient | S3Client | SESClient | SNSClient | SQSClient | SSMClient:
    with _making:
        return _session().client(service, region_name=stage.region(), **_options(service))


def _options(service: Service) -> dict[str, Any]:
    """S3's presigned links (chalicelib/attachments/links.py) name the bucket's regional host,
    `https://<bucket>.s3.<region>.amazonaws.com` (`stage.files_origin`, the one origin the
    console's CSP lets images come from), and are signed with SigV4, so S3 enforces their
    X-Amz-Expires. botocore's own choice is the global host, which answers a bucket's first hours
    with a redirect, and SigV2 in us-east-1. The embedded AWS (AWS_ENDPOINT_URL) keeps its own
    host, path-style."""
    if service != "s3":
        return {}
    from botocore.config import Config

    if stage.aws_endpoint_url():
        return {"config": Config(signature_version="s3v4")}
    return {
        "config": Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
        "endpoint_url": f"https://s3.{stage.region()}.amazonaws.com",
    }


@cache
def _session() -> Session:
    import boto3  # ~280 ms: paid on first use, not at import of the app

    return boto3.session.Session()


@cache
def queue_url(name: str) -> str:
    """Queue URL by name, resolved once per process (an extra call only on cold start)."""
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    """Forget cached clients (tests start each moto context afresh). The session stays: it holds
    botocore's data, no AWS state."""
    _client.cache_clear()
    queue_url.cache_clear()
