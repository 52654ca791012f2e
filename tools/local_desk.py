"""The running local desk as the tools find it: its ports in one small file, `local/desk.json`.

`make run` (tools/local.py) writes the file once every server listens, and removes it when it
stops. Every tool's `--local` reads it, so a desk started with
`make run PORT=9000 AWS_PORT=9001 PROVIDERS_PORT=9002` needs nothing more from the person using
the tools: they talk to its API, its embedded AWS, and follow its clock (a moved clock moves the
tool's too, so "yesterday" is the desk's yesterday). The folder is `local/` in this checkout;
PROMPTLY_LOCAL_DIR moves it (the tests run desks of their own beside a person's).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.request
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib import clock
from chalicelib.log import logger

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: the local desk's secrets are in the repository


@dataclass(frozen=True)
class Ports:
    """Where the three servers of a local desk listen (`make run PORT= AWS_PORT= PROVIDERS_PORT=`)."""

    api: int = 8000
    aws: int = 8001
    providers: int = 8002

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api}"

    @property
    def aws_url(self) -> str:
        return f"http://{HOST}:{self.aws}"

    @property
    def providers_url(self) -> str:
        return f"http://{HOST}:{self.providers}"


def home() -> Path:
    """The local desk's folder: its state file and the inbox (`inbox/`, `processed/`, `failed/`)."""
    return Path(os.environ.get("PROMPTLY_LOCAL_DIR") or ROOT / "local")


def state_file() -> Path:
    return home() / "desk.json"


def inbox() -> Path:
    return home() / "inbox"


def stage_environment(stage: str = "local") -> dict[str, str]:
    """A stage's variables from `.chalice/config.json`, as Chalice would set them."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def record(ports: Ports) -> None:
    """Say where this process's desk listens (written whole, then renamed: never half a file)."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".tmp")
    draft.write_text(json.dumps({"pid": os.getpid(), **asdict(ports)}))
    draft.replace(path)


def forget() -> None:
    """Remove the state file if it is this process's (a desk that lost it to another says nothing)."""
    path = state_file()
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def recorded() -> tuple[int, Ports] | None:
    """(pid, ports) of the desk that wrote the state file, if that process still runs."""
    try:
        state = json.loads(state_file().read_text())
        pid, ports = int(state["pid"]), Ports(int(state["api"]), int(state["aws"]), int(state["providers"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (pid, ports) if _alive(pid) else None


def running() -> Ports:
    """The running desk's ports, or stop this tool with one line saying how to start one."""
    found = recorded()
    if found is None:
        raise SystemExit(
            f"no local desk is running here (`make run` writes {state_file()} while it runs): start one with `make run`"
        )
    return found[1]


def follow(ports: Ports) -> None:
    """Make this process a client of the desk at `ports`: the local stage's settings, its
    embedded AWS, and its clock. Call before anything imports the models (they read the
    environment at import)."""
    os.environ.update(
        stage_environment("local"),
        AWS_ENDPOINT_URL=ports.aws_url,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
    )
    clock.set_offset(timedelta(seconds=desk_clock(ports)["ahead_seconds"]))
    logs_to_stderr()


def logs_to_stderr() -> None:
    """A tool's stdout is its answer (a token, a ticket reference) that a shell may capture: the
    desk's own log lines, which Lambda wants on stdout, go to stderr here."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)


def desk_clock(ports: Ports) -> dict[str, Any]:
    """What the desk's clock says (GET /dev/clock)."""
    with urllib.request.urlopen(f"{ports.api_url}/dev/clock", timeout=10) as response:
        return dict(json.load(response))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
