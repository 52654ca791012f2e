"""The desk configuration file (`chalicelib/desk.toml`) → validated, frozen settings.

The shape is defined once, as frozen dataclasses. There are two ways in:
- `load` validates a desk file with pydantic (it validates these same dataclasses and returns
  them): `make run`, the tests, and `tools/build.py`, so a wrong file fails loudly with the path
  of the field that is wrong before any message is accepted — locally at start, for a deployed
  stage at build;
- a package carries the form the build validated, frozen as JSON beside desk.toml (`freeze`,
  `FROZEN_PATH`), and `settings()` reads it back without pydantic: importing pydantic and building
  its validators cost a cold start more than boto3's whole import, for a file that cannot change
  between the build and the run. The frozen form names the desk file it came from (SHA-256);
  any other file (PROMPTLY_CONFIG, an edit) is validated as usual.
A field's own rule rides on its annotation (`rule(...)`: pydantic's constraints and checks,
read only when validating); checks across fields are each class's `__post_init__`, so they run
on both ways in. The classes compare by identity (`eq=False`): a process has one settings object,
and the methods a dataclass writes for value equality and hashing cost every cold start ~5 ms
(each is compiled at import), 4% of `import boto3`; `dataclasses.asdict` gives a value to compare.
"""

from __future__ import annotations

import hashlib
import json
import re
import types
from collections.abc import Callable, Container
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, timedelta
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib import stage
from chalicelib.destinations import SLACK_HOSTS, check, host_name
from chalicelib.sla.calendar import BusinessCalendar, parse_hours

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

CONFIG_PATH = Path(__file__).with_name("desk.toml")
FROZEN_PATH = CONFIG_PATH.with_name("desk.json")  # written into the package by tools/build.py only
HOLIDAY_YEARS = 10  # years from the build's on whose public holidays the frozen form lists
CHANNELS = ("email", "form", "chat", "telegram", "viber", "sms", "whatsapp")
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_QUEUES = 97  # an agent's edit: the agent, staff#leaders, staff#admins, each leads#<queue>: one transaction
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+)\s+(business\s+)?(minute|hour|day)s?\s*$")
_UNIT = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class Shown:
    """The `repr` a dataclass writes, written once for the classes below (`repr=False`): each
    class's own, compiled at import, would cost every cold start ~1 ms."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)  # type: ignore[arg-type]
        return f"{type(self).__qualname__}({shown})"


class ConfigError(RuntimeError):
    """The desk configuration is invalid; the message names the field."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A field's rule, read by pydantic only (when a desk file is validated): its constraints
    (`min_length`, `pattern`, `ge`…, as pydantic's `Field` takes them), then each check in turn
    (a function that returns the value or raises ValueError in a sentence)."""

    checks: tuple[Callable[[Any], Any], ...] = ()
    limits: tuple[tuple[str, Any], ...] = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic import AfterValidator, Field

        metadata = [Field(**dict(self.limits))] if self.limits else []
        metadata += [AfterValidator(check) for check in self.checks]
        return handler(Annotated[(source, *metadata)] if metadata else source)

    def limit(self, name: str) -> Any:
        return dict(self.limits)[name]


def rule(*checks: Callable[[Any], Any], **limits: Any) -> FieldRule:
    """`Annotated[str, rule(min_length=1)]`, `Annotated[str, rule(iana_zone)]`."""
    return FieldRule(checks, tuple(limits.items()))


# a class's pydantic settings (pydantic reads `__pydantic_config__` on a stdlib dataclass)
FORBID_EXTRA = {"extra": "forbid"}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Span(Shown):
    """A duration as admins write it: "4 business hours" or "30 minutes"."""

    length: timedelta
    business: bool

    @classmethod
    def parse(cls, text: str) -> Span:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a duration like '4 business hours' or '30 minutes'")
        amount, business, unit = match.groups()
        if business and unit == "day":
            raise ValueError(f"{text!r}: say business hours, a business day has no fixed length")
        if int(amount) <= 0:
            raise ValueError(f"{text!r} must be longer than zero")
        return cls(length=int(amount) * _UNIT[unit], business=bool(business))


def _span(text: str) -> str:
    Span.parse(text)  # validates; the text stays as written so the file round-trips
    return text


def iana_zone(name: str) -> str:
    """`name` if it is an IANA time zone (the one definition: desk.toml and the channels use it)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise ValueError(f"{name!r} is not an IANA time zone such as 'Europe/Kyiv'") from None
    return name


def _wall_clock(text: str) -> str:
    if Span.parse(text).business:
        raise ValueError(f"{text!r}: say it in calendar time, e.g. '90 days', not business time")
    return text


SpanText = Annotated[str, rule(_span)]
WallSpan = Annotated[str, rule(_span, _wall_clock)]
Zone = Annotated[str, rule(iana_zone)]
HostName = Annotated[str, rule(host_name)]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Desk(Shown):
    __pydantic_config__ = FORBID_EXTRA
    name: Annotated[str, rule(min_length=1)]
    sender: Annotated[str, rule(pattern=EMAIL)]
    languages: Annotated[tuple[str, ...], rule(min_length=1)]
    timezone: Zone
    ack_cooldown: SpanText = "5 minutes"
    # acknowledge email whose sender SES could not authenticate (anyone could have forged its From)
    acknowledge_unauthenticated_email: bool = False
    reopen_window: SpanText = "7 days"
    quiet_close: SpanText = "3 days"
    digest_hour: Annotated[int, rule(ge=0, le=23)] = 8  # local hour the morning digest goes out
    ticket_prefix: Annotated[str, rule(pattern=r"^[A-Z]{1,5}$")] = "PR"

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def ack_cooldown_span(self) -> timedelta:
        return Span.parse(self.ack_cooldown).length

    @property
    def quiet_close_span(self) -> timedelta:
        return Span.parse(self.quiet_close).length

    @property
    def reopen_window_span(self) -> timedelta:
        return Span.parse(self.reopen_window).length


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Calendar(Shown):
    __pydantic_config__ = FORBID_EXTRA
    timezone: Zone
    holidays_country: str = ""
    holidays_subdiv: str = ""
    extra_closed: tuple[date, ...] = ()
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]

    def __post_init__(self) -> None:
        for day, spec in self.hours.items():
            try:
                parse_hours(spec)
            except ValueError as exc:
                raise ValueError(f"hours.{day}: {exc}") from None
        if not any(self.hours.values()):
            raise ValueError("a calendar needs at least one open interval in the week")

    def build(self) -> BusinessCalendar:
        weekly = tuple(parse_hours(self.hours.get(day, [])) for day in WEEKDAYS)  # type: ignore[call-overload]
        public = public_holidays(self.holidays_country, self.holidays_subdiv) if self.holidays_country else None
        return BusinessCalendar(
            tz=ZoneInfo(self.timezone), weekly=weekly, closed=_ClosedDates(public, self.extra_closed)
        )


def _country_known(calendar: Calendar) -> Calendar:
    """Unknown country codes fail when the file is validated, not on the first ticket (the
    frozen form's calendars were checked at build)."""
    if calendar.holidays_country:
        _holidays_of(calendar.holidays_country, calendar.holidays_subdiv)
    return calendar


def _holidays_of(country: str, subdiv: str) -> Container[date]:
    import holidays  # imported lazily: ~30-130 ms that desks without holidays (or a package) never pay

    try:
        return holidays.country_holidays(country, subdiv=subdiv or None)
    except NotImplementedError:
        raise ValueError(f"holidays_country {country!r} is not known to `holidays`") from None


class PublicHolidays:
    """A country's public holidays: the years the build listed (the frozen form), any other
    year asked of `holidays` (which computes a year on demand) when first needed."""

    def __init__(self, country: str, subdiv: str, listed: tuple[range, frozenset[date]] | None) -> None:
        self._country, self._subdiv, self._listed = country, subdiv, listed
        self._computed: Container[date] | None = None

    def __contains__(self, day: object) -> bool:
        if self._listed is not None and isinstance(day, date) and day.year in self._listed[0]:
            return day in self._listed[1]
        if self._computed is None:
            self._computed = _holidays_of(self._country, self._subdiv)
        return day in self._computed


@cache
def public_holidays(country: str, subdiv: str) -> PublicHolidays:
    listed = (_frozen() or {}).get("public_holidays", {}).get(f"{country}/{subdiv}")
    if listed is None:
        return PublicHolidays(country, subdiv, None)
    first, last = listed["years"]
    return PublicHolidays(
        country, subdiv, (range(first, last + 1), frozenset(map(date.fromisoformat, listed["dates"])))
    )


class _ClosedDates:
    """Public holidays plus the desk's own days off."""

    def __init__(self, public: Container[date] | None, extra: tuple[date, ...]) -> None:
        self._public = public
        self._extra = frozenset(extra)

    def __contains__(self, day: object) -> bool:
        return day in self._extra or (self._public is not None and day in self._public)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Queue(Shown):
    __pydantic_config__ = FORBID_EXTRA
    name: str
    calendar: str = "default"
    team_email: Annotated[str, rule(pattern=EMAIL)] | None = None  # breach alerts
    team_slack: Annotated[str, rule(pattern=r"^https://")] | None = None  # a Slack incoming webhook


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Rule(Shown):
    __pydantic_config__ = FORBID_EXTRA
    queue: str
    keywords: tuple[str, ...] = ()
    channels: tuple[Literal[CHANNELS], ...] = ()  # type: ignore[valid-type]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Routing(Shown):
    __pydantic_config__ = FORBID_EXTRA
    default_queue: str
    verification_queue: str | None = None  # where unverified requesters of an organization go
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Organization(Shown):
    """A customer organization: only its listed requesters may ask on its behalf."""

    __pydantic_config__ = FORBID_EXTRA
    name: str
    domains: Annotated[tuple[str, ...], rule(min_length=1)]
    requesters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class SlaPolicy(Shown):
    __pydantic_config__ = FORBID_EXTRA
    channels: tuple[Literal[CHANNELS], ...] = ()  # type: ignore[valid-type]
    priorities: tuple[Literal[PRIORITIES], ...] = ()  # type: ignore[valid-type]
    first_response: SpanText
    next_response: SpanText
    resolution: SpanText
    # shares of a target at which the SLA watch alerts; the last one is the breach itself
    alert_at: tuple[float, ...] = (0.75, 0.9, 1.0)
    on_breach: Literal["", "raise_priority", "reassign_on_duty"] = ""

    def __post_init__(self) -> None:
        steps = self.alert_at
        if not steps or list(steps) != sorted(set(steps)) or steps[0] <= 0 or steps[-1] != 1.0:
            raise ValueError("alert_at must rise strictly, start above 0 and end with 1.0 (the breach)")

    def matches(self, channel: str, priority: str) -> bool:
        return (not self.channels or channel in self.channels) and (not self.priorities or priority in self.priorities)

    def target(self, name: Literal["first_response", "next_response", "resolution"]) -> Span:
        return Span.parse(getattr(self, name))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Feedback(Shown):
    """What the desk asks customers after the work is done."""

    __pydantic_config__ = FORBID_EXTRA
    csat: bool = True  # the "solved" message carries good/bad rating links
    nps: bool = True  # a 0–10 survey when a ticket closes...
    nps_period: SpanText = "90 days"  # ...at most once per customer in this period
    nps_link_days: Annotated[int, rule(ge=1, le=90)] = 14  # how long a survey link works
    # the channels a survey goes out on (SMS costs per message: leave it out to save it)
    nps_channels: tuple[Literal[CHANNELS], ...] = CHANNELS  # type: ignore[valid-type]

    @property
    def nps_period_span(self) -> timedelta:
        return Span.parse(self.nps_period).length


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Usual(Shown):
    """ "We usually answer within N minutes" in the acknowledgement, from the last 7 days."""

    __pydantic_config__ = FORBID_EXTRA
    enabled: bool = True
    min_samples: Annotated[int, rule(ge=1)] = 20  # first responses of that channel × priority in the 7 days
    # shown only when the usual wait is at most this share of the promised one (meaningfully sooner)
    sooner_than: Annotated[float, rule(gt=0, le=1)] = 0.5


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Limits(Shown):
    """How many acknowledgements the desk may send by email in an hour (the clock hour, UTC).

    The acknowledgement is the one message that goes out without a person: anyone can make
    the contact form send one to any address. These caps keep the desk from being a mail cannon
    (and SES from pausing the account's sending). An acknowledgement over a cap is not sent;
    the ticket stays, says why, and a person answers it."""

    __pydantic_config__ = FORBID_EXTRA
    acks_per_domain_per_hour: Annotated[int, rule(ge=1)] = 50  # to one recipient domain (gmail.com is one)
    acks_per_hour: Annotated[int, rule(ge=1)] = 500  # to every domain together


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Destinations(Shown):
    """Hosts the desk may POST to on its own, https only, names compared exactly
    (chalicelib/destinations.py says why)."""

    __pydantic_config__ = FORBID_EXTRA
    slack_hosts: tuple[HostName, ...] = SLACK_HOSTS  # Slack incoming webhooks: team_slack, agents' slack_webhook
    chat_reply_hosts: tuple[HostName, ...] = ()  # the website's chat backend (PROMPTLY_CHAT_REPLY_URL)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Throttle(Shown):
    """One API Gateway token bucket, per route and method: `rate` requests per second on
    average, `burst` at once. Above it API Gateway answers 429 itself, before any code runs.
    The bounds are an account's default regional limits (10,000 per second, 5,000 burst)."""

    __pydantic_config__ = FORBID_EXTRA
    rate: Annotated[float, rule(gt=0, le=10_000)]
    burst: Annotated[int, rule(ge=1, le=5_000)]


MAX_RESERVED = 900  # Lambda keeps at least 100 of an account's concurrency (default 1,000) unreserved


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ReservedConcurrency(Shown):
    """Lambda concurrency set aside for a function, which is also its ceiling; 0: none set aside.
    Capping what a flood drives (inbound mail, the outbox) leaves the rest of the account's pool
    to the SLA watch and the API; the watch's own share means nothing can take its turn."""

    __pydantic_config__ = FORBID_EXTRA
    inbound_email: Annotated[int, rule(ge=0)] = 10
    outbox_worker: Annotated[int, rule(ge=0)] = 10
    sla_watch: Annotated[int, rule(ge=0)] = 2

    def __post_init__(self) -> None:
        if self.outbox_worker == 1:  # the queue's pollers are capped to the same number, and start at 2
            raise ValueError("outbox_worker: 0 (none set aside) or at least 2 (SQS maximum concurrency)")
        total = self.inbound_email + self.outbox_worker + self.sla_watch
        if total > MAX_RESERVED:
            raise ValueError(
                f"reserved concurrency adds up to {total}; at most {MAX_RESERVED} "
                "(Lambda keeps 100 of an account's default 1,000 unreserved)"
            )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Throttles(Shown):
    """Flood limits of a deployed stage (infra/throttles.py turns them into the template)."""

    __pydantic_config__ = FORBID_EXTRA
    webhooks: Throttle = Throttle(rate=50, burst=100)  # each of /webhooks/*
    api: Throttle = Throttle(rate=20, burst=40)  # each route of the agents' API, /api/*
    customer_pages: Throttle = Throttle(rate=10, burst=20)  # /confirm, /rate, /survey (and /console)
    other: Throttle = Throttle(rate=5, burst=10)  # any other route, e.g. /dev/* (404 outside local)
    reserved_concurrency: ReservedConcurrency = ReservedConcurrency()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Tokens(Shown):
    """Personal API tokens (chalicelib/agents/tokens.py)."""

    __pydantic_config__ = FORBID_EXTRA
    lifetime: WallSpan = "90 days"  # from issue to expiry

    @property
    def lifetime_span(self) -> timedelta:
        return Span.parse(self.lifetime).length


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Console(Shown):
    """The agents' console (chalicelib/console/): how long a session lasts, how many sign-in codes
    may be asked for per address and per source in a clock hour (UTC), and how many codes may be
    typed per address and per source in a day (UTC)."""

    __pydantic_config__ = FORBID_EXTRA
    session_idle: WallSpan = "8 hours"  # a session unused this long ends
    session_lifetime: WallSpan = "7 days"  # and every session ends this long after sign-in
    codes_per_address_per_hour: Annotated[int, rule(ge=1, le=100)] = 5
    codes_per_source_per_hour: Annotated[int, rule(ge=1, le=10_000)] = 30
    tries_per_address_per_day: Annotated[int, rule(ge=5, le=1000)] = 20  # typed codes, whichever code
    tries_per_source_per_day: Annotated[int, rule(ge=5, le=100_000)] = 200

    def __post_init__(self) -> None:
        if self.idle_span > self.lifetime_span:
            raise ValueError("session_idle must not be longer than session_lifetime")
        if self.idle_span < timedelta(minutes=10):  # the idle expiry is refreshed at most every 5 minutes
            raise ValueError("session_idle must be at least 10 minutes")

    @property
    def idle_span(self) -> timedelta:
        return Span.parse(self.session_idle).length

    @property
    def lifetime_span(self) -> timedelta:
        return Span.parse(self.session_lifetime).length


RASTER_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # the only types ever shown inline

AGENT_TYPES = (
    *RASTER_IMAGES,
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Attachments(Shown):
    """Files customers send and agents attach (chalicelib/attachments/). Sizes in MB (10⁶ bytes).
    SES receives mail up to 40 MB whole; Telegram lets a bot download up to 20 MB."""

    __pydantic_config__ = FORBID_EXTRA
    max_file_mb: Annotated[int, rule(ge=1, le=100)] = 25  # a bigger file is listed, not kept
    max_message_mb: Annotated[int, rule(ge=1, le=200)] = 40  # all of one message's files together
    max_count: Annotated[int, rule(ge=1, le=100)] = 20  # files kept per message; the rest are listed
    agent_types: tuple[str, ...] = AGENT_TYPES  # what an agent may attach to an answer (sniffed, not declared)
    link_minutes: Annotated[int, rule(ge=1, le=60)] = 5  # how long an agent's download link works
    customer_link_days: Annotated[int, rule(ge=1, le=90)] = 7  # how long a customer's link to a file works (SMS, chat)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1_000_000

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1_000_000


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)  # no slots: the built calendars are a cached_property
class Settings(Shown):
    __pydantic_config__ = FORBID_EXTRA
    desk: Desk
    feedback: Feedback = Feedback()
    usual: Usual = Usual()
    limits: Limits = Limits()
    calendars: dict[str, Annotated[Calendar, rule(_country_known)]]
    queues: dict[str, Queue]
    routing: Routing
    sla: Annotated[tuple[SlaPolicy, ...], rule(min_length=1)]
    organizations: dict[str, Organization] = field(default_factory=dict)
    tokens: Tokens = Tokens()
    console: Console = Console()
    attachments: Attachments = Attachments()

    destinations: Destinations = Destinations()
    throttles: Throttles = Throttles()

    def __post_init__(self) -> None:
        self._references()
        self._slack_hosts()

    def _references(self) -> None:
        if "default" not in self.calendars:
            raise ValueError("calendars.default is required")
        if len(self.queues) > MAX_QUEUES:  # a lead's edit writes every queue's leads set in one transaction
            raise ValueError(f"queues: at most {MAX_QUEUES} (DynamoDB transactions hold 100 items)")
        for key, queue in self.queues.items():
            if queue.calendar not in self.calendars:
                raise ValueError(f"queues.{key}.calendar: no calendar named {queue.calendar!r}")
        for index, routing_rule in enumerate(self.routing.rules):
            if routing_rule.queue not in self.queues:
                raise ValueError(f"routing.rules[{index}].queue: no queue named {routing_rule.queue!r}")
        for name in ("default_queue", "verification_queue"):
            queue = getattr(self.routing, name)
            if queue is not None and queue not in self.queues:
                raise ValueError(f"routing.{name}: no queue named {queue!r}")
        last = self.sla[-1]
        if last.channels or last.priorities:
            raise ValueError("sla: the last policy must match every channel and priority (no channels/priorities)")

    def _slack_hosts(self) -> None:
        """A queue's Slack webhook on a host not allowed fails now, not at its first breach alert."""
        for key, queue in self.queues.items():
            if queue.team_slack:
                check(queue.team_slack, self.destinations.slack_hosts, what=f"queues.{key}.team_slack")

    @cached_property
    def _calendars(self) -> dict[str, BusinessCalendar]:
        return {name: cal.build() for name, cal in self.calendars.items()}

    def calendar_for(self, queue: str) -> BusinessCalendar:
        return self._calendars[self.queues[queue].calendar]

    def policy_for(self, channel: str, priority: str) -> SlaPolicy:
        return next(policy for policy in self.sla if policy.matches(channel, priority))

    def organization_of(self, email: str | None) -> tuple[str, Organization] | None:
        """The organization whose domain the address belongs to, if any."""
        domain = (email or "").rsplit("@", 1)[-1].lower()
        return next(
            ((key, org) for key, org in self.organizations.items() if domain in (d.lower() for d in org.domains)), None
        )

    def language(self, wanted: str | None) -> str:
        """The customer's language if the desk speaks it, else the desk default."""
        primary = (wanted or "").split("-")[0].split("_")[0].lower()
        return primary if primary in self.desk.languages else self.desk.default_language


# --- validating a desk file (pydantic) --------------------------------------------------------
Shape = TypeVar("Shape")


def validated(shape: type[Shape], data: Any, where: str = "desk file") -> Shape:
    """`data` (as read from TOML) validated into `shape` (Settings or one of its parts), or
    ConfigError naming every wrong field. Imports pydantic: never on a packaged cold start."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(shape).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{where}: {problems}") from None


def load(path: Path) -> Settings:
    """Read and validate a desk file; raise ConfigError naming every wrong field."""
    import tomllib  # lazily: a package reads the frozen form, never TOML (~1 ms of a cold start)

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return validated(Settings, raw, str(path))


# --- the frozen form: validated at build, read back without pydantic --------------------------
def freeze(path: Path, first_year: int) -> str:
    """The desk file at `path`, validated, as the JSON a package carries (tools/build.py): its
    fields as validated, the desk file's SHA-256, and the public holidays of each calendar's
    country for HOLIDAY_YEARS years from `first_year` (a later year is asked of `holidays`)."""
    desk = load(path)
    years = range(first_year, first_year + HOLIDAY_YEARS)
    listed: dict[str, dict[str, Any]] = {}
    for cal in desk.calendars.values():
        if cal.holidays_country:
            public = _holidays_of(cal.holidays_country, cal.holidays_subdiv)
            dates = sorted(day for year in years for day in _dates_in(public, year))
            key = f"{cal.holidays_country}/{cal.holidays_subdiv}"
            listed[key] = {"years": [years[0], years[-1]], "dates": [day.isoformat() for day in dates]}
    frozen = {
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "settings": dump(desk),
        "public_holidays": listed,
    }
    return json.dumps(frozen, indent=1, sort_keys=True, ensure_ascii=False)


def dump(settings: Settings) -> dict[str, Any]:
    """The settings as plain JSON values: what the frozen form holds."""
    from pydantic import TypeAdapter

    return TypeAdapter(Settings).dump_python(settings, mode="json")  # type: ignore[no-any-return]


def _dates_in(public: Any, year: int) -> list[date]:
    public.get(date(year, 1, 1))  # a HolidayBase fills a year in when a date of it is asked
    return [day for day in public if day.year == year]


@lru_cache(maxsize=1)
def _frozen() -> dict[str, Any] | None:
    """The package's frozen form, if there is one (a source checkout has none)."""
    try:
        return json.loads(FROZEN_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None


def thawed(path: Path) -> Settings | None:
    """The frozen form's settings if it was made from the desk file at `path` as it is now."""
    frozen = _frozen()
    if frozen is None or not path.is_file():
        return None
    if frozen["source_sha256"] != hashlib.sha256(path.read_bytes()).hexdigest():
        return None
    desk: Settings = _thaw(Settings, frozen["settings"])
    return desk


def _thaw(kind: Any, value: Any) -> Any:
    """A JSON value back into `kind` (a field's type: a dataclass of this module, a tuple,
    dict, list, date, optional or plain value), trusting it: the build validated it."""
    origin = get_origin(kind)
    if isinstance(kind, type) and is_dataclass(kind):
        return kind(**{f.name: _thaw_field(f.type, value[f.name]) for f in fields(kind) if f.name in value})
    if origin is Annotated:
        return _thaw(get_args(kind)[0], value)
    if origin is tuple:
        return tuple(_thaw(get_args(kind)[0], item) for item in value)
    if origin is list:
        return [_thaw(get_args(kind)[0], item) for item in value]
    if origin is dict:
        return {key: _thaw(get_args(kind)[1], item) for key, item in value.items()}
    if origin in (Union, types.UnionType):
        return None if value is None else _thaw(next(a for a in get_args(kind) if a is not type(None)), value)
    if kind is date:
        return date.fromisoformat(value)
    return value


def _thaw_field(annotation: Any, value: Any) -> Any:
    """A field's JSON value thawed by its annotation. JSON's numbers, booleans and null are
    already what every kind of field holds, so only strings, lists and objects read the
    annotation, each distinct one evaluated once: the first call of a cold start pays ~0.5 ms
    instead of the ~1.5 ms `typing.get_type_hints` takes over every field of every class."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _thaw(_annotation(annotation) if isinstance(annotation, str) else annotation, value)


@cache
def _annotation(text: str) -> Any:
    return eval(text, globals())  # this module's own annotations (from __future__ import annotations)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The desk's settings, loaded once per process (path overridable by PROMPTLY_CONFIG): the
    package's frozen form when it was made from this file, else the file validated now."""
    path = Path(stage.config_path(str(CONFIG_PATH)))
    return thawed(path) or load(path)
