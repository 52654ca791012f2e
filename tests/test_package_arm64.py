"""`make deploy ARCH=arm64`: the zip carries aarch64 binaries only — every compiled extension
the x86_64 zip has, swapped for its wheel of the same version — and every function of the
template runs on arm64. A wrong-processor .so would fail only in Lambda, at import."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import packaged
from tools import build

ELF_MACHINE = {62: "x86_64", 183: "arm64"}  # e_machine: EM_X86_64, EM_AARCH64


def machines(zip_path: Path) -> dict[str, str]:
    """Each compiled extension in the zip → the processor its ELF header names."""
    found = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if name.endswith(".so"):
                header = archive.read(name)[:20]
                assert header[:4] == b"\x7fELF", name
                found[name.split("/", 1)[0]] = ELF_MACHINE.get(int.from_bytes(header[18:20], "little"), "other")
    return found


def architectures(sam_path: Path) -> set[str]:
    sam = json.loads(sam_path.read_text())
    functions = [r for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) >= 7
    return {arch for function in functions for arch in function["Properties"]["Architectures"]}


@pytest.fixture(scope="module")
def arm64(tmp_path_factory) -> Path:
    return packaged(tmp_path_factory, "dev", arch="arm64")


@pytest.fixture(scope="module")
def x86_64(tmp_path_factory) -> Path:
    return packaged(tmp_path_factory, "dev")


def test_the_arm64_package_carries_aarch64_binaries_only(arm64, x86_64):
    on_arm = machines(arm64 / "deployment.zip")
    assert set(on_arm.values()) == {"arm64"}, on_arm
    assert on_arm.keys() == machines(x86_64 / "deployment.zip").keys()  # no extension lost in the swap
    assert {"pydantic_core", "css_inline", "selectolax"} <= on_arm.keys()
    assert (arm64 / "deployment.zip").stat().st_size <= 15_000_000


def test_the_template_runs_every_function_on_the_processor_it_was_built_for(arm64, x86_64):
    assert architectures(arm64 / "sam.json") == {"arm64"}
    assert architectures(x86_64 / "sam.json") == {"x86_64"}
    assert set(machines(x86_64 / "deployment.zip").values()) == {"x86_64"}


def test_an_unknown_processor_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="--arch sparc: Lambda runs x86_64 or arm64"):
        build.swap_binary_wheels(tmp_path, "sparc")
