"""Where a request is: its area, every area above it, or the peer district that holds it.

A call-taker gives an area code, the caller's phone gives coordinates, or
both. The code is what a person chose, so it wins when the two disagree; the
disagreement is kept, because a dispatcher may want to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy
import shapely
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from hotline.shared.domain.config import AreaLevel, DistrictConfig


class GeometryError(ValueError):
    """An area's geometry is not a usable GeoJSON polygon."""


@dataclass(frozen=True)
class Location:
    """The resolved location of a request.

    ``chain`` holds our areas from the most specific up to the district;
    empty when the request is outside every area we know. ``peer`` names the
    neighbouring district that holds the location, if one does.
    """

    chain: tuple[str, ...] = ()
    source: str = "none"
    note: str | None = None
    peer: str | None = None

    @property
    def area(self) -> str | None:
        """The most specific area, if any."""
        return self.chain[0] if self.chain else None


def _polygon(owner: str, geometry: dict[str, Any] | str | None) -> BaseGeometry | None:
    if geometry is None:
        return None
    if isinstance(geometry, str):
        raise GeometryError(f"{owner}: geometry file {geometry!r} was not loaded")
    try:
        geom = shape(geometry.get("geometry", geometry))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GeometryError(f"{owner}: not a GeoJSON geometry: {exc}") from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise GeometryError(f"{owner}: geometry must be a Polygon or MultiPolygon")
    if not geom.is_valid:
        raise GeometryError(f"{owner}: geometry is not a valid polygon (self-intersecting?)")
    return geom


class AreaMap:
    """The district's area hierarchy and geometries, indexed once per config."""

    def __init__(self, config: DistrictConfig) -> None:
        ids = [a.id for a in config.areas]
        self._levels = {a.id: a.level for a in config.areas}
        self._parents: dict[str, str | None] = {
            a.id: a.parent if a.parent is not None else _longest_prefix(a.id, ids)
            for a in config.areas
        }
        self._chains = {area: self._walk(area) for area in self._parents}
        shapes = [(a.id, _polygon(f"area {a.id}", a.geometry)) for a in config.areas]
        self._shaped = [(area, geom) for area, geom in shapes if geom is not None]
        # Prepared polygons answer "does it cover this point" without rebuilding their
        # edge index on every call; the ids are ranked once, most specific then lowest.
        self._geoms = numpy.array([geom for _, geom in self._shaped], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = STRtree(self._geoms)
        self._rank = {area: (-len(self.chain(area)), area) for area, _ in self._shaped}
        self._peer_codes = [(p.district, code) for p in config.peers for code in p.areas]
        peers = [(p.district, _polygon(f"peer {p.district}", p.geometry)) for p in config.peers]
        self._peer_shapes = [(peer, geom) for peer, geom in peers if geom is not None]

    def known(self, area: str) -> bool:
        """Say whether ``area`` is one of ours."""
        return area in self._parents

    def chain(self, area: str) -> tuple[str, ...]:
        """``area`` and every area above it, most specific first."""
        known = self._chains.get(area)
        return known if known is not None else self._walk(area)

    def _walk(self, area: str) -> tuple[str, ...]:
        """Climb the parents from ``area``: done once per area when the map is built."""
        chain: list[str] = []
        current: str | None = area
        while current is not None and current not in chain:
            chain.append(current)
            current = self._parents.get(current)
        return tuple(chain)

    def community(self, location: Location) -> str | None:
        """The community a location lies in (its most specific area when none is a community):
        the "same place" that duplicate requests share."""
        for area in location.chain:
            if self._levels.get(area) is AreaLevel.COMMUNITY:
                return area
        return location.area

    def _related(self, one: str, other: str) -> bool:
        """Say whether one area lies within the other, either way round."""
        return one in self.chain(other) or other in self.chain(one)

    def peer_of_code(self, code: str) -> str | None:
        """The peer district whose areas hold this code, if any."""
        owners = [
            (len(prefix), peer) for peer, prefix in self._peer_codes if code.startswith(prefix)
        ]
        return max(owners)[1] if owners else None

    def area_at(self, lon: float, lat: float) -> str | None:
        """Our most specific area covering the point; on a shared border, the lowest id."""
        near = self._tree.query(Point(lon, lat))
        # For a point, "intersects" is "covers": inside or on the boundary.
        inside = near[shapely.intersects_xy(self._geoms[near], lon, lat)]
        hits: list[str] = [self._shaped[i][0] for i in inside.tolist()]
        if not hits:
            return None
        return min(hits, key=self._rank.__getitem__)

    def peer_at(self, lon: float, lat: float) -> str | None:
        """The peer district whose geometry covers the point, if any."""
        point = Point(lon, lat)
        return next((peer for peer, geom in self._peer_shapes if geom.covers(point)), None)

    def locate(self, area_code: str | None, lat: float | None, lon: float | None) -> Location:
        """Resolve a request's location; the area code wins over coordinates."""
        by_point: str | None = None
        has_point = lat is not None and lon is not None
        if has_point:
            assert lat is not None and lon is not None
            by_point = self.area_at(lon, lat)
        if area_code is not None:
            if not self.known(area_code):
                peer = self.peer_of_code(area_code)
                note = None if peer else f"area code {area_code} is not one of ours"
                return Location((), "area-code", note, peer)
            chain = self.chain(area_code)
            note = None
            if has_point and by_point is None:
                note = f"coordinates lie outside every area; area code {area_code} wins"
            elif by_point is not None and not self._related(by_point, area_code):
                note = f"coordinates lie in area {by_point}, not {area_code}; the area code wins"
            return Location(chain, "area-code", note)
        if not has_point:
            return Location()
        assert lat is not None and lon is not None
        if by_point is not None:
            return Location(self.chain(by_point), "coordinates")
        peer = self.peer_at(lon, lat)
        note = None if peer else f"coordinates ({lat}, {lon}) lie outside every area"
        return Location((), "coordinates", note, peer)


def _longest_prefix(code: str, ids: list[str]) -> str | None:
    """The longest other code that starts ``code``: its parent, as administrative codes nest."""
    prefixes = [other for other in ids if other != code and code.startswith(other)]
    return max(prefixes, key=len) if prefixes else None
