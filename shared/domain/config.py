"""The district configuration: areas, categories, units, routes, SLA policy.

One file per district says everything that differs between districts, so the
code stays the same everywhere. The model is validated once at start; a broken
file is refused with the place and the reason rather than half-applied.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hotline.shared.domain.durations import parse_duration
from hotline.shared.domain.ticket import Urgency

_ID = r"^[a-z0-9][a-z0-9_-]*$"
_DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(_Model):
    """An administrative area; codes nest by prefix (district > street > community)."""

    code: str = Field(pattern=r"^[0-9A-Za-z]+$")
    name: str


class Category(_Model):
    """A kind of request; ids nest by dots (``medical.dialysis`` is under ``medical``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
    name: str


class Contact(_Model):
    """Where a unit's people are reached."""

    channel: str
    address: str


class Unit(_Model):
    """A handling unit: street office, town, department, special team."""

    id: str = Field(pattern=_ID)
    name: str
    kind: str = "department"
    areas: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    supervisor: str | None = None


class Match(_Model):
    """What a route looks at; an empty field matches anything."""

    category: tuple[str, ...] = ()
    area: tuple[str, ...] = ()
    urgency: tuple[Urgency, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        """Let a route say ``category: medical`` as well as a list."""
        if isinstance(data, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in data.items()}
        return data


class Route(_Model):
    """One rule of the ordered list: the first whose match fits wins."""

    name: str
    match: Match = Match()
    unit: str


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


class DistrictConfig(_Model):
    """A whole district file."""

    district: str
    name: str
    areas: tuple[Area, ...] = ()
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]
    routes: tuple[Route, ...] = ()
    fallback_unit: str
    sla: SlaPolicy = SlaPolicy()

    @model_validator(mode="after")
    def _references_resolve(self) -> DistrictConfig:
        """Refuse a file whose routes name units that do not exist."""
        if not _DISTRICT_ID.match(self.district):
            raise ValueError(
                f"district id {self.district!r} must be lower-case letters, digits and dashes"
                " (it names queues, topics and metrics)"
            )
        unit_ids = [u.id for u in self.units]
        dupes = sorted({u for u in unit_ids if unit_ids.count(u) > 1})
        if dupes:
            raise ValueError(f"unit ids appear twice: {', '.join(dupes)}")
        known = set(unit_ids)
        for route in self.routes:
            if route.unit not in known:
                raise ValueError(f"route {route.name!r} sends to unknown unit {route.unit!r}")
        if self.fallback_unit not in known:
            raise ValueError(f"fallback_unit {self.fallback_unit!r} is not a unit")
        for unit in self.units:
            if unit.supervisor is not None and unit.supervisor not in known:
                raise ValueError(f"unit {unit.id!r} has unknown supervisor {unit.supervisor!r}")
        missing = [u for u in Urgency if u not in self.sla.sign_for]
        if missing:
            raise ValueError(f"sla.sign_for has no limit for {', '.join(missing)}")
        return self

    @property
    def unit_ids(self) -> tuple[str, ...]:
        """Every unit's id, in file order."""
        return tuple(u.id for u in self.units)

    def category_known(self, category: str) -> bool:
        """Say whether ``category`` is one the district lists."""
        return any(c.id == category for c in self.categories)
