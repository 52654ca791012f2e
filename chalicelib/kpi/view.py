"""The digest's figures → what a reader sees, in their language: the templates' context.

Everything here is display: numbers in the reader's locale (Babel), durations as "1 h 20 min"
with the units of `templates/digest/<lang>.labels`, shares as "92.5%", a missing figure as "—",
bar lengths as whole percentages of the longest bar, a ticket's reference beside the link to its
console page (`url`). It reads typed figures (kpi/figures.py; an archived `digests/<day>.json`
through `Figures.from_json`, so it renders again exactly) and makes a plain JSON context (strings, numbers, lists), so the packaging test can render the
templates from a stored sample (tests/fixtures/digest/view.json).
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock, stage
from chalicelib.kpi.figures import (
    AgentDay,
    Attainment,
    Backlog,
    Breaches,
    Csat,
    Figures,
    Headline,
    Kept,
    Nps,
    Ranked,
    Times,
    Topics,
    Volume,
)
from chalicelib.kpi.stats import Comparison
from chalicelib.render import Rendered, environment, render

DASH = "—"
BAR_MAX_PX = 64  # tallest column of the hour chart


def render_digest(figures: Figures, language: str) -> Rendered:
    """Subject, text and HTML (CSS inlined) of the digest in `language` (English when the
    desk has no digest templates in that language)."""
    language = language if _has_language(language) else "en"
    rendered = render("digest", language, present(figures, language))
    return replace(rendered, html=compact(rendered.html or ""))


def compact(html: str) -> str:
    """Once the CSS is inlined, the class attributes and the indentation are dead weight, and
    Gmail clips a message whose HTML passes 102 KB ("[Message clipped]"). Customer text is
    escaped by then (`"` is `&#34;`), so no text can look like an attribute here."""
    return _INDENT.sub("\n", _CLASS.sub("", html))


_CLASS = re.compile(r' class="[^"<>]*"')
_INDENT = re.compile(r"\n[ \t]+")


def _has_language(language: str) -> bool:
    from jinja2 import TemplateNotFound  # loaded by environment() already; see render.py

    try:
        environment().get_template(f"digest/{language}.labels")
    except TemplateNotFound:
        return False
    return True


def labels(language: str) -> dict[str, Any]:
    """The wording of `templates/digest/<lang>.labels` (its `t`), English when missing."""
    name = f"digest/{language}.labels" if _has_language(language) else "digest/en.labels"
    return dict(environment().get_template(name).module.t)  # type: ignore[attr-defined]


class Formats:
    def __init__(self, language: str) -> None:
        self.language = language
        self.units = labels(language)["units"]

    def count(self, value: float | None) -> str:
        from babel.numbers import format_decimal

        return DASH if value is None else format_decimal(round(value), locale=self.language)

    def average(self, value: float | None) -> str:
        from babel.numbers import format_decimal

        return DASH if value is None else format_decimal(round(value, 1), format="#,##0.#", locale=self.language)

    def share(self, value: float | None) -> str:
        from babel.numbers import format_percent

        return DASH if value is None else format_percent(value, format="#,##0.#%", locale=self.language)

    def score(self, value: float | None) -> str:
        if value is None:
            return DASH
        whole = round(value)
        return f"+{whole}" if whole > 0 else ("−" + str(-whole) if whole < 0 else "0")

    def seconds(self, value: float | None) -> str:
        """45 s · 7 min · 1 h 20 min · 2 d 3 h (rounded to the minute from one minute up)."""
        if value is None:
            return DASH
        u = self.units
        if value < 59.5:
            return f"{round(value)} {u['s']}"
        minutes = round(value / 60)
        if minutes < 60:
            return f"{minutes} {u['min']}"
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return f"{hours} {u['h']}" + (f" {minutes} {u['min']}" if minutes else "")
        days, hours = divmod(hours, 24)
        return f"{days} {u['d']}" + (f" {hours} {u['h']}" if hours else "")

    def of(self, unit: str, value: float | None) -> str:
        return {"count": self.count, "seconds": self.seconds, "share": self.share, "score": self.score}[unit](value)

    def reference(self, unit: str, value: float | None) -> str:
        return (
            self.average(value)
            if unit == "count" and value is not None and value != round(value)
            else self.of(unit, value)
        )


def _tone(comparison: Comparison) -> str:
    if comparison.arrow is None:
        return "none"
    if comparison.better is None:
        return "same"
    return "good" if comparison.better else "bad"


def _width(count: float, biggest: float) -> int:
    return 0 if not biggest or not count else max(1, round(100 * count / biggest))


def _percent(share: float | None) -> int:
    return 0 if share is None else round(100 * share)


def _bars(rows: tuple[Ranked, ...], f: Formats) -> list[dict[str, Any]]:
    biggest = max((row.count for row in rows), default=0)
    return [
        {
            "key": row.key,
            "name": row.name,
            "count": f.count(row.count),
            "share": f.share(row.share),
            "width": _width(row.count, biggest),
        }
        for row in rows
    ]


def present(figures: Figures, language: str) -> dict[str, Any]:
    """The templates' context (plain JSON) for `figures` in `language`."""
    from babel.dates import format_date

    f = Formats(language)
    day = date.fromisoformat(figures.day)
    headlines = [_headline(h, f) for h in figures.headlines]
    return {
        "desk_name": figures.desk_name,
        "day": figures.day,
        "day_label": format_date(day, "EEEE d MMMM y", locale=language),
        "day_short": format_date(day, "EEE d MMM", locale=language),
        "timezone": figures.timezone,
        "has_data": figures.has_data,
        "dash": DASH,
        "headlines": headlines,
        "headline": {h["key"]: h for h in headlines},
        "volume": _volume(figures.volume, figures.has_data, f),
        "first_response": _times(figures.first_response, f),
        "resolution": _times(figures.resolution, f),
        "sla": [_attainment(key, block, f) for key, block in figures.sla.items()],
        "breaches": _breaches(figures.breaches, f),
        "promises": _kept(figures.promises, f),
        "usual": _kept(figures.usual, f),
        "backlog": _backlog(figures.backlog, ZoneInfo(figures.timezone), language, f),
        "agents": [_agent(a, f) for a in figures.agents],
        "csat": _csat(figures.csat, f),
        "nps": _nps(figures.nps, f),
        "topics": _topics(figures.topics, f),
        "activity": {key: f.count(value) for key, value in asdict(figures.activity).items()},
    }


def _headline(h: Headline, f: Formats) -> dict[str, Any]:
    return {
        "key": h.key,
        "value": f.of(h.unit, h.value),
        "previous": f.reference(h.unit, h.previous.reference),
        "previous_arrow": h.previous.arrow or "",
        "previous_tone": _tone(h.previous),
        "trailing": f.reference(h.unit, h.trailing.reference),
        "trailing_arrow": h.trailing.arrow or "",
        "trailing_tone": _tone(h.trailing),
    }


def _volume(volume: Volume, has_data: bool, f: Formats) -> dict[str, Any]:
    hours, peak = volume.by_hour, volume.peak_hour
    tallest = max(hours) if hours else 0
    return {
        "total": f.count(volume.total) if has_data else DASH,
        "automated": volume.automated,
        "channels": _bars(volume.by_channel, f),
        "queues": _bars(volume.by_queue, f),
        "hours": [
            {
                "hour": f"{hour:02d}",
                "count": count,
                "height": 0 if not count else max(2, round(BAR_MAX_PX * count / tallest)),
            }
            for hour, count in enumerate(hours)
        ],
        "peak": None
        if peak is None
        else {"from": f"{peak:02d}:00", "to": f"{(peak + 1) % 24:02d}:00", "count": f.count(hours[peak])},
    }


def _times(block: Times, f: Formats) -> dict[str, Any]:
    row = block.all
    return {
        "rows": [
            {"channel": r.channel, "count": f.count(r.count), "median": f.seconds(r.median), "p90": f.seconds(r.p90)}
            for r in block.by_channel
        ],
        "all": {"count": f.count(row.count), "median": f.seconds(row.median), "p90": f.seconds(row.p90)},
        "empty": row.count == 0,
    }


def _attainment(target: str, block: Attainment, f: Formats) -> dict[str, Any]:
    return {
        "key": target,
        "met": f.count(block.met),
        "missed": f.count(block.missed),
        "value": f.share(block.attainment),
        "width": _percent(block.attainment),
        "empty": block.attainment is None,
    }


def _breaches(breaches: Breaches, f: Formats) -> dict[str, Any]:
    return {
        "count": f.count(breaches.count),
        "worst": [
            {
                "ticket": b.ticket,
                "url": stage.ticket_page(b.ticket),
                "target": b.target,
                "channel": b.channel,
                "queue": b.queue,
                "late": f.seconds(b.late_seconds),
                "settled": b.settled,
            }
            for b in breaches.worst
        ],
    }


def _kept(kept: Kept, f: Formats) -> dict[str, Any]:
    return {
        "value": f.share(kept.share),
        "kept": f.count(kept.kept),
        "total": f.count(kept.total),
        "empty": kept.total == 0,
    }


def _backlog(backlog: Backlog, tz: ZoneInfo, language: str, f: Formats) -> dict[str, Any]:
    from babel.dates import format_date, format_time

    as_of = clock.parse_iso(backlog.as_of).astimezone(tz)
    buckets = tuple(Ranked(key=key, name=key, count=count, share=None) for key, count in backlog.buckets.items())
    return {
        "as_of": format_time(as_of, "HH:mm", locale=language),
        "as_of_day": format_date(as_of.date(), "d MMMM", locale=language),
        "open": f.count(backlog.open),
        "waiting": f.count(backlog.waiting_on_customer),
        "automated": backlog.automated,
        "buckets": _bars(buckets, f),
        "queues": [{"name": q.name, "open": f.count(q.open), "waiting": f.count(q.waiting)} for q in backlog.by_queue],
    }


def _agent(agent: AgentDay, f: Formats) -> dict[str, Any]:
    return {
        "name": agent.name,
        "answered": f.count(agent.answered),
        "solved": f.count(agent.solved),
        "first_response": f.seconds(agent.first_response_median),
        "open_load": DASH if agent.open_load is None else f.count(agent.open_load),
    }


def _csat(csat: Csat, f: Formats) -> dict[str, Any]:
    return {
        "value": f.share(csat.share),
        "good": f.count(csat.good),
        "bad": f.count(csat.bad),
        "count": f.count(csat.count),
        "empty": csat.count == 0,
        "width": _percent(csat.share),
        "comments": [
            {"ticket": c.ticket, "url": stage.ticket_page(c.ticket), "comment": c.comment} for c in csat.bad_comments
        ],
        "more": csat.bad_comments_total - len(csat.bad_comments),
    }


def _nps(nps: Nps, f: Formats) -> dict[str, Any]:
    return {
        "value": f.score(nps.score),
        "count": f.count(nps.count),
        "empty": nps.count == 0,
        "promoters": f.count(nps.promoters),
        "passives": f.count(nps.passives),
        "detractors": f.count(nps.detractors),
        "comments": [
            {"ticket": c.ticket, "url": stage.ticket_page(c.ticket), "score": c.score, "comment": c.comment}
            for c in nps.detractor_comments
        ],
    }


def _topics(topics: Topics, f: Formats) -> dict[str, Any]:
    return {
        "keywords": [
            {
                "word": k.word,
                "count": f.count(k.count),
                "trailing": f.average(k.trailing_average),
                "new": k.trailing_average == 0,
            }
            for k in topics.keywords
        ],
        "subjects": topics.subjects,
        "rising": [
            {"name": q.name, "count": f.count(q.count), "trailing": f.average(q.trailing_average)}
            for q in topics.rising_queues
        ],
    }
