"""The district configuration: areas, categories, units, routes, peers, SLA policy.

One file per district says everything that differs between districts, so the
code stays the same everywhere. The model is validated once at start (and at
every reload); a broken file is refused with the place and the reason rather
than half-applied.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from hotline.shared.domain.durations import DURATION_PATTERN, format_duration, parse_duration
from hotline.shared.domain.ticket import Channel, Urgency

_ID = r"^[a-z0-9][a-z0-9_-]*$"
_DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

#: A duration as a file writes it (``90s``, ``2h``, ``1h30m``) or a number of seconds. The
#: schema says so itself: pydantic's own (ISO 8601, ``PT2H``) is not what the loader reads.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 90s, 10m, 2h, 1d, 1h30m, or a number of seconds",
        }
    ),
]

_HH_MM = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?"
#: A local time as pydantic reads it from text: ``08:30`` (seconds and an offset optional).
_TIME = rf"^{_HH_MM}(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$"
#: A daily window as ``TimeWindow`` reads it from text: ``22:00-06:00``.
_WINDOW = rf"^\s*{_HH_MM}\s*-\s*{_HH_MM}\s*$"


def _clock_digits(value: Any) -> list[int] | None:
    """The hours, minutes (and seconds) of the unquoted ``8:30`` that YAML 1.1 read as ``value``.

    YAML 1.1 takes ``8:30`` for the base-60 integer 8 * 60 + 30 = 510, and ``8:30:00``
    for 8 * 3600 + 30 * 60; the base-60 digits of the number give back what the file said.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    digits: list[int] = []
    while value:
        value, digit = divmod(value, 60)
        digits.insert(0, digit)
    return digits if len(digits) in (2, 3) and digits[0] < 24 else None


def _not_a_number(value: Any, what: str, example: str) -> None:
    """Refuse a number where text is expected, saying to quote it as in ``example``.

    Pydantic would read 510 as 510 seconds after midnight (00:08:30 UTC), so an
    unquoted ``open: 8:30`` would load without a word and open the office at 00:08.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    digits = _clock_digits(value)
    if digits is None:
        why = f"not the number {value}"
    else:
        written = ":".join([str(digits[0]), *(f"{d:02d}" for d in digits[1:])])
        why = f"YAML reads an unquoted {written} as the number {value}"
    raise ValueError(f'{what} is text: quote it, as in "{example}" ({why})')


def _clock_time(value: Any) -> Any:
    """A time of day as the file wrote it; a number (an unquoted ``8:30``) is refused."""
    digits = _clock_digits(value)
    example = ":".join(f"{d:02d}" for d in digits) if digits else "08:30"
    _not_a_number(value, "a time of day", example)
    return value


#: A time of day, written as text; the schema takes ``08:30`` as the loader does, not only
#: ``08:30:00``, and neither takes a number.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": _TIME, "description": "a time of day: HH:MM"}),
]

#: A rule's target that means "the unit serving the request's most specific area".
AREA_OWNER = "area-owner"


def _one_or_many(value: Any) -> Any:
    """Let a file say ``category: medical`` as well as ``category: [medical]``."""
    return [value] if isinstance(value, str) else value


class _OneOrManySchema:
    """Schema of a list that a file may also write as its single item.

    The loader takes ``category: medical`` for ``category: [medical]``; the
    published schema must take it too, or an editor flags every short form.
    """

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        many = handler(core_schema)
        return {"anyOf": [many["items"], many]}


#: Where in the file a problem is: keys and list indexes, as pydantic reports them.
Loc = tuple[str | int, ...]

_T = TypeVar("_T")

#: A list of ``_T``, or one ``_T`` standing for the list of it.
OneOrManyOf = Annotated[tuple[_T, ...], BeforeValidator(_one_or_many), _OneOrManySchema()]
OneOrMany = OneOrManyOf[str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaLevel(StrEnum):
    """The administrative hierarchy, from the whole district down to a grid cell."""

    DISTRICT = "district"
    STREET = "street"
    TOWN = "town"
    COMMUNITY = "community"
    GRID = "grid"


class Area(_Model):
    """An administrative area.

    ``parent`` may be left out: administrative codes nest by prefix, so the
    parent is then the longest other area code that starts this one.
    ``geometry`` is a GeoJSON geometry, inline or as a path to a ``.geojson``
    file (relative to the district file); it lets a request be located from
    its coordinates.
    """

    id: str = Field(pattern=r"^[0-9A-Za-z]+$")
    name: str
    level: AreaLevel | None = None
    parent: str | None = None
    geometry: dict[str, Any] | str | None = None


class Category(_Model):
    """A kind of request; ids nest by dots (``medical.dialysis`` is under ``medical``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
    name: str


#: Contact channels the notifier delivers itself; any other channel name is a gateway
#: the district runs (SMS, WeChat, phone...) reached over AMQP as ``notify.<channel>``.
WEBHOOK = "webhook"
EMAIL = "email"

_CHANNEL = r"^[a-z0-9][a-z0-9-]*$"


class ContactRole(StrEnum):
    """Whom in its unit a contact reaches: the duty desk that handles tasks, or its leader.

    A ladder step that tells ``unit`` reaches the desk, ``unit-leader`` the leader: a
    reminder goes to whoever works the task, an overdue one to whoever answers for it.
    """

    DESK = "desk"
    LEADER = "leader"


class Contact(_Model):
    """Where a unit's people are reached, and through which channel.

    ``webhook``: ``address`` is an ``http(s)://`` URL that gets a signed POST;
    ``email``: an e-mail address; anything else (``sms``, ``wechat``, ``phone``)
    names a gateway that consumes AMQP routing key ``notify.<channel>``.
    ``role`` says whom it reaches: the unit's ``desk`` (the default) or its ``leader``.
    """

    channel: str = Field(pattern=_CHANNEL, max_length=32)
    address: str = Field(min_length=1, max_length=500)
    role: ContactRole = Field(
        default=ContactRole.DESK, description="whom it reaches: the unit's desk or its leader"
    )

    @model_validator(mode="after")
    def _address_fits(self) -> Contact:
        if self.channel == WEBHOOK and not re.match(r"^https?://[^\s/]+", self.address):
            raise ValueError(f"webhook address {self.address!r} must be an http(s):// URL")
        if self.channel == EMAIL and not re.match(r"^[^@\s]+@[^@\s]+$", self.address):
            raise ValueError(f"email address {self.address!r} is not name@domain")
        return self

    @property
    def gateway(self) -> bool:
        """Whether a district gateway delivers it (over AMQP), not the notifier itself."""
        return self.channel not in (WEBHOOK, EMAIL)


class NotificationPolicy(_Model):
    """How the district tells citizens and what their feedback does.

    ``citizen_channel`` is the gateway (``notify.<channel>`` over AMQP) that
    tells the caller their ticket is resolved, at the phone number they gave;
    ``reopen_on_dissatisfied`` is what a ``dissatisfied`` feedback does when it
    does not say itself.
    """

    citizen_channel: str = Field(default="sms", pattern=_CHANNEL, max_length=32)
    reopen_on_dissatisfied: bool = True

    @field_validator("citizen_channel")
    @classmethod
    def _a_gateway(cls, value: str) -> str:
        if value in (WEBHOOK, EMAIL):
            raise ValueError("the citizen is told at their phone: name a gateway such as sms")
        return value


class Weekday(StrEnum):
    """Days as a district file names them."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WORKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


class Hours(_Model):
    """Opening hours: the days and the daily window (``close`` before ``open`` spans midnight)."""

    days: tuple[Weekday, ...] = WORKDAYS
    open: ClockTime = time(8, 30)
    close: ClockTime = time(17, 30)


class UnitKind(StrEnum):
    """What sort of body a unit is; reports break transfers down by it."""

    STREET_OFFICE = "street-office"
    TOWN = "town"
    DEPARTMENT = "department"
    SPECIAL_TEAM = "special-team"
    GRASS_ROOTS = "grass-roots"


class CallerDetails(StrEnum):
    """When a unit sees a caller's name and phone (personal data) rather than a masked form."""

    WHEN_HANDLING = "when-handling"  # on the tasks it must act on, not on observer copies
    ALWAYS = "always"
    NEVER = "never"


class Unit(_Model):
    """A handling unit: street office, town, department, special team, grass-roots body.

    ``areas`` and ``categories`` say what it serves (empty: any); ``hours``
    empty means around the clock; ``capacity`` caps the open tasks a pool
    gives it. ``caller_details`` says when its messages and API answers carry
    the caller's name and phone unmasked.
    """

    id: str = Field(pattern=_ID)
    name: str
    kind: UnitKind = UnitKind.DEPARTMENT
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    hours: Hours | None = None
    contacts: tuple[Contact, ...] = ()
    capacity: int | None = Field(default=None, ge=1)
    supervisor: str | None = None
    caller_details: CallerDetails = CallerDetails.WHEN_HANDLING

    def contacts_for(self, role: Role) -> tuple[Contact, ...]:
        """The contacts an escalation step that tells ``role`` reaches in this unit.

        ``unit`` reaches the desk contacts and ``unit-leader`` the leader contacts; a
        unit that lists none of the kind asked for is reached at all its contacts, so
        that a step is never lost to a file that does not mark roles. The other roles
        stand for a whole unit (a supervisor, the supervision group, the leadership):
        every contact of it.
        """
        wanted = _CONTACT_ROLES.get(role)
        if wanted is None:
            return self.contacts
        picked = tuple(c for c in self.contacts if c.role is wanted)
        return picked or self.contacts


class TimeWindow(_Model):
    """A daily window, ``"22:00-06:00"`` style; it may span midnight."""

    start: ClockTime
    end: ClockTime

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The object form, and the ``"22:00-06:00"`` text that files use."""
        written = handler.resolve_ref_schema(handler(core_schema))
        return {
            "anyOf": [{"type": "string", "pattern": _WINDOW}, written],
            "description": written.get("description", ""),
        }

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        _not_a_number(data, "a time window", "22:00-06:00")
        if isinstance(data, str):
            start, sep, end = data.partition("-")
            if not sep:
                raise ValueError(f"time window {data!r} is not HH:MM-HH:MM")
            return {"start": start.strip(), "end": end.strip()}
        return data

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class HoursCondition(StrEnum):
    """A rule's view of the district's business hours."""

    BUSINESS = "business"
    AFTER = "after-hours"


class Match(_Model):
    """What a rule looks at; an empty field matches anything.

    A category matches itself and everything under it; ``=medical`` matches
    ``medical`` alone. An area matches a request located in it at any level.
    """

    category: OneOrMany = ()
    area: OneOrMany = ()
    urgency: OneOrManyOf[Urgency] = ()
    channel: OneOrManyOf[Channel] = ()
    hours: HoursCondition | None = None
    time: TimeWindow | None = None


class Route(_Model):
    """One rule of the ordered list.

    Its target is one of ``unit`` (a unit id, or ``area-owner``) and ``pool``
    (the unit with the fewest open tasks wins, ties to the first listed). With
    ``continue`` the target only observes: it gets a copy, and the search for
    the unit that must act goes on.
    """

    name: str
    match: Match = Match()
    unit: str | None = None
    pool: tuple[str, ...] = ()
    observe: bool = Field(default=False, alias="continue")  # files say continue, and only that

    @model_validator(mode="after")
    def _one_target(self) -> Route:
        if (self.unit is None) == (not self.pool):
            raise ValueError(f"route {self.name!r} needs exactly one of unit and pool")
        return self


#: The environment variables a peer's ``token_env`` may name. Only these: a district file
#: must not be able to send another setting (a database password) to a peer's URL.
PEER_TOKEN_ENV = r"^HOTLINE_PEER_TOKEN_[A-Z0-9_]+$"


class Peer(_Model):
    """A neighbouring district: requests located in its areas are transferred to its intake.

    The peer's intake takes them only with a ``call-taker`` token that the peer
    district made for us. It is looked up when a transfer is sent, from one of:
    ``token_env`` (an environment variable ``HOTLINE_PEER_TOKEN_...``, from a
    Secret or ``.env``), ``token_file`` (a file holding the token, relative to
    the district file; a mounted Secret is read afresh each time, so rotating
    it needs no restart) or ``token`` (the token itself, in the file: only for
    a file that is kept out of the repository and of ConfigMaps). At most one.
    """

    # `hotline config schema` says "at most one token source" too, for editors.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "not": {
                "anyOf": [
                    {"required": list(pair)}
                    for pair in itertools.combinations(("token", "token_env", "token_file"), 2)
                ]
            }
        },
    )

    district: str = Field(pattern=_DISTRICT_ID.pattern)
    url: str = Field(pattern=r"^https?://")
    areas: tuple[str, ...] = ()
    geometry: dict[str, Any] | str | None = None
    token: str | None = None
    token_env: str | None = Field(default=None, pattern=PEER_TOKEN_ENV)
    token_file: str | None = None

    @model_validator(mode="after")
    def _one_token_source(self) -> Peer:
        given = [name for name in ("token", "token_env", "token_file") if getattr(self, name)]
        if len(given) > 1:
            raise ValueError(
                f"peer {self.district!r} names {' and '.join(given)}: give one source of its token"
            )
        return self

    @property
    def token_source(self) -> str | None:
        """Where the token comes from, as a person would say it (``None``: nowhere)."""
        if self.token_env:
            return self.token_env
        if self.token_file:
            return self.token_file
        return "the district file" if self.token else None


class Clock(StrEnum):
    """The three SLA clocks that run for every task a unit holds."""

    SIGN_FOR = "sign-for"
    FIRST_RESPONSE = "first-response"
    RESOLUTION = "resolution"


class Counting(StrEnum):
    """How a clock counts: every second, or only the district's working time."""

    AROUND_THE_CLOCK = "around-the-clock"
    WORKING_TIME = "working-time"


class Role(StrEnum):
    """Who an escalation step tells; the notification side resolves each to contacts.

    ``unit`` and ``unit-leader`` are the task's unit: its desk contacts and its leader
    contacts (all its contacts when it names none of that kind);
    ``supervisor-unit`` is the unit named as its ``supervisor``;
    ``supervision-group`` and ``district-leadership`` are the units named by
    ``sla.supervision_group`` and ``sla.leadership`` (or nobody in particular).
    """

    UNIT = "unit"
    UNIT_LEADER = "unit-leader"
    SUPERVISOR_UNIT = "supervisor-unit"
    SUPERVISION_GROUP = "supervision-group"
    DISTRICT_LEADERSHIP = "district-leadership"


#: The contacts within the task's own unit that its roles reach (see ``Unit.contacts_for``).
_CONTACT_ROLES = {Role.UNIT: ContactRole.DESK, Role.UNIT_LEADER: ContactRole.LEADER}


def _fraction(value: Any) -> Any:
    """Let a file say ``at: 50%`` as well as ``at: 0.5``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"not a percentage: {value!r}") from None
    return value


Fraction = Annotated[
    float,
    BeforeValidator(_fraction),
    Field(gt=0, le=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"},
            ]
        }
    ),
]


class LadderStep(_Model):
    """A rung of an escalation ladder.

    It falls due at a fraction of the clock's limit (``at: 50%``) or a time
    after the deadline (``after: 30m``), both counted the way the clock counts.
    ``repeat_every`` (last rung only) repeats it until the clock stops.
    """

    level: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=100)
    at: Fraction | None = None
    after: Duration | None = None
    tell: OneOrManyOf[Role] = Field(min_length=1)
    repeat_every: Duration | None = None

    @model_validator(mode="after")
    def _one_moment(self) -> LadderStep:
        if (self.at is None) == (self.after is None):
            raise ValueError(f"step {self.name!r} needs exactly one of at and after")
        if self.repeat_every is not None and self.repeat_every <= timedelta(0):
            raise ValueError(f"step {self.name!r}: repeat_every must be longer than 0s")
        return self


Ladder = tuple[LadderStep, ...]
Limits = dict[Urgency, Duration]


def _check_ladder(where: str, ladder: Ladder) -> None:
    """A ladder climbs: levels rise, moments come in order, only the last rung repeats."""
    for earlier, later in itertools.pairwise(ladder):
        if later.level <= earlier.level:
            raise ValueError(f"{where}: level {later.level} does not rise above {earlier.level}")
        if earlier.after is not None and later.at is not None:
            raise ValueError(
                f"{where}: step {later.name!r} at a fraction comes after a deadline step"
            )
        if (earlier.at or 0) > (later.at or 1) or (earlier.after or timedelta(0)) > (
            later.after or timedelta.max
        ):
            raise ValueError(f"{where}: step {later.name!r} falls due before {earlier.name!r}")
    if any(step.repeat_every is not None for step in ladder[:-1]):
        raise ValueError(f"{where}: only the last step may repeat")


class WorkingTime(_Model):
    """The district's working time, for clocks that count only it.

    ``hours`` are daily windows (local time, none across midnight, e.g. a
    lunch break as two windows); ``holidays`` are days off that would be
    working days, ``workdays`` the make-up working days that would be off.
    """

    days: tuple[Weekday, ...] = WORKDAYS
    hours: tuple[TimeWindow, ...] = (TimeWindow(start=time(8, 30), end=time(17, 30)),)
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _sane(self) -> WorkingTime:
        if not self.hours:
            raise ValueError("working time needs at least one window in hours")
        for window in self.hours:
            if window.end <= window.start:
                raise ValueError(f"window {window} must end after it starts, on the same day")
        for earlier, later in itertools.pairwise(self.hours):
            if later.start < earlier.end:
                raise ValueError(f"windows {earlier} and {later} overlap or are out of order")
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"{both[0]} is both a holiday and a make-up working day")
        if not self.days and not self.workdays:
            raise ValueError("working time needs working days or make-up working days")
        return self


class SlaOverride(_Model):
    """What differs for one category and everything under it (most specific wins)."""

    category: str
    limits: dict[Clock, Limits] = {}
    counting: dict[Clock, Counting] = {}
    ladders: dict[Clock, Ladder] = {}


def _default_ladder() -> Ladder:
    return (
        LadderStep(level=1, name="remind-unit", at=0.5, tell=(Role.UNIT,)),
        LadderStep(level=2, name="unit-leader", after=timedelta(0), tell=(Role.UNIT_LEADER,)),
    )


class SlaPolicy(_Model):
    """Limits, counting and escalation ladders for the three clocks.

    ``limits`` and ``ladders`` here are the district default; ``categories``
    override any part of them for a category and its sub-categories.
    """

    limits: dict[Clock, Limits] = {
        Clock.SIGN_FOR: {
            Urgency.NORMAL: timedelta(hours=2),
            Urgency.URGENT: timedelta(minutes=30),
            Urgency.CRITICAL: timedelta(minutes=10),
        },
        Clock.FIRST_RESPONSE: {
            Urgency.NORMAL: timedelta(hours=4),
            Urgency.URGENT: timedelta(hours=1),
            Urgency.CRITICAL: timedelta(minutes=30),
        },
        Clock.RESOLUTION: {
            Urgency.NORMAL: timedelta(hours=24),
            Urgency.URGENT: timedelta(hours=8),
            Urgency.CRITICAL: timedelta(hours=2),
        },
    }
    counting: dict[Clock, Counting] = {}
    ladders: dict[Clock, Ladder] = {clock: _default_ladder() for clock in Clock}
    categories: tuple[SlaOverride, ...] = ()
    working_time: WorkingTime = WorkingTime()
    supervision_group: str | None = Field(
        default=None, description="unit id of the supervision group"
    )
    leadership: str | None = Field(default=None, description="unit id of the district leadership")

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        for clock in Clock:
            missing = [u.value for u in Urgency if u not in self.limits.get(clock, {})]
            if missing:
                raise ValueError(f"sla.limits.{clock} has no limit for {', '.join(missing)}")
            if not self.ladders.get(clock):
                raise ValueError(f"sla.ladders.{clock} needs at least one step")
        for clock, ladder in self.ladders.items():
            _check_ladder(f"sla.ladders.{clock}", ladder)
        for override in self.categories:
            for clock, ladder in override.ladders.items():
                _check_ladder(f"sla.categories {override.category!r} ladders.{clock}", ladder)
        return self

    def _overrides(self, category: str) -> list[SlaOverride]:
        """The overrides that apply to ``category``, most specific first."""
        fits = [
            o
            for o in self.categories
            if category == o.category or category.startswith(f"{o.category}.")
        ]
        return sorted(fits, key=lambda o: -len(o.category))

    def limit(self, clock: Clock, category: str, urgency: Urgency) -> timedelta:
        """The clock's limit for a task of this category and urgency."""
        for override in self._overrides(category):
            if urgency in override.limits.get(clock, {}):
                return override.limits[clock][urgency]
        return self.limits[clock][urgency]

    def counting_of(self, clock: Clock, category: str) -> Counting:
        """Whether the clock counts every second or working time only, for this category."""
        for override in self._overrides(category):
            if clock in override.counting:
                return override.counting[clock]
        return self.counting.get(clock, Counting.AROUND_THE_CLOCK)

    def ladder(self, clock: Clock, category: str) -> Ladder:
        """The escalation ladder of the clock, for this category."""
        for override in self._overrides(category):
            if clock in override.ladders:
                return override.ladders[clock]
        return self.ladders[clock]


class DuplicatePolicy(_Model):
    """When a new request is linked to an open ticket instead of being routed again.

    Within ``window`` of the open ticket, a request with the same category in the
    same community is a duplicate when the same phone calls, and counts as "also
    reported by" when someone else does. ``0s`` (the default) turns the check off:
    a district turns it on knowingly, since a linked request is not routed.
    """

    window: Duration = timedelta(0)


#: How many windows of a hot-spot rule overlap at any moment when it names no ``step``.
HOTSPOT_HOPS = 6


class Hotspot(_Model):
    """An early warning: ``threshold`` requests of ``category`` (or below it) from one area
    of ``level`` within one ``window`` raise a ``hotspot`` for the supervision group.

    Windows slide: one of ``window`` length starts every ``step`` (whole seconds that
    divide the window; by default about a sixth of it, 10 minutes for ``1h``), so a
    burst that straddles a clock hour is counted whole, not split in two halves that
    each stay under the threshold. How often a district hears of one area is said in
    ``hotline.shared.domain.hotspots``.
    """

    name: str | None = None
    category: str
    level: AreaLevel = AreaLevel.COMMUNITY
    threshold: int = Field(ge=2, description="requests in one window that make a hot spot")
    window: Duration = timedelta(hours=1)
    step: Duration | None = Field(
        default=None,
        description="how often a window starts: whole seconds dividing the window"
        " (default: the largest such part of at most a sixth of it)",
    )

    @property
    def label(self) -> str:
        """The rule's name, or what it watches."""
        return self.name or f"{self.category} per {self.level.value}"

    @property
    def hop(self) -> timedelta:
        """How far apart the rule's windows start: ``step``, or the largest whole number of
        seconds that divides the window and is at most a sixth of it (1 s at least)."""
        if self.step is not None:
            return self.step
        seconds = int(self.window.total_seconds())
        most = max(1, seconds // HOTSPOT_HOPS)
        return timedelta(seconds=next(d for d in range(most, 0, -1) if seconds % d == 0))

    def window_problem(self) -> tuple[str, str] | None:
        """The field and what is wrong with the window or its step, if anything: windows
        must tile time in whole seconds, as the stream table counts them."""
        window, step, second = self.window, self.step, timedelta(seconds=1)
        if window <= timedelta(0):
            return "window", "a hotspot window must be > 0s"
        if window % second:
            return "window", f"a hotspot window must be whole seconds, not {window}"
        if step is None:
            return None
        if step <= timedelta(0):
            return "step", "a hotspot step must be > 0s"
        if step > window or step % second or window % step:
            return "step", f"a hotspot step must divide its window ({window}) into whole seconds"
        return None


class DistrictConfig(_Model):
    """A whole district file."""

    district: str
    name: str
    timezone: str = "Asia/Shanghai"
    business_hours: Hours = Hours()
    areas: tuple[Area, ...] = ()
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]
    routes: tuple[Route, ...] = ()
    peers: tuple[Peer, ...] = ()
    sla: SlaPolicy = SlaPolicy()
    notifications: NotificationPolicy = NotificationPolicy()
    duplicates: DuplicatePolicy = DuplicatePolicy()
    hotspots: tuple[Hotspot, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> DistrictConfig:
        """Refuse a file that names a unit, area, category or zone that does not exist.

        Every such mistake is reported at once, each at its own place in the
        file, so the person fixing it does not discover them one load at a time.
        """
        problems = self._reference_problems()
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("reference", message), loc=loc, input=None
                    )
                    for loc, message in problems
                ],
            )
        return self

    def _reference_problems(self) -> list[tuple[Loc, str]]:
        """Each name in the file that points at nothing, with where it is."""
        problems: list[tuple[Loc, str]] = []
        if not _DISTRICT_ID.match(self.district):
            problems.append(
                (
                    ("district",),
                    f"district id {self.district!r} must be lower-case letters, digits and"
                    " dashes (it names queues, topics and metrics)",
                )
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append((("timezone",), f"unknown timezone {self.timezone!r}"))
        for section, ids in (
            ("units", [u.id for u in self.units]),
            ("areas", [a.id for a in self.areas]),
            ("categories", [c.id for c in self.categories]),
        ):
            seen: set[str] = set()
            for index, item_id in enumerate(ids):
                if item_id in seen:
                    problems.append(((section, index, "id"), f"id {item_id!r} appears twice"))
                seen.add(item_id)
        units, areas = set(self.unit_ids), {a.id for a in self.areas}
        for index, area in enumerate(self.areas):
            if area.parent is not None and area.parent not in areas:
                problems.append(
                    (
                        ("areas", index, "parent"),
                        f"area {area.id!r} has unknown parent {area.parent!r}",
                    )
                )
        for index, unit in enumerate(self.units):
            where = f"unit {unit.id!r}"
            if unit.supervisor is not None and unit.supervisor not in units:
                problems.append(
                    (
                        ("units", index, "supervisor"),
                        f"{where} has unknown supervisor {unit.supervisor!r}",
                    )
                )
            problems += self._unknown_areas(("units", index, "areas"), where, unit.areas, areas)
            problems += self._unknown_categories(
                ("units", index, "categories"), where, unit.categories
            )
        for index, route in enumerate(self.routes):
            where = f"route {route.name!r}"
            field = "pool" if route.pool else "unit"
            targets = route.pool or (() if route.unit == AREA_OWNER else (route.unit or "",))
            for target in targets:
                if target not in units:
                    problems.append(
                        (("routes", index, field), f"{where} sends to unknown unit {target!r}")
                    )
            match = ("routes", index, "match")
            problems += self._unknown_areas((*match, "area"), where, route.match.area, areas)
            problems += self._unknown_categories(
                (*match, "category"),
                where,
                tuple(c.removeprefix("=") for c in route.match.category),
            )
        seen_overrides: set[str] = set()
        for index, override in enumerate(self.sla.categories):
            loc = ("sla", "categories", index, "category")
            if override.category in seen_overrides:
                problems.append((loc, f"sla override for {override.category!r} appears twice"))
            seen_overrides.add(override.category)
            problems += self._unknown_categories(loc, "sla override", (override.category,))
        for role in ("supervision_group", "leadership"):
            unit_id = getattr(self.sla, role)
            if unit_id is not None and unit_id not in units:
                problems.append((("sla", role), f"sla.{role} names unknown unit {unit_id!r}"))
        for index, hotspot in enumerate(self.hotspots):
            spot: Loc = ("hotspots", index, "category")
            problems += self._unknown_categories(spot, "hotspot", (hotspot.category,))
            problem = hotspot.window_problem()
            if problem is not None:
                field, message = problem
                problems.append((("hotspots", index, field), message))
        return problems

    def _unknown_areas(
        self, loc: Loc, where: str, codes: tuple[str, ...], areas: set[str]
    ) -> list[tuple[Loc, str]]:
        """Each code that no area of the file has, even when the file lists no areas at all.

        A file without areas is not a licence to name any code: a rule matching an
        unlisted area could never see a request located there, so it is a typo.
        """
        return [
            (loc, f"{where} names unknown area {code!r}") for code in codes if code not in areas
        ]

    def _unknown_categories(
        self, loc: Loc, where: str, ids: tuple[str, ...]
    ) -> list[tuple[Loc, str]]:
        return [
            (loc, f"{where} names unknown category {category!r}")
            for category in ids
            if not self.category_known(category)
        ]

    @property
    def unit_ids(self) -> tuple[str, ...]:
        """Every unit's id, in file order."""
        return tuple(u.id for u in self.units)

    @property
    def gateway_channels(self) -> tuple[str, ...]:
        """The AMQP gateway channels the district's notifications use, citizen's first."""
        names = [self.notifications.citizen_channel]
        names += [c.channel for u in self.units for c in u.contacts if c.gateway]
        return tuple(dict.fromkeys(names))

    def unit(self, unit_id: str) -> Unit | None:
        """The unit with this id, if the district has one."""
        return next((u for u in self.units if u.id == unit_id), None)

    def sees_caller(self, unit_id: str, handling: bool) -> bool:
        """Say whether a unit sees callers' personal data, on a task (or on a copy)."""
        unit = self.unit(unit_id)
        policy = unit.caller_details if unit else CallerDetails.NEVER
        return policy is CallerDetails.ALWAYS or (
            policy is CallerDetails.WHEN_HANDLING and handling
        )

    def category_known(self, category: str) -> bool:
        """Say whether ``category`` is one the district lists."""
        return any(c.id == category for c in self.categories)

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone: business hours and time windows are local times."""
        return ZoneInfo(self.timezone)


def _as_written(value: Any) -> Any:
    """A default value in the form a district file writes it (``2h``, ``08:30``, ``22:00-06:00``).

    The loader reads these forms; pydantic would show ``PT2H`` and ``08:30:00``,
    which a person copying a default from the schema into a file would have refused.
    """
    if isinstance(value, TimeWindow):
        return str(value)
    if isinstance(value, BaseModel):
        return {
            field.alias or name: _as_written(getattr(value, name))
            for name, field in type(value).model_fields.items()
        }
    if isinstance(value, dict):
        return {_as_written(k): _as_written(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_as_written(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        plain = not (value.second or value.microsecond or value.tzinfo)
        return value.strftime("%H:%M") if plain else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class _DistrictSchema(GenerateJsonSchema):
    """Pydantic's schema, but with each default shown in the district file's own form."""

    def encode_default(self, dft: Any) -> Any:
        """Encode a field's default as the file would write it."""
        return super().encode_default(_as_written(dft))


def json_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of a district file.

    It must take every file the loader takes, short forms included, so that an
    editor or a CI check that uses it flags only real mistakes. It is looser
    than the loader where the loader checks across the file (unknown names,
    ladders that climb): those are what ``hotline config check`` is for.
    """
    schema = DistrictConfig.model_json_schema(by_alias=True, schema_generator=_DistrictSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Hotline district file"
    return schema
