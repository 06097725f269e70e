"""Who must act on a request, and why.

The decision is a pure function of the request, the district's rules, the
time and the units' open tasks, so that it can be replayed, tested and
explained: every rule tried says which of its conditions failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from functools import cached_property
from typing import Any

from hotline.shared.domain.config import (
    AREA_OWNER,
    DistrictConfig,
    Hours,
    HoursCondition,
    Route,
    TimeWindow,
    Unit,
)
from hotline.shared.domain.location import AreaMap, Location
from hotline.shared.domain.ticket import Channel, Urgency

#: The rule name recorded when no rule fits: a dispatcher assigns by hand.
TRIAGE_RULE = "default: manual triage"

#: The outcome of a request that no rule fits.
TRIAGE_OUTCOME = "manual triage"


def unit_outcome(unit: str) -> str:
    """The outcome of a request given to ``unit``."""
    return f"unit {unit}"


def transfer_outcome(district: str) -> str:
    """The outcome of a request owed to the peer ``district``."""
    return f"transfer to {district}"


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class RouteRequest:
    """The parts of a ticket that routing looks at."""

    category: str
    urgency: Urgency
    channel: Channel = Channel.PHONE
    area_code: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Trial:
    """One rule tried: ``failed`` names the condition that did not hold, or is None."""

    rule: str
    failed: str | None
    observed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Where the request goes and why.

    ``unit`` is the unit that must act; None means manual triage, or a
    transfer when ``transfer_to`` names a peer district. ``observers`` get a
    copy and owe nothing. ``tried`` lists every rule looked at, in order, with
    the condition that failed; it is worked out when first asked for, since
    finding the unit needs only the rules that can fit.
    """

    unit: str | None
    rule: str
    location: Location
    observers: tuple[str, ...] = ()
    transfer_to: str | None = None
    _trials: Callable[[], tuple[Trial, ...]] = field(default=tuple, repr=False, compare=False)

    @cached_property
    def tried(self) -> tuple[Trial, ...]:
        """Every rule tried up to the one that decided, each with why it did not fit."""
        return self._trials()

    def explain(self) -> str:
        """Say the decision in one line a dispatcher can read."""
        if self.transfer_to is not None:
            head = f"transfer to district {self.transfer_to}"
        elif self.unit is None:
            head = "manual triage: no rule fits"
        else:
            head = f"unit {self.unit} by rule {self.rule!r}"
        parts = [head]
        if self.location.chain:
            parts.append(f"located in {' < '.join(self.location.chain)}")
        if self.location.note:
            parts.append(self.location.note)
        if self.observers:
            parts.append(f"copies to {', '.join(self.observers)}")
        skipped = "; ".join(f"{t.rule}: {t.failed}" for t in self.tried if t.failed)
        if skipped:
            parts.append(f"skipped {skipped}")
        return " | ".join(parts)

    @property
    def outcome(self) -> str:
        """Where the request goes, in the words ``route replay`` compares old and new by."""
        if self.transfer_to is not None:
            return transfer_outcome(self.transfer_to)
        return unit_outcome(self.unit) if self.unit is not None else TRIAGE_OUTCOME

    def as_dict(self) -> dict[str, Any]:
        """The whole decision as JSON-ready data, for the ledger and ``--json``."""
        return {
            "unit": self.unit,
            "rule": self.rule,
            "location": asdict(self.location),
            "tried": [asdict(trial) for trial in self.tried],
            "observers": self.observers,
            "transfer_to": self.transfer_to,
        }


@dataclass(frozen=True)
class _Context:
    request: RouteRequest
    location: Location
    local: datetime
    excluded: frozenset[str]
    load: Mapping[str, int] = field(default_factory=dict)


class Router:
    """A district's rules, compiled once per config: areas indexed, hierarchy known."""

    def __init__(self, config: DistrictConfig) -> None:
        self.config = config
        self.areas = AreaMap(config)
        self._units = {u.id: u for u in config.units}
        self._rules = _RuleIndex(config.routes)

    @property
    def uses_load(self) -> bool:
        """Say whether some rule needs the units' open task counts (a pool)."""
        return any(r.pool for r in self.config.routes)

    def decide(
        self,
        request: RouteRequest,
        *,
        now: datetime,
        excluded: Iterable[str] = (),
        load: Mapping[str, int] | None = None,
    ) -> Decision:
        """The first rule that fits picks the unit; earlier ``continue`` rules add observers.

        ``excluded`` holds the units that returned this task: never chosen
        again. ``load`` gives each unit's open tasks, for pools. A request
        located in a peer district is transferred before any rule is tried.
        Only the rules that can fit the request's category and areas are
        looked at; the others are walked only if the explanation is asked for.
        """
        location = self.areas.locate(request.area_code, request.lat, request.lon)
        if location.peer is not None:
            return Decision(None, f"transfer to {location.peer}", location, (), location.peer)
        ctx = _Context(
            request, location, now.astimezone(self.config.zone), frozenset(excluded), load or {}
        )
        candidates = self._rules.candidates(request.category, location.chain)
        routes = self.config.routes
        observers: list[str] = []
        decided: tuple[str | None, str, int] = (None, TRIAGE_RULE, len(routes))
        for index in candidates:
            route = routes[index]
            target = self._fits(route, ctx)
            if target is None:
                continue
            if route.observe:
                if target not in observers:
                    observers.append(target)
                continue
            decided = (target, route.name, index + 1)
            break
        unit, rule, upto = decided
        observing = tuple(o for o in observers if o != unit)

        def trials() -> tuple[Trial, ...]:
            return tuple(self._trial(route, ctx) for route in routes[:upto])

        return Decision(unit, rule, location, observing, None, trials)

    def _fits(self, route: Route, ctx: _Context) -> str | None:
        """The unit the rule sends to, or None when it does not fit."""
        if _why_not(route, ctx, self.config.business_hours) is not None:
            return None
        return self._target(route, ctx)[0]

    def _trial(self, route: Route, ctx: _Context) -> Trial:
        """One rule looked at again for the explanation: the condition that failed, if any."""
        failed = _why_not(route, ctx, self.config.business_hours)
        target: str | None = None
        if failed is None:
            target, failed = self._target(route, ctx)
        if failed is not None or target is None:
            return Trial(route.name, failed)
        return Trial(route.name, None, (target,) if route.observe else ())

    def _target(self, route: Route, ctx: _Context) -> tuple[str | None, str | None]:
        """The unit a fitting rule sends to, or why it cannot send anywhere."""
        if route.pool:
            return self._from_pool(route.pool, ctx)
        if route.unit == AREA_OWNER:
            return self._area_owner(ctx)
        assert route.unit is not None
        if route.unit in ctx.excluded:
            return None, f"unit {route.unit} returned this task"
        return route.unit, None

    def _from_pool(self, pool: tuple[str, ...], ctx: _Context) -> tuple[str | None, str | None]:
        """The least busy open unit of the pool that has room; ties to the first listed."""
        open_units = []
        for order, unit_id in enumerate(pool):
            unit = self._units[unit_id]
            busy = ctx.load.get(unit_id, 0)
            if unit_id in ctx.excluded:
                continue
            if unit.capacity is not None and busy >= unit.capacity:
                continue
            if unit.hours is not None and not _open(unit.hours, ctx.local):
                continue
            open_units.append((busy, order, unit_id))
        if not open_units:
            return None, "no unit of the pool is free (returned it, full or closed)"
        return min(open_units)[2], None

    def _area_owner(self, ctx: _Context) -> tuple[str | None, str | None]:
        """The unit serving the most specific area of the request that has one."""
        if not ctx.location.chain:
            return None, "area-owner needs a located request"
        for area in ctx.location.chain:
            owners = [u for u in self.config.units if area in u.areas and _serves(u, ctx)]
            for unit in owners:
                if unit.id not in ctx.excluded:
                    return unit.id, None
        return None, f"no unit left that serves {' < '.join(ctx.location.chain)}"


class _RuleIndex:
    """Which rules can fit a request, by its category and its areas, in rule order.

    A rule that names categories can fit only a request under one of them; a
    rule that names no category but areas, only a request located in one of
    them; a rule that names neither, any request. The other conditions are
    still checked rule by rule; this only skips rules that cannot fit.
    """

    #: Distinct (category, areas) pairs remembered; a district has a few thousand.
    MEMO = 20_000

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._by_category: dict[str, list[int]] = {}
        self._by_exact: dict[str, list[int]] = {}
        self._by_area: dict[str, list[int]] = {}
        self._always: list[int] = []
        for index, route in enumerate(routes):
            if route.match.category:
                for pattern in route.match.category:
                    if pattern.startswith("="):
                        self._by_exact.setdefault(pattern[1:], []).append(index)
                    else:
                        self._by_category.setdefault(pattern, []).append(index)
            elif route.match.area:
                for area in route.match.area:
                    self._by_area.setdefault(area, []).append(index)
            else:
                self._always.append(index)
        self._memo: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}

    def candidates(self, category: str, chain: tuple[str, ...]) -> tuple[int, ...]:
        """The rules that may fit, in rule order."""
        key = (category, chain)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self.MEMO:
                self._memo.clear()
            found = self._memo[key] = self._lookup(category, chain)
        return found

    def _lookup(self, category: str, chain: tuple[str, ...]) -> tuple[int, ...]:
        hits = set(self._always)
        hits.update(self._by_exact.get(category, ()))
        parts = category.split(".")
        for depth in range(1, len(parts) + 1):
            hits.update(self._by_category.get(".".join(parts[:depth]), ()))
        for area in chain:
            hits.update(self._by_area.get(area, ()))
        return tuple(sorted(hits))


def under(category: str, pattern: str) -> bool:
    """Say whether ``category`` fits ``pattern``: itself or below it; ``=x`` is x alone."""
    if pattern.startswith("="):
        return category == pattern[1:]
    return category == pattern or category.startswith(pattern + ".")


def _serves(unit: Unit, ctx: _Context) -> bool:
    return not unit.categories or any(under(ctx.request.category, c) for c in unit.categories)


def _within(window: TimeWindow, moment: time) -> bool:
    if window.start <= window.end:
        return window.start <= moment < window.end
    return moment >= window.start or moment < window.end  # spans midnight


def _open(hours: Hours, local: datetime) -> bool:
    """Say whether ``local`` falls in the opening hours (a night window counts from its day)."""
    moment = local.time().replace(tzinfo=None)
    day = _WEEKDAYS[local.weekday()]
    if hours.open <= hours.close:
        return day in hours.days and hours.open <= moment < hours.close
    yesterday = _WEEKDAYS[(local.weekday() - 1) % 7]
    return (day in hours.days and moment >= hours.open) or (
        yesterday in hours.days and moment < hours.close
    )


def in_business_hours(config: DistrictConfig, now: datetime) -> bool:
    """Say whether the district's business hours are open at ``now`` (any zone), in its zone."""
    return _open(config.business_hours, now.astimezone(config.zone))


def _why_not(route: Route, ctx: _Context, business: Hours) -> str | None:
    """Name the first condition of ``route`` that the request fails, or None if it fits."""
    match, request = route.match, ctx.request
    if match.category and not any(under(request.category, c) for c in match.category):
        return f"category {request.category} not under {', '.join(match.category)}"
    if match.area and not set(match.area) & set(ctx.location.chain):
        where = " < ".join(ctx.location.chain) or "(not located)"
        return f"area {where} not in {', '.join(match.area)}"
    if match.urgency and request.urgency not in match.urgency:
        return f"urgency {request.urgency} not in {', '.join(match.urgency)}"
    if match.channel and request.channel not in match.channel:
        return f"channel {request.channel} not in {', '.join(match.channel)}"
    if match.hours is not None:
        inside = _open(business, ctx.local)
        if inside != (match.hours is HoursCondition.BUSINESS):
            return f"{ctx.local:%a %H:%M} is not {match.hours.value}"
    if match.time is not None and not _within(match.time, ctx.local.time().replace(tzinfo=None)):
        return f"{ctx.local:%H:%M} is outside {match.time}"
    return None
