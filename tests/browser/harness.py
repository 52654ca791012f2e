"""The browser tests' machinery: a local desk on free ports, and headless Debian Chromium driven
by Selenium through Debian's chromedriver (both from tools/local_browser.py, which
tools/screenshot_console.py uses too), and `Browser`, what a test does with a page.

Without Chromium the browser tests skip with one line saying how to get it; with CI=true they
fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tools.local_browser import (
    ROOT,
    VIEWPORTS,
    LocalDesk,
    chromium_missing,
    eventually,
    local_desk,
    start_chromium,
)

__all__ = ["VIEWPORTS", "Browser", "LocalDesk", "eventually", "local_desk", "require_chromium", "start_chromium"]

ADMIN = "ada@example.com"  # the admin each desk of these tests has (conftest.py `admin`)

SCREENSHOTS = Path(os.environ.get("PROMPTLY_SCREENSHOTS") or ROOT / "build" / "screenshots")
HOW_TO_GET_IT = "browser tests need Chromium: apt-get install chromium chromium-driver"


def require_chromium() -> None:
    missing = chromium_missing()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser tests, but {missing} is missing: .ci/run installs it", pytrace=False)
    pytest.skip(HOW_TO_GET_IT)


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

    def click(self, css: str, seconds: float = 10) -> None:
        """Click what `css` names, found afresh at each try: the queue re-renders its rows as it polls."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        def clicked(_: Any) -> bool:
            try:
                self.find(css).click()
            except StaleElementReferenceException:
                return False
            return True

        WebDriverWait(self.driver, seconds).until(clicked, message=f"{css} stayed stale")

    def wait_for_text(self, text: str, seconds: float = 10) -> None:
        """Until the page shows `text`, across the page load a click starts (its old elements go stale)."""
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
            WebDriverException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        def shows(_: Any) -> bool:
            try:
                return text in self.text()
            except (NoSuchElementException, StaleElementReferenceException):
                return False
            except WebDriverException as error:
                # Chromium's own words for a body read while the next page replaces it.
                if "does not belong to the document" in str(error.msg):
                    return False
                raise

        WebDriverWait(self.driver, seconds).until(shows, message=f"the page never showed {text!r}")

    def page_width(self) -> int:
        return int(self.driver.execute_script("return document.documentElement.scrollWidth"))

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{name}-{self.viewport}.png"
        self.driver.save_screenshot(str(path))
        return path


def sign_in(desk: LocalDesk, browser: Browser, email: str) -> None:
    """The console's sign-in as a person does it: the address, then the code the local outbox shows."""
    import re

    browser.open(f"{desk.base}/console/sign-in")

    def codes() -> set[str]:
        return {mail["subject"] for mail in desk.mail_to(email) if "sign-in code" in mail["subject"]}

    before = codes()
    browser.find("#email").send_keys(email)
    browser.click("button[type=submit]")
    browser.wait_for_text("Check your email")
    [subject] = eventually(lambda: codes() - before, what="the sign-in code in the local outbox")
    browser.find("#code").send_keys(re.search(r"\b(\d{6})\b", subject).group(1))  # type: ignore[union-attr]
    browser.click("button[type=submit]")
    browser.wait_for_text("Sign out")
