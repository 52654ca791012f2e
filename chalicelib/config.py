"""The desk configuration file (`chalicelib/desk.toml`) → validated, frozen settings.

Validation happens once per process; a wrong file fails loudly with the path of the
field that is wrong (pydantic's messages), before any message is accepted.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib import stage
from chalicelib.destinations import SLACK_HOSTS, check, host_name
from chalicelib.sla.calendar import BusinessCalendar, parse_hours

CONFIG_PATH = Path(__file__).with_name("desk.toml")
CHANNELS = ("email", "form", "chat", "telegram", "viber", "sms", "whatsapp")
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_QUEUES = 97  # an agent's edit: the agent, staff#leaders, staff#admins, each leads#<queue>: one transaction
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+)\s+(business\s+)?(minute|hour|day)s?\s*$")
_UNIT = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class ConfigError(RuntimeError):
    """The desk configuration is invalid; the message names the field."""


class Span(BaseModel):
    """A duration as admins write it: "4 business hours" or "30 minutes"."""

    model_config = ConfigDict(frozen=True)
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
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as 'Europe/Kyiv'") from None
    return name


SpanText = Annotated[str, AfterValidator(_span)]
Zone = Annotated[str, AfterValidator(iana_zone)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Desk(_Frozen):
    name: str = Field(min_length=1)
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    languages: tuple[str, ...] = Field(min_length=1)
    timezone: Zone
    ack_cooldown: SpanText = "5 minutes"
    # acknowledge email whose sender SES could not authenticate (anyone could have forged its From)
    acknowledge_unauthenticated_email: bool = False
    reopen_window: SpanText = "7 days"
    quiet_close: SpanText = "3 days"
    digest_hour: int = Field(default=8, ge=0, le=23)  # local hour the morning digest goes out
    ticket_prefix: str = Field(default="PR", pattern=r"^[A-Z]{1,5}$")

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


class Calendar(_Frozen):
    timezone: Zone
    holidays_country: str = ""
    holidays_subdiv: str = ""
    extra_closed: tuple[date, ...] = ()
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        for day, spec in self.hours.items():
            try:
                parse_hours(spec)
            except ValueError as exc:
                raise ValueError(f"hours.{day}: {exc}") from None
        if not any(self.hours.values()):
            raise ValueError("a calendar needs at least one open interval in the week")
        if self.holidays_country:
            self._holidays()  # unknown country codes fail now, not on the first ticket
        return self

    def _holidays(self) -> object:
        import holidays  # imported lazily: ~130 ms that desks without holidays never pay

        try:
            return holidays.country_holidays(self.holidays_country, subdiv=self.holidays_subdiv or None)
        except NotImplementedError:
            raise ValueError(f"holidays_country {self.holidays_country!r} is not known to `holidays`") from None

    def build(self) -> BusinessCalendar:
        weekly = tuple(parse_hours(self.hours.get(day, [])) for day in WEEKDAYS)  # type: ignore[call-overload]
        closed = _ClosedDates(self._holidays() if self.holidays_country else None, frozenset(self.extra_closed))
        return BusinessCalendar(tz=ZoneInfo(self.timezone), weekly=weekly, closed=closed)


class _ClosedDates:
    """Public holidays (computed per year on demand by `holidays`) plus the desk's own days off."""

    def __init__(self, public: object | None, extra: frozenset[date]) -> None:
        self._public = public
        self._extra = extra

    def __contains__(self, day: object) -> bool:
        return day in self._extra or (self._public is not None and day in self._public)  # type: ignore[operator]


class Queue(_Frozen):
    name: str
    calendar: str = "default"
    team_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # breach alerts
    team_slack: str | None = Field(default=None, pattern=r"^https://")  # a Slack incoming webhook


class Rule(_Frozen):
    queue: str
    keywords: tuple[str, ...] = ()
    channels: tuple[Literal[CHANNELS], ...] = ()  # type: ignore[valid-type]


class Routing(_Frozen):
    default_queue: str
    verification_queue: str | None = None  # where unverified requesters of an organization go
    rules: tuple[Rule, ...] = ()


class Organization(_Frozen):
    """A customer organization: only its listed requesters may ask on its behalf."""

    name: str
    domains: tuple[str, ...] = Field(min_length=1)
    requesters: tuple[str, ...] = ()


class SlaPolicy(_Frozen):
    channels: tuple[Literal[CHANNELS], ...] = ()  # type: ignore[valid-type]
    priorities: tuple[Literal[PRIORITIES], ...] = ()  # type: ignore[valid-type]
    first_response: SpanText
    next_response: SpanText
    resolution: SpanText
    # shares of a target at which the SLA watch alerts; the last one is the breach itself
    alert_at: tuple[float, ...] = (0.75, 0.9, 1.0)
    on_breach: Literal["", "raise_priority", "reassign_on_duty"] = ""

    @model_validator(mode="after")
    def _thresholds(self) -> SlaPolicy:
        steps = self.alert_at
        if not steps or list(steps) != sorted(set(steps)) or steps[0] <= 0 or steps[-1] != 1.0:
            raise ValueError("alert_at must rise strictly, start above 0 and end with 1.0 (the breach)")
        return self

    def matches(self, channel: str, priority: str) -> bool:
        return (not self.channels or channel in self.channels) and (not self.priorities or priority in self.priorities)

    def target(self, name: Literal["first_response", "next_response", "resolution"]) -> Span:
        return Span.parse(getattr(self, name))


class Feedback(_Frozen):
    """What the desk asks customers after the work is done."""

    csat: bool = True  # the "solved" message carries good/bad rating links
    nps: bool = True  # a 0–10 survey when a ticket closes...
    nps_period: SpanText = "90 days"  # ...at most once per customer in this period
    nps_link_days: int = Field(default=14, ge=1, le=90)  # how long a survey link works
    # the channels a survey goes out on (SMS costs per message: leave it out to save it)
    nps_channels: tuple[Literal[CHANNELS], ...] = CHANNELS  # type: ignore[valid-type]

    @property
    def nps_period_span(self) -> timedelta:
        return Span.parse(self.nps_period).length


class Usual(_Frozen):
    """ "We usually answer within N minutes" in the acknowledgement, from the last 7 days."""

    enabled: bool = True
    min_samples: int = Field(default=20, ge=1)  # first responses of that channel × priority in the 7 days
    # shown only when the usual wait is at most this share of the promised one (meaningfully sooner)
    sooner_than: float = Field(default=0.5, gt=0, le=1)


class Limits(_Frozen):
    """How many acknowledgements the desk may send by email in an hour (the clock hour, UTC).

    The acknowledgement is the one message that goes out without a person: anyone can make
    the contact form send one to any address. These caps keep the desk from being a mail cannon
    (and SES from pausing the account's sending). An acknowledgement over a cap is not sent;
    the ticket stays, says why, and a person answers it."""

    acks_per_domain_per_hour: int = Field(default=50, ge=1)  # to one recipient domain (gmail.com is one)
    acks_per_hour: int = Field(default=500, ge=1)  # to every domain together


HostName = Annotated[str, AfterValidator(host_name)]


class Destinations(_Frozen):
    """Hosts the desk may POST to on its own, https only, names compared exactly
    (chalicelib/destinations.py says why)."""

    slack_hosts: tuple[HostName, ...] = SLACK_HOSTS  # Slack incoming webhooks: team_slack, agents' slack_webhook
    chat_reply_hosts: tuple[HostName, ...] = ()  # the website's chat backend (PROMPTLY_CHAT_REPLY_URL)


class Throttle(_Frozen):
    """One API Gateway token bucket, per route and method: `rate` requests per second on
    average, `burst` at once. Above it API Gateway answers 429 itself, before any code runs.
    The bounds are an account's default regional limits (10,000 per second, 5,000 burst)."""

    rate: float = Field(gt=0, le=10_000)
    burst: int = Field(ge=1, le=5_000)


MAX_RESERVED = 900  # Lambda keeps at least 100 of an account's concurrency (default 1,000) unreserved


class ReservedConcurrency(_Frozen):
    """Lambda concurrency set aside for a function, which is also its ceiling; 0: none set aside.
    Capping what a flood drives (inbound mail, the outbox) leaves the rest of the account's pool
    to the SLA watch and the API; the watch's own share means nothing can take its turn."""

    inbound_email: int = Field(default=10, ge=0)
    outbox_worker: int = Field(default=10, ge=0)
    sla_watch: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _fits(self) -> ReservedConcurrency:
        if self.outbox_worker == 1:  # the queue's pollers are capped to the same number, and start at 2
            raise ValueError("outbox_worker: 0 (none set aside) or at least 2 (SQS maximum concurrency)")
        total = self.inbound_email + self.outbox_worker + self.sla_watch
        if total > MAX_RESERVED:
            raise ValueError(
                f"reserved concurrency adds up to {total}; at most {MAX_RESERVED} "
                "(Lambda keeps 100 of an account's default 1,000 unreserved)"
            )
        return self


class Throttles(_Frozen):
    """Flood limits of a deployed stage (infra/throttles.py turns them into the template)."""

    webhooks: Throttle = Throttle(rate=50, burst=100)  # each of /webhooks/*
    api: Throttle = Throttle(rate=20, burst=40)  # each route of the agents' API, /api/*
    customer_pages: Throttle = Throttle(rate=10, burst=20)  # /confirm, /rate, /survey (and /console)
    other: Throttle = Throttle(rate=5, burst=10)  # any other route, e.g. /dev/* (404 outside local)
    reserved_concurrency: ReservedConcurrency = ReservedConcurrency()


def _wall_clock(text: str) -> str:
    if Span.parse(text).business:
        raise ValueError(f"{text!r}: say it in calendar time, e.g. '90 days', not business time")
    return text


class Tokens(_Frozen):
    """Personal API tokens (chalicelib/agents/tokens.py)."""

    lifetime: Annotated[str, AfterValidator(_span), AfterValidator(_wall_clock)] = "90 days"  # from issue to expiry

    @property
    def lifetime_span(self) -> timedelta:
        return Span.parse(self.lifetime).length


WallSpan = Annotated[str, AfterValidator(_span), AfterValidator(_wall_clock)]


class Console(_Frozen):
    """The agents' console (chalicelib/console/): how long a session lasts, how many sign-in codes
    may be asked for per address and per source in a clock hour (UTC), and how many codes may be
    typed per address and per source in a day (UTC)."""

    session_idle: WallSpan = "8 hours"  # a session unused this long ends
    session_lifetime: WallSpan = "7 days"  # and every session ends this long after sign-in
    codes_per_address_per_hour: int = Field(default=5, ge=1, le=100)
    codes_per_source_per_hour: int = Field(default=30, ge=1, le=10_000)
    tries_per_address_per_day: int = Field(default=20, ge=5, le=1000)  # typed codes, whichever code
    tries_per_source_per_day: int = Field(default=200, ge=5, le=100_000)

    @model_validator(mode="after")
    def _idle_within_lifetime(self) -> Console:
        if self.idle_span > self.lifetime_span:
            raise ValueError("session_idle must not be longer than session_lifetime")
        if self.idle_span < timedelta(minutes=10):  # the idle expiry is refreshed at most every 5 minutes
            raise ValueError("session_idle must be at least 10 minutes")
        return self

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


class Attachments(_Frozen):
    """Files customers send and agents attach (chalicelib/attachments/). Sizes in MB (10⁶ bytes).
    SES receives mail up to 40 MB whole; Telegram lets a bot download up to 20 MB."""

    max_file_mb: int = Field(default=25, ge=1, le=100)  # a bigger file is listed, not kept
    max_message_mb: int = Field(default=40, ge=1, le=200)  # all of one message's files together
    max_count: int = Field(default=20, ge=1, le=100)  # files kept per message; the rest are listed
    agent_types: tuple[str, ...] = AGENT_TYPES  # what an agent may attach to an answer (sniffed, not declared)
    link_minutes: int = Field(default=5, ge=1, le=60)  # how long an agent's download link works
    customer_link_days: int = Field(default=7, ge=1, le=90)  # how long a customer's link to a file works (SMS, chat)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1_000_000

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1_000_000


class Settings(_Frozen):
    desk: Desk
    feedback: Feedback = Feedback()
    usual: Usual = Usual()
    limits: Limits = Limits()
    calendars: dict[str, Calendar]
    queues: dict[str, Queue]
    routing: Routing
    sla: tuple[SlaPolicy, ...] = Field(min_length=1)
    organizations: dict[str, Organization] = Field(default_factory=dict)
    tokens: Tokens = Tokens()
    console: Console = Console()
    attachments: Attachments = Attachments()

    destinations: Destinations = Destinations()
    throttles: Throttles = Throttles()

    @model_validator(mode="after")
    def _references(self) -> Settings:
        if "default" not in self.calendars:
            raise ValueError("calendars.default is required")
        if len(self.queues) > MAX_QUEUES:  # a lead's edit writes every queue's leads set in one transaction
            raise ValueError(f"queues: at most {MAX_QUEUES} (DynamoDB transactions hold 100 items)")
        for key, queue in self.queues.items():
            if queue.calendar not in self.calendars:
                raise ValueError(f"queues.{key}.calendar: no calendar named {queue.calendar!r}")
        for index, rule in enumerate(self.routing.rules):
            if rule.queue not in self.queues:
                raise ValueError(f"routing.rules[{index}].queue: no queue named {rule.queue!r}")
        for name in ("default_queue", "verification_queue"):
            queue = getattr(self.routing, name)
            if queue is not None and queue not in self.queues:
                raise ValueError(f"routing.{name}: no queue named {queue!r}")
        last = self.sla[-1]
        if last.channels or last.priorities:
            raise ValueError("sla: the last policy must match every channel and priority (no channels/priorities)")
        return self

    @model_validator(mode="after")
    def _slack_hosts(self) -> Settings:
        """A queue's Slack webhook on a host not allowed fails now, not at its first breach alert."""
        for key, queue in self.queues.items():
            if queue.team_slack:
                check(queue.team_slack, self.destinations.slack_hosts, what=f"queues.{key}.team_slack")
        return self

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


def load(path: Path) -> Settings:
    """Read and validate a desk file; raise ConfigError naming every wrong field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The desk's settings, loaded once per process (path overridable by PROMPTLY_CONFIG)."""
    return load(Path(stage.config_path(str(CONFIG_PATH))))
