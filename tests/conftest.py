"""Test harness: moto is the embedded AWS; time is moved with time-machine.

Order matters (see shared/STACK-NOTES.md): moto is imported and the environment set before
anything creates a client or imports the models, whose table names are read at import.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import moto  # noqa: F401  (first: clients made after this are intercepted)

for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]  # an endpoint override defeats mock_aws
ROOT = Path(__file__).resolve().parent.parent
# The local stage's settings (its test secrets included) apply in every test, not only inside
# Chalice test-client calls; provider API roots are set per test by the `providers` fixture.
_LOCAL = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
os.environ.update(_LOCAL)
os.environ.update(
    AWS_DEFAULT_REGION="eu-central-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    POWERTOOLS_LOG_LEVEL="INFO",  # the stages' level: every log call runs (one at INFO once broke inbound mail)
)
sys.path.insert(0, str(ROOT))

import pytest
from moto import mock_aws

from tests import log_privacy
from tests.browser.harness import HOW_TO_GET_IT
from tests.harness import Desk
from tools import build

LOGS = log_privacy.install()  # every line this process logs; tests/test_log_privacy.py reads them last


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "run_last: runs after every other test (it reads what they logged)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)  # stable: the rest keep order


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, however many browser tests skipped, saying how to run them (also under xdist,
    whose workers' reports reach this process)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if HOW_TO_GET_IT in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} browser tests skipped: {HOW_TO_GET_IT}")


@pytest.fixture(autouse=True)
def no_personal_data_in_the_logs() -> Iterator[None]:
    """After each test: no line logged since the previous test carries a customer's address,
    phone number or words. Test by test, because under pytest-xdist each worker process sees
    only the lines of the tests it ran; tests/test_log_privacy.py still reads them all last."""
    yield
    assert log_privacy.leaks(LOGS.fresh()) == [], "a log line carries personal data from a test's input"


def packaged(tmp_path_factory: pytest.TempPathFactory, stage: str, *, lean: bool = True, arch: str = "x86_64") -> Path:
    """What `make package STAGE=<stage>` builds (tools/build.py), once per test run: the tests
    that read it share it, across pytest-xdist workers too (each build costs ~10 s of CPU).
    Nothing may write into it."""
    name = (f"{stage}-lean" if lean else stage) + ("" if arch == "x86_64" else f"-{arch}")
    with _one_build_at_a_time():
        if name in _PACKAGED:
            return _PACKAGED[name]
        if "PYTEST_XDIST_WORKER" not in os.environ:
            _PACKAGED[name] = _package(tmp_path_factory.mktemp(name), stage, lean, arch)
            return _PACKAGED[name]
        folder = tmp_path_factory.getbasetemp().parent / name  # the run's temporary folder, every worker's parent
        if not (folder / "built").exists():  # no other worker built it (or one was stopped midway)
            shutil.rmtree(folder, ignore_errors=True)
            _package(folder, stage, lean, arch)
            (folder / "built").touch()
        _PACKAGED[name] = folder / "build"
        return _PACKAGED[name]


_PACKAGED: dict[str, Path] = {}  # this process's builds, by name


def _package(folder: Path, stage: str, lean: bool, arch: str = "x86_64") -> Path:
    build.compile_templates()
    return build.package(stage, folder / "build", lean=lean, arch=arch)


@contextmanager
def _one_build_at_a_time() -> Iterator[None]:
    """A build rewrites chalicelib/compiled_templates/ in this checkout: builds made by parallel
    test processes (pytest-xdist workers, or two runs) take turns."""
    lock = Path(tempfile.gettempdir()) / f"promptly-build-{hashlib.sha1(bytes(ROOT)).hexdigest()[:12]}.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


@pytest.fixture
def desk():
    """A fresh embedded AWS with every resource, the app, and helpers to drive it."""
    with mock_aws():
        from chalicelib import aws
        from infra.local import create_resources

        aws.reset()
        create_resources()
        with Desk(ROOT) as running:
            yield running
        aws.reset()


def edited_desk_file(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped desk.toml with one text replaced, written under `tmp_path` (config tests)."""
    text = (ROOT / "chalicelib" / "desk.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "desk.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def fixture_bytes(*parts: str) -> bytes:
    return ROOT.joinpath("tests", "fixtures", *parts).read_bytes()


def fixture_json(*parts: str) -> dict:
    return json.loads(fixture_bytes(*parts))


@pytest.fixture
def desk_config(monkeypatch):
    """Run the desk with another config file from tests/fixtures/ for this test only."""
    from chalicelib.config import settings

    def use(name: str) -> None:
        monkeypatch.setenv("PROMPTLY_CONFIG", str(ROOT / "tests" / "fixtures" / name))
        settings.cache_clear()

    yield use
    settings.cache_clear()


@pytest.fixture
def providers(monkeypatch):
    """Loopback fakes of the Telegram, Viber, Twilio and chat-backend send APIs."""
    from tools.fake_providers import FakeProviders

    fake = FakeProviders().start()
    for name in ("TELEGRAM", "VIBER", "TWILIO"):
        monkeypatch.setenv(f"PROMPTLY_{name}_API", fake.base)
    monkeypatch.setenv("PROMPTLY_CHAT_REPLY_URL", f"{fake.base}/chat/replies")
    monkeypatch.setenv("PROMPTLY_FAKE_PROVIDERS_URL", fake.base)
    yield fake
    fake.stop()


@pytest.fixture
def team(desk):
    """People of the desk, each with a personal token: an admin, a lead, two agents."""
    from chalicelib.agents import staff, tokens

    def person(first: str, last: str, role: str, queues: list[str]) -> dict:
        agent = staff.create_agent(
            first_name=first, last_name=last, email=f"{first.lower()}@promptly.example", role=role, queues=queues
        )
        return {"id": agent.agent_id, "token": tokens.issue(agent.agent_id)[1], "name": agent.full_name}

    return {
        "admin": person("Ada", "Admin", "admin", ["general", "billing", "tech"]),
        "lead": person("Lev", "Lead", "lead", ["general", "billing", "tech"]),
        "olena": person("Olena", "Koval", "agent", ["general", "billing"]),
        "taras": person("Taras", "Shevchuk", "agent", ["general", "billing"]),
        "tech": person("Tina", "Tech", "agent", ["tech"]),
    }
