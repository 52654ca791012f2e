"""axe-core (npm axe-core, vendored in vendor/, for tests only) injected into the page open in a
browser: `serious_violations(driver)` returns the serious and critical accessibility violations.

WebDriver's script injection is not subject to the page's Content-Security-Policy, so pages
that allow no script at all (all of ours) are checked as they are served."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # vendor/VENDORED.md
SERIOUS = ("serious", "critical")

RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(result => done(result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
  .catch(error => done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}]));
"""


def source() -> str:
    data = AXE.read_bytes()
    if hashlib.sha256(data).hexdigest() != AXE_SHA256:
        raise RuntimeError(f"{AXE} is not the pinned axe-core: see vendor/VENDORED.md")
    return data.decode("utf-8")


def violations(driver: Any) -> list[dict[str, Any]]:
    """Every violation axe finds on the page open in `driver`."""
    driver.execute_script(source())
    driver.set_script_timeout(30)
    return list(driver.execute_async_script(RUN))


def serious_violations(driver: Any) -> list[dict[str, Any]]:
    return [violation for violation in violations(driver) if violation["impact"] in SERIOUS]
