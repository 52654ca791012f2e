"""A local desk and a headless browser to look at it with: what the browser tests
(tests/browser/harness.py) and tools/screenshot_console.py both need.

`local_desk(folder)` starts the desk `make run` starts (tools/local.py) on three free ports,
with its own `local/` folder (PROMPTLY_LOCAL_DIR), and stops it on leaving. `start_chromium`
opens Debian's headless Chromium through Debian's chromedriver (the same source version as the
browser, so the pair always matches; Selenium Manager is never asked to download anything) at
one of VIEWPORTS, with exactly that CSS viewport.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PROMPTLY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PROMPTLY_CHROMEDRIVER", "/usr/bin/chromedriver")
# What a closed network needs: without the background-networking flags Chromium keeps opening
# connections that are refused (docs: shared/CONSOLE-NOTES.md section 6).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--lang=en-US",
)
VIEWPORTS = {"phone": (375, 812), "desktop": (1280, 900)}
DESK_START_SECONDS = 90

T = TypeVar("T")

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium never downloads a browser or driver here


def chromium_missing() -> str | None:
    """What is missing to drive a browser, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium (pip install -r requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(check: Callable[[], T], seconds: float = 30, what: str = "") -> T:
    """`check()` once it is truthy, else an AssertionError naming `what`."""
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    if not found:
        raise AssertionError(f"not within {seconds} s: {what}")
    return found


@dataclass
class LocalDesk:
    """A desk `make run` would start (tools/local.py), on free ports, with its own local/ folder."""

    base: str
    folder: Path
    env: dict[str, str]

    @property
    def local(self) -> Path:
        """Its local/ folder (PROMPTLY_LOCAL_DIR): desk.json, inbox/."""
        return self.folder / "local"

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=10) as response:
            return json.load(response)

    def call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        """The agents' JSON API with a bearer token."""
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def tool(self, *args: str) -> str:
        """`python -m tools.<args>` against this desk, as the README runs them; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", *args],
            check=False,
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"python -m {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        return [mail for mail in self.get_json("/dev/outbox")["messages"] if address in mail["to"]]


@contextmanager
def local_desk(folder: Path) -> Iterator[LocalDesk]:
    """A desk on three free ports, its state in `folder`/local and its log in `folder`/desk.log."""
    api, aws, providers = free_port(), free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "PROMPTLY_"))}
    env["PROMPTLY_LOCAL_DIR"] = str(folder / "local")
    log = (folder / "desk.log").open("w")
    command = [sys.executable, "-m", "tools.local", "--port", str(api), "--aws-port", str(aws)]
    process = subprocess.Popen(
        [*command, "--providers-port", str(providers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    desk = LocalDesk(f"http://127.0.0.1:{api}", folder, env)
    try:
        eventually(
            lambda: desk.local.joinpath("desk.json").exists() or process.poll() is not None,
            DESK_START_SECONDS,
            "desk.json",
        )
        if process.poll() is not None:
            raise AssertionError(f"the local desk stopped: {(folder / 'desk.log').read_text()}")
        yield desk
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def start_chromium(viewport: str, profile: Path, *flags: str) -> Any:
    """A headless Chromium (a Selenium driver) at VIEWPORTS[viewport], its profile in `profile`;
    `flags` are added to CHROMIUM_FLAGS. The phone viewport is emulated as a touch device."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    width, height = VIEWPORTS[viewport]
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    # the exact CSS viewport, and a phone's touch and mobile layout at 375 px
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": viewport == "phone"},
    )
    driver.set_page_load_timeout(30)
    return driver
