"""Who must act on a request, and why.

The decision is a pure function of the request, the district's rules, the
time and the units' open tasks, so that it can be replayed, tested and
explained: every rule tried says which of its conditions failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
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
    copy and owe nothing.
    """

    unit: str | None
    rule: str
    location: Location
    tried: tuple[Trial, ...] = ()
    observers: tuple[str, ...] = ()
    transfer_to: str | None = None

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
        return asdict(self)


@dataclass(frozen=True)
class _Context:
    request: RouteRequest
    location: Location
    local: datetime
    excluded: frozenset[str]
    load: Mapping[str, int] = field(default_factory=dict)


class _Deferred(Decision):
    """A decision whose ``tried`` is worked out when first read.

    Most decisions are acted on and never explained; working out why each of
    hundreds of earlier rules did not fit is most of the cost, so it waits
    until ``tried``, ``explain()`` or ``as_dict()`` asks. It then equals,
    field for field, the decision a plain evaluation of every rule gives.
    """

    _trials: Callable[[], tuple[Trial, ...]]

    def __init__(
        self,
        unit: str | None,
        rule: str,
        location: Location,
        observers: tuple[str, ...],
        trials: Callable[[], tuple[Trial, ...]],
    ) -> None:
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "location", location)
        object.__setattr__(self, "observers", observers)
        object.__setattr__(self, "transfer_to", None)
        object.__setattr__(self, "_trials", trials)

    @property
    def tried(self) -> tuple[Trial, ...]:
        """Every rule tried up to the deciding one, and which condition failed."""
        known: tuple[Trial, ...] | None = self.__dict__.get("_tried")
        if known is None:
            known = self._trials()
            object.__setattr__(self, "_tried", known)
        return known

    def _fields(self) -> tuple[Any, ...]:
        return (self.unit, self.rule, self.location, self.tried, self.observers, self.transfer_to)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self._fields() == _Deferred._fields(other)  # type: ignore[arg-type]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return repr(Decision(*self._fields()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Decision, self._fields())


@dataclass(frozen=True, slots=True)
class _Rule:
    """A route's matchers compiled once per config into cheap checks, in list order."""

    route: Route
    areas: frozenset[str]
    urgency: frozenset[Urgency]
    channel: frozenset[Channel]
    business: bool | None
    window: TimeWindow | None


#: How many (category, area chain) pairs keep their list of candidate rules.
_CANDIDATES_KEPT = 1 << 16


class Router:
    """A district's rules, compiled once per config: areas indexed, hierarchy known.

    Each rule's matchers become sets, and the rules a request can fit by its
    category and areas are listed once per (category, area chain) pair, so a
    decision tests a handful of rules rather than hundreds. The plain
    evaluation of every rule in order (``decide_plainly``) stays the
    definition; ``decide`` gives the same decision and defers the
    explanation to it.
    """

    def __init__(self, config: DistrictConfig) -> None:
        self.config = config
        self.areas = AreaMap(config)
        self._units = {u.id: u for u in config.units}
        self._uses_load = any(r.pool for r in config.routes)
        self._rules = [
            _Rule(
                route,
                frozenset(route.match.area),
                frozenset(route.match.urgency),
                frozenset(route.match.channel),
                None if route.match.hours is None else route.match.hours is HoursCondition.BUSINESS,
                route.match.time,
            )
            for route in config.routes
        ]
        self._owners: dict[str, tuple[Unit, ...]] = {}
        for unit in config.units:
            for area in unit.areas:
                self._owners[area] = (*self._owners.get(area, ()), unit)
        self._candidates: dict[tuple[str, tuple[str, ...]], tuple[_Rule, ...]] = {}

    @property
    def uses_load(self) -> bool:
        """Say whether some rule needs the units' open task counts (a pool)."""
        return self._uses_load

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
        """
        location = self.areas.locate(request.area_code, request.lat, request.lon)
        if location.peer is not None:
            return Decision(None, f"transfer to {location.peer}", location, (), (), location.peer)
        ctx = _Context(
            request,
            location,
            now.astimezone(self.config.zone),
            frozenset(excluded),
            (dict(load) if load and self._uses_load else {}),
        )
        key = (request.category, location.chain)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = self._fitting(*key)
        observers: list[str] = []
        business: bool | None = None
        moment: time | None = None
        for rule in candidates:
            if rule.urgency and request.urgency not in rule.urgency:
                continue
            if rule.channel and request.channel not in rule.channel:
                continue
            if rule.business is not None:
                if business is None:
                    business = _open(self.config.business_hours, ctx.local)
                if business != rule.business:
                    continue
            if rule.window is not None:
                if moment is None:
                    moment = ctx.local.time().replace(tzinfo=None)
                if not _within(rule.window, moment):
                    continue
            target, _ = self._target(rule.route, ctx)
            if target is None:
                continue
            if rule.route.observe:
                if target not in observers:
                    observers.append(target)
                continue
            observing = tuple(o for o in observers if o != target)
            return _Deferred(target, rule.route.name, location, observing, _explainer(self, ctx))
        return _Deferred(None, TRIAGE_RULE, location, tuple(observers), _explainer(self, ctx))

    def _fitting(self, category: str, chain: tuple[str, ...]) -> tuple[_Rule, ...]:
        """The rules, in order, whose category and area matchers a request can pass."""
        fitting = tuple(
            rule
            for rule in self._rules
            if (
                not rule.route.match.category
                or any(under(category, c) for c in rule.route.match.category)
            )
            and (not rule.areas or not rule.areas.isdisjoint(chain))
        )
        if len(self._candidates) >= _CANDIDATES_KEPT:
            self._candidates.clear()
        self._candidates[(category, chain)] = fitting
        return fitting

    def decide_plainly(
        self,
        request: RouteRequest,
        *,
        now: datetime,
        excluded: Iterable[str] = (),
        load: Mapping[str, int] | None = None,
    ) -> Decision:
        """The decision by trying every rule in order, explanation built as it goes.

        The definition ``decide`` must agree with; it explains deferred decisions.
        """
        location = self.areas.locate(request.area_code, request.lat, request.lon)
        if location.peer is not None:
            return Decision(None, f"transfer to {location.peer}", location, (), (), location.peer)
        ctx = _Context(
            request, location, now.astimezone(self.config.zone), frozenset(excluded), load or {}
        )
        return self._evaluate(ctx)

    def _evaluate(self, ctx: _Context) -> Decision:
        """Try every rule in order, saying for each which condition failed."""
        tried: list[Trial] = []
        observers: list[str] = []
        location = ctx.location
        for route in self.config.routes:
            failed = _why_not(route, ctx, self.config.business_hours)
            target: str | None = None
            if failed is None:
                target, failed = self._target(route, ctx)
            if failed is not None or target is None:
                tried.append(Trial(route.name, failed))
                continue
            if route.observe:
                if target not in observers:
                    observers.append(target)
                tried.append(Trial(route.name, None, (target,)))
                continue
            tried.append(Trial(route.name, None))
            observing = tuple(o for o in observers if o != target)
            return Decision(target, route.name, location, tuple(tried), observing)
        return Decision(None, TRIAGE_RULE, location, tuple(tried), tuple(observers))

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
            for unit in self._owners.get(area, ()):  # the units listing it, in file order
                if unit.id not in ctx.excluded and _serves(unit, ctx):
                    return unit.id, None
        return None, f"no unit left that serves {' < '.join(ctx.location.chain)}"


def _explainer(router: Router, ctx: _Context) -> Callable[[], tuple[Trial, ...]]:
    """Work out ``tried`` later from the same request, moment, exclusions and load."""
    return lambda: router._evaluate(ctx).tried


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
