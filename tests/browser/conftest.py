"""Fixtures of the real-browser tests (tests/browser/harness.py does the work): `local_desk`,
one running desk per test file; `admin`, the API token of its admin Ada (`harness.ADMIN`), made the way the
README does (tools.create_admin --local); and `browser`, a headless Chromium at each viewport a
test asks for (375 px phone, 1280 px desktop). A failed test leaves a screenshot of where it stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser import harness


@pytest.fixture(scope="module")
def local_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.LocalDesk]:
    harness.require_chromium()  # skip (or fail in CI) before paying for a desk
    with harness.local_desk(tmp_path_factory.mktemp("desk")) as desk:
        yield desk


@pytest.fixture(scope="module")
def admin(local_desk: harness.LocalDesk) -> str:
    """The admin's personal API token (create_admin prints it)."""
    return local_desk.tool(
        "tools.create_admin", "--local", "--first", "Ada", "--last", "Admin", "--email", harness.ADMIN
    ).strip()


@pytest.fixture(params=sorted(harness.VIEWPORTS), ids=lambda name: f"{harness.VIEWPORTS[name][0]}px")
def browser(request: pytest.FixtureRequest, tmp_path) -> Iterator[harness.Browser]:
    harness.require_chromium()
    driver = harness.start_chromium(request.param, tmp_path / "profile")
    name = request.node.originalname.removeprefix("test_")[:60]
    opened = harness.Browser(driver, request.param, name)
    try:
        yield opened
        if getattr(request.node, "failed_call", False):
            opened.shot("FAILED")
    finally:
        driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]
    return report


os.environ.setdefault("SE_OFFLINE", "true")  # Selenium never downloads a browser or driver here
