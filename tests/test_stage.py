"""A process that does not say which stage it serves stops at start, naming the variable —
instead of quietly using the `local` stage's tables and secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import stage

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_stage_is_an_error_naming_the_variable(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("PROMPTLY_STAGE", raising=False)
    else:
        monkeypatch.setenv("PROMPTLY_STAGE", value)

    with pytest.raises(stage.StageNotSet, match="PROMPTLY_STAGE is not set"):
        stage.resource("tickets")


def test_the_app_does_not_start_without_a_stage():
    """What Lambda would do on a cold start with the variable missing: the import fails."""
    env = {k: v for k, v in os.environ.items() if k != "PROMPTLY_STAGE"}
    started = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert started.returncode != 0
    assert "PROMPTLY_STAGE is not set" in started.stderr


def test_a_named_stage_names_its_resources(monkeypatch):
    monkeypatch.setenv("PROMPTLY_STAGE", "prod")

    assert stage.resource("tickets") == "promptly-prod-tickets" and not stage.is_local()
