"""Canned replies: texts an agent inserts into the composer from a picker, one file each, per
language, edited by admins like the customers' templates.

`templates/canned/<lang>/<name>.txt`: the first line is the title the picker shows, the rest
is the text. The text is a Jinja template (as every file under templates/ is), so
it may say `{{ customer_name }}`, `{{ agent_first_name }}`, `{{ agent_name }}`, `{{ ticket_ref }}`,
`{{ subject }}` or `{{ desk_name }}`; the answer's own template adds the greeting of a handover
and the agent's signature, so a canned reply carries neither. The build compiles them into the
package with the other templates (tools/build.py) and lists them in its manifest
(render.all_names), so they travel without a templates/ folder.

A file that does not render (a misspelt placeholder) is left out of the picker and logged, rather
than breaking the ticket page; tests/console/test_ticket_page.py renders every shipped one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalicelib import log, render

SUFFIX = ".txt"


@dataclass(frozen=True)
class Canned:
    name: str  # the file's name without .txt: "more-details"
    language: str
    title: str
    text: str


@cache
def names() -> Mapping[str, tuple[str, ...]]:
    """Language → the canned replies' names, sorted (read once per process)."""
    found: dict[str, list[str]] = {}
    for template in render.all_names():
        parts = template.split("/")
        if len(parts) == 3 and template.startswith(render.CANNED) and parts[2].endswith(SUFFIX):
            found.setdefault(parts[1], []).append(parts[2].removesuffix(SUFFIX))
    return {language: tuple(sorted(listed)) for language, listed in found.items()}


def offered(languages: Iterable[str], context: Mapping[str, Any]) -> dict[str, list[Canned]]:
    """The canned replies of each of `languages` (in that order, none twice), rendered with
    `context`; a language without any is left out."""
    shown: dict[str, list[Canned]] = {}
    for language in dict.fromkeys(languages):
        rendered = [canned for name in names().get(language, ()) if (canned := one(language, name, context))]
        if rendered:
            shown[language] = rendered
    return shown


def one(language: str, name: str, context: Mapping[str, Any]) -> Canned | None:
    """One canned reply rendered, or None when its file does not render or has no title."""
    from jinja2 import TemplateError

    try:
        raw = render.environment().get_template(f"{render.CANNED}{language}/{name}{SUFFIX}").render(dict(context))
    except TemplateError as error:
        log.warning("canned reply does not render", language=language, reply=name, error=type(error).__name__)
        return None
    title, _, text = raw.strip().partition("\n")
    if not title.strip() or not text.strip():
        log.warning("canned reply has no title or text", language=language, reply=name)
        return None
    return Canned(name=name, language=language, title=title.strip(), text=text.strip())
