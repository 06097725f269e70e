"""The district configuration: areas, categories, units, routes, peers, SLA policy.

One file per district says everything that differs between districts, so the
code stays the same everywhere. The model is validated once at start (and at
every reload); a broken file is refused with the place and the reason rather
than half-applied.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hotline.shared.domain.durations import parse_duration
from hotline.shared.domain.ticket import Channel, Urgency

_ID = r"^[a-z0-9][a-z0-9_-]*$"
_DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

#: A rule's target that means "the unit serving the request's most specific area".
AREA_OWNER = "area-owner"


def _one_or_many(value: Any) -> Any:
    """Let a file say ``category: medical`` as well as ``category: [medical]``."""
    return [value] if isinstance(value, str) else value


OneOrMany = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]


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


class Contact(_Model):
    """Where a unit's people are reached."""

    channel: str
    address: str


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
    open: time = time(8, 30)
    close: time = time(17, 30)


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


class TimeWindow(_Model):
    """A daily window, ``"22:00-06:00"`` style; it may span midnight."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
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
    urgency: tuple[Urgency, ...] = ()
    channel: tuple[Channel, ...] = ()
    hours: HoursCondition | None = None
    time: TimeWindow | None = None

    @field_validator("urgency", "channel", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _one_or_many(value)


class Route(_Model):
    """One rule of the ordered list.

    Its target is one of ``unit`` (a unit id, or ``area-owner``) and ``pool``
    (the unit with the fewest open tasks wins, ties to the first listed). With
    ``continue`` the target only observes: it gets a copy, and the search for
    the unit that must act goes on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    match: Match = Match()
    unit: str | None = None
    pool: tuple[str, ...] = ()
    observe: bool = Field(default=False, alias="continue")

    @model_validator(mode="after")
    def _one_target(self) -> Route:
        if (self.unit is None) == (not self.pool):
            raise ValueError(f"route {self.name!r} needs exactly one of unit and pool")
        return self


class Peer(_Model):
    """A neighbouring district: requests located in its areas are transferred to its intake."""

    district: str = Field(pattern=_DISTRICT_ID.pattern)
    url: str = Field(pattern=r"^https?://")
    areas: tuple[str, ...] = ()
    geometry: dict[str, Any] | str | None = None
    token: str | None = None


class EscalationStep(_Model):
    """A rung of the ladder, counted from the sign-for deadline."""

    level: int = Field(ge=1)
    name: str
    after: Duration = timedelta(0)


class SlaPolicy(_Model):
    """How long a unit has to sign for a task, by urgency."""

    sign_for: dict[Urgency, Duration] = {
        Urgency.NORMAL: timedelta(hours=2),
        Urgency.URGENT: timedelta(minutes=30),
        Urgency.CRITICAL: timedelta(minutes=10),
    }
    escalation: tuple[EscalationStep, ...] = (EscalationStep(level=1, name="unit-leader"),)


class DuplicatePolicy(_Model):
    """When a new request is linked to an open ticket instead of being routed again.

    Within ``window`` of the open ticket, a request with the same category in the
    same community is a duplicate when the same phone calls, and counts as "also
    reported by" when someone else does. ``0s`` (the default) turns the check off:
    a district turns it on knowingly, since a linked request is not routed.
    """

    window: Duration = timedelta(0)


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
    duplicates: DuplicatePolicy = DuplicatePolicy()

    @model_validator(mode="after")
    def _references_resolve(self) -> DistrictConfig:
        """Refuse a file that names a unit, area, category or zone that does not exist."""
        if not _DISTRICT_ID.match(self.district):
            raise ValueError(
                f"district id {self.district!r} must be lower-case letters, digits and dashes"
                " (it names queues, topics and metrics)"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        _no_duplicates("unit", [u.id for u in self.units])
        _no_duplicates("area", [a.id for a in self.areas])
        _no_duplicates("category", [c.id for c in self.categories])
        units, areas = set(self.unit_ids), {a.id for a in self.areas}
        for area in self.areas:
            if area.parent is not None and area.parent not in areas:
                raise ValueError(f"area {area.id!r} has unknown parent {area.parent!r}")
        for unit in self.units:
            if unit.supervisor is not None and unit.supervisor not in units:
                raise ValueError(f"unit {unit.id!r} has unknown supervisor {unit.supervisor!r}")
            self._known_areas(f"unit {unit.id!r}", unit.areas, areas)
            self._known_categories(f"unit {unit.id!r}", unit.categories)
        for route in self.routes:
            where = f"route {route.name!r}"
            targets = route.pool or (() if route.unit == AREA_OWNER else (route.unit or "",))
            for target in targets:
                if target not in units:
                    raise ValueError(f"{where} sends to unknown unit {target!r}")
            self._known_areas(where, route.match.area, areas)
            self._known_categories(where, tuple(c.removeprefix("=") for c in route.match.category))
        missing = [u for u in Urgency if u not in self.sla.sign_for]
        if missing:
            raise ValueError(f"sla.sign_for has no limit for {', '.join(missing)}")
        return self

    def _known_areas(self, where: str, codes: tuple[str, ...], areas: set[str]) -> None:
        if self.areas:
            for code in codes:
                if code not in areas:
                    raise ValueError(f"{where} names unknown area {code!r}")

    def _known_categories(self, where: str, ids: tuple[str, ...]) -> None:
        for category in ids:
            if not self.category_known(category):
                raise ValueError(f"{where} names unknown category {category!r}")

    @property
    def unit_ids(self) -> tuple[str, ...]:
        """Every unit's id, in file order."""
        return tuple(u.id for u in self.units)

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


def _no_duplicates(what: str, ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{what} ids appear twice: {', '.join(dupes)}")
