"""The district file's ``areas``: the administrative hierarchy a request is located in."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from hotline.shared.domain.config.checks import Names, Problem
from hotline.shared.domain.config.fields import FileModel


class AreaLevel(StrEnum):
    """The administrative hierarchy, from the whole district down to a grid cell."""

    DISTRICT = "district"
    STREET = "street"
    TOWN = "town"
    COMMUNITY = "community"
    GRID = "grid"


class Area(FileModel):
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


def area_problems(areas: tuple[Area, ...], names: Names) -> list[Problem]:
    """Each parent that names no area of the file."""
    return [
        (("areas", index, "parent"), f"area {area.id!r} has unknown parent {area.parent!r}")
        for index, area in enumerate(areas)
        if area.parent is not None and area.parent not in names.areas
    ]
