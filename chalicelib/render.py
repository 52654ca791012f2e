"""Messages from templates: Jinja2, the customer's language and time zone, inlined CSS.

Templates live in the top-level `templates/` folder, one folder per message and one file per
language and part: `ack/en.subject`, `ack/en.txt`, `ack/en.html`. Messaging channels (chat,
Telegram, Viber, SMS, WhatsApp) read `ack/en.message.txt` — shorter, no "reply to this email" —
and one channel may override it with `ack/en.<channel>.txt`.
In the deployment package there is no `templates/` folder: the build precompiles it into
`chalicelib/compiled_templates/`, which this module loads with Jinja's ModuleLoader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

if TYPE_CHECKING:  # Jinja loads when a message or page is first rendered: intake never renders one
    from jinja2 import BaseLoader, Environment

SOURCE_DIR = Path(__file__).resolve().parent.parent / "templates"
COMPILED_DIR = Path(__file__).resolve().parent / "compiled_templates"
PARTS = ("subject", "txt", "html")
PAGES = ("confirm", "link_error", "rate", "survey")  # web pages for customers, not messages
EMAIL_CHANNELS = ("email", "form")  # the form is answered by email
CONSOLE = "console/"  # the agents' console's pages (chalicelib/console/web.py), not messages
CANNED = "canned/"  # canned replies agents insert in the console (chalicelib/console/canned.py), not messages


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def loader() -> BaseLoader:
    """Source templates when they are beside the code (a checkout), else the compiled ones."""
    from jinja2 import FileSystemLoader, ModuleLoader

    if SOURCE_DIR.is_dir():
        return FileSystemLoader(SOURCE_DIR)
    return ModuleLoader(str(COMPILED_DIR))


@lru_cache(maxsize=1)
def environment() -> Environment:
    return make_environment(loader())


def make_environment(source: BaseLoader) -> Environment:
    """The one Jinja configuration; the build compiles with it too, since autoescaping and
    filters are fixed at compile time."""
    from jinja2 import Environment, StrictUndefined

    env = Environment(
        loader=source,
        autoescape=lambda name: name is not None and name.endswith(".html"),
        undefined=StrictUndefined,  # a typo in a template fails its test, not a customer's mail
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["when"] = when
    env.filters["zone"] = zone_label
    env.filters["duration"] = duration
    env.filters["slack"] = slack_text
    env.filters["slack_quote"] = slack_quote
    env.filters["lines"] = html_lines
    return env


def html_lines(text: str) -> Markup:
    """Written text in HTML: every line escaped, the line breaks kept as <br>. (The templates
    once did `text | e | replace("\\n", "<br>")`, but `e` makes Markup, whose `replace` escapes
    its argument too, so the mail showed a literal "<br>".)"""
    return Markup("<br>\n").join(escape(line) for line in str(text).splitlines())


def slack_text(text: str) -> str:
    """Customer-written text inside a Slack message: `<!channel>` or `<https://…|label>` typed by
    a customer must show as typed, not ping a channel or hide a link (Slack's own escaping)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_quote(text: str) -> str:
    """Escaped, and every line quoted: a multi-line comment stays one quote block."""
    return "\n".join(f"> {line}" for line in slack_text(text).splitlines() or [""])


def when(moment: datetime, tz: str, language: str) -> str:
    """'Monday 23 November, 13:00' in the reader's language and zone."""
    from babel.dates import format_datetime  # lazy: Babel's locale data loads on first use

    return format_datetime(moment, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(tz), locale=language)


def duration(span: timedelta, language: str, threshold: float = 1.5) -> str:
    """'3 days', '3 дні', '3 дня': a length of time in the reader's language, rounded to the
    largest unit it reaches `threshold` of (1: a whole number of a unit is said exactly)."""
    from babel.dates import format_timedelta

    return format_timedelta(span, threshold=threshold, locale=language)


def zone_label(moment: datetime, tz: str, language: str) -> str:
    """'Kyiv, GMT+02:00': the city a reader recognises plus the offset in force at that moment."""
    from babel.dates import format_datetime

    city = tz.rsplit("/", 1)[-1].replace("_", " ")
    offset = format_datetime(moment, "ZZZZ", tzinfo=ZoneInfo(tz), locale=language)
    return f"{city}, {offset}"


def render(message: str, language: str, context: dict[str, Any], *, channel: str | None = None) -> Rendered:
    """Render every part of `message` that exists for `language` (and `channel` overrides)."""
    env = environment()
    values = {**context, "language": language}
    subject = _part(env, message, language, "subject", channel, values)
    text = _part(env, message, language, "txt", channel, values)
    if (subject is None or text is None) and language != "en":
        return render(message, "en", context, channel=channel)  # internal messages exist in English only
    if subject is None or text is None:
        from jinja2 import TemplateNotFound

        raise TemplateNotFound(f"{message}/{language}.subject and .txt are required")
    html = _part(env, message, language, "html", channel, values)
    return Rendered(
        subject=" ".join(subject.split()),  # a header is one line, whatever the template did
        text=text.strip() + "\n",
        html=inline_css(html) if html is not None else None,
    )


def _part(
    env: Environment, message: str, language: str, part: str, channel: str | None, values: dict[str, Any]
) -> str | None:
    from jinja2 import TemplateNotFound

    names = [f"{message}/{language}.{variant}.{part}" for variant in variants(channel)] + [
        f"{message}/{language}.{part}"
    ]
    try:
        template = env.select_template(names)
    except TemplateNotFound:
        return None
    return template.render(values)


def page(name: str, language: str, context: dict[str, Any]) -> str:
    """A web page for customers (`templates/<name>/<lang>.html`, English when missing)."""
    env = environment()
    template = env.select_template([f"{name}/{language}.html", f"{name}/en.html"])
    return template.render({**context, "language": language})


def variants(channel: str | None) -> list[str]:
    """Template variants to try, most specific first."""
    if channel is None or channel in EMAIL_CHANNELS:
        return [channel] if channel else []
    return [channel, "message"]


def inline_css(html: str) -> str:
    """Move <style> rules onto the elements: Gmail and Outlook drop or mangle <style> blocks."""
    import css_inline  # lazy: only HTML mail pays it

    return css_inline.CSSInliner(load_remote_stylesheets=False).inline(html)


def template_names() -> list[str]:
    """Every message template part (not layouts), for tests and the packaging check."""
    return sorted(name for name in all_names() if "/" in name and not name.startswith((CONSOLE, CANNED)))


def all_names() -> list[str]:
    """Every template's name, from the source folder or, in the package, the build's manifest."""
    if SOURCE_DIR.is_dir():
        return list(environment().list_templates())
    return list(json.loads((COMPILED_DIR / "manifest.json").read_text()))  # ModuleLoader cannot list
