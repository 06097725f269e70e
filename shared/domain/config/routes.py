"""The district file's ``routes``: the ordered rules that pick the unit for a request."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from hotline.shared.domain.config.checks import Names, Problem
from hotline.shared.domain.config.fields import FileModel, OneOrMany, OneOrManyOf
from hotline.shared.domain.config.hours import TimeWindow
from hotline.shared.domain.ticket import Channel, Urgency

#: A rule's target that means "the unit serving the request's most specific area".
AREA_OWNER = "area-owner"


class HoursCondition(StrEnum):
    """A rule's view of the district's business hours."""

    BUSINESS = "business"
    AFTER = "after-hours"


class Match(FileModel):
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


class Route(FileModel):
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


def route_problems(routes: tuple[Route, ...], names: Names) -> list[Problem]:
    """Each unit a route sends to, and each area and category it matches, that is unknown."""
    problems: list[Problem] = []
    for index, route in enumerate(routes):
        where = f"route {route.name!r}"
        field = "pool" if route.pool else "unit"
        targets = route.pool or (() if route.unit == AREA_OWNER else (route.unit or "",))
        problems += [
            (("routes", index, field), f"{where} sends to unknown unit {target!r}")
            for target in targets
            if target not in names.units
        ]
        match = ("routes", index, "match")
        problems += names.unknown_areas((*match, "area"), where, route.match.area)
        problems += names.unknown_categories(
            (*match, "category"), where, (c.removeprefix("=") for c in route.match.category)
        )
    return problems
