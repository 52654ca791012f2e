"""README's "Where things live" is the newcomer's map: it names every module of the desk, its
infrastructure and its tools, and names nothing that is not there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chalicelib", "infra", "tools")


def _map() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Where things live", 1)[1]
    return section.split("```", 2)[1]


def _modules() -> set[Path]:
    found = {ROOT / "app.py"}
    for package in PACKAGES:
        found |= {
            path
            for path in (ROOT / package).rglob("*.py")
            if path.name != "__init__.py" and "compiled_templates" not in path.parts
        }
    return found


def test_every_module_is_named_in_the_map():
    named = set(re.findall(r"[\w]+\.py", _map()))
    missing = sorted(str(path.relative_to(ROOT)) for path in _modules() if path.name not in named)
    assert missing == [], f"README's Where things live does not name: {missing}"


def test_the_map_names_no_module_that_is_not_there():
    existing = {path.name for path in _modules()} | {path.name for path in (ROOT / "tests").rglob("*.py")}
    stale = sorted(set(re.findall(r"[\w]+\.py", _map())) - existing)
    assert stale == [], f"README's Where things live names modules that do not exist: {stale}"
