"""One real build per test session: `chalice package` with the stage's infra merged in, the
lean zip, and the template expanded with aws-sam-translator the way CloudFormation would."""

from __future__ import annotations

import copy
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packaged
from tests.infra.iam import ACCOUNT, PARTITION, REGION

ARTIFACTS_BUCKET = "promptly-artifacts-test"


@dataclass
class Built:
    stage: str
    out: Path

    @property
    def zip(self) -> Path:
        return self.out / "deployment.zip"

    @property
    def sam(self) -> dict[str, Any]:
        return json.loads((self.out / "sam.json").read_text())

    @property
    def merge(self) -> dict[str, Any]:
        return json.loads((self.out / "resources.json").read_text())

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.sam["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="session")
def built_dev(tmp_path_factory) -> Built:
    """The dev stage exactly as `make package STAGE=dev` builds it (lean zip included)."""
    return Built("dev", packaged(tmp_path_factory, "dev"))


@pytest.fixture(scope="session")
def built_prod(tmp_path_factory) -> Built:
    """The prod template (its zip is the same code: not slimmed again here)."""
    return Built("prod", packaged(tmp_path_factory, "prod", lean=False))


@pytest.fixture(scope="session")
def unpacked_dev(built_dev, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(built_dev.zip) as archive:
        archive.extractall(target)
    return target


def expand(sam: dict[str, Any], code_uri: str) -> dict[str, Any]:
    """What CloudFormation runs: the SAM transform applied (as `aws cloudformation deploy` does
    after `package` replaced the local CodeUri with the uploaded zip)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    template = copy.deepcopy(sam)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION}
    return transform(template, pseudo, NoManagedPolicies())


@pytest.fixture(scope="session")
def expanded_dev(built_dev) -> dict[str, Any]:
    return expand(built_dev.sam, f"s3://{ARTIFACTS_BUCKET}/deployment.zip")
