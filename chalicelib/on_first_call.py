"""Feature modules that app.py loads when one of their handlers is first called, not at import.

Every Lambda function of the desk (webhooks, API, outbox worker, SLA watch, digest, feedback
pages...) runs app.py, which declares every route and handler so that Chalice sees them all.
Importing each feature there made every cold start pay for all of them: the webhook function
loaded the console, the digest and the SLA watch. `feature("chalicelib.console.queue")` stands
for a module and imports it at its first attribute read — a handler's call — so a function
loads only its own path.

This is the only deferred import of chalicelib code, and it is no way around an import cycle:
app.py is imported by nothing in chalicelib. app.py binds each feature twice, the real import
under TYPE_CHECKING (mypy checks every call against the real module) and `feature(...)` at run
time; tests/test_lean_imports.py checks that both name the same modules.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any


class Feature:
    """A chalicelib module imported on its first attribute read (Python's import lock makes a
    first read from two threads at once import it once)."""

    __slots__ = ("_module", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = import_module(self.name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<feature {self.name} ({'loaded' if self._module else 'not loaded yet'})>"


def feature(name: str) -> Any:
    """A stand-in for the module `name` (dotted, under chalicelib), typed Any: app.py gives
    mypy the real module under TYPE_CHECKING."""
    if not name.startswith("chalicelib."):
        raise ValueError(f"{name!r}: only chalicelib modules load on first call")
    return Feature(name)
