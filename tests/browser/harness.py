"""The browser tests' machinery: a local desk on free ports, and headless Debian Chromium driven
by Selenium through Debian's chromedriver (the same source version as the browser, so the pair
always matches; Selenium Manager is never asked to download anything).

Without Chromium the browser tests skip with one line saying how to get it; with CI=true they
fail instead, so CI can never pass by skipping them.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PROMPTLY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PROMPTLY_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("PROMPTLY_SCREENSHOTS") or ROOT / "build" / "screenshots")
HOW_TO_GET_IT = "browser tests need Chromium: apt-get install chromium chromium-driver"
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


def chromium_missing() -> str | None:
    """What is missing to run a browser test, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium (pip install -r requirements-dev.txt)"
    return None


def require_chromium() -> None:
    missing = chromium_missing()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser tests, but {missing} is missing: .ci/run installs it", pytrace=False)
    pytest.skip(HOW_TO_GET_IT)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalDesk:
    """A desk `make run` would start (tools/local.py), on free ports, with its own local/ folder."""

    base: str
    folder: Path
    env: dict[str, str]

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=10) as response:
            return json.load(response)

    def call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
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
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        return [mail for mail in self.get_json("/dev/outbox")["messages"] if address in mail["to"]]


def eventually(check: Callable[[], Any], seconds: float = 30, what: str = "") -> Any:
    """`check()` once it is truthy, else fail."""
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert found, f"not within {seconds} s: {what}"
    return found


@contextmanager
def local_desk(folder: Path) -> Iterator[LocalDesk]:
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
        eventually(lambda: (folder / "local" / "desk.json").exists() or process.poll() is not None, 90, "desk.json")
        assert process.poll() is None, (folder / "desk.log").read_text()
        yield desk
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


class Browser:
    """One headless Chromium at one viewport; `shot(name)` saves a screenshot CI keeps."""

    def __init__(self, driver: Any, viewport: str, test_name: str) -> None:
        self.driver = driver
        self.viewport = viewport
        self.test_name = test_name

    def open(self, url: str) -> None:
        self.driver.get(url)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self) -> str:
        return str(self.find("body").text)

    def wait_for_text(self, text: str, seconds: float = 10) -> None:
        """Until the page shows `text`, across the page load a click starts (its old elements go stale)."""
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        ignored = (NoSuchElementException, StaleElementReferenceException)
        WebDriverWait(self.driver, seconds, ignored_exceptions=ignored).until(
            lambda _: text in self.text(), message=f"the page never showed {text!r}"
        )

    def page_width(self) -> int:
        return int(self.driver.execute_script("return document.documentElement.scrollWidth"))

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{name}-{self.viewport}.png"
        self.driver.save_screenshot(str(path))
        return path


def start_chromium(viewport: str, profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
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
