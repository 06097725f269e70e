"""Who must act on a request, and why.

The decision is a pure function of the request, the district's rules, the
time and the units' open tasks, so that it can be replayed, tested and
explained: every rule tried says which of its conditions failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any, TypeVar

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
        return self._say("; ".join(f"{t.rule}: {t.failed}" for t in self.tried if t.failed))

    def _say(self, skipped: str) -> str:
        """The one line, given the rules skipped and why, as ``rule: reason; ...``."""
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

    _trials: Callable[[], tuple[tuple[Trial, ...], str]]

    def __init__(
        self,
        unit: str | None,
        rule: str,
        location: Location,
        observers: tuple[str, ...],
        trials: Callable[[], tuple[tuple[Trial, ...], str]],
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
        return self._worked_out()[0]

    def explain(self) -> str:
        """As ``Decision.explain``, the skipped rules' text joined from ready-made pieces."""
        return self._say(self._worked_out()[1])

    def _worked_out(self) -> tuple[tuple[Trial, ...], str]:
        known: tuple[tuple[Trial, ...], str] | None = self.__dict__.get("_known")
        if known is None:
            known = self._trials()
            object.__setattr__(self, "_known", known)
        return known

    def _fields(self) -> tuple[Any, ...]:
        return (self.unit, self.rule, self.location, self.tried, self.observers, self.transfer_to)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self._fields() == _Deferred._fields(other)  # type: ignore[arg-type]

    def __hash__(self) -> int:
        return hash(self._fields())

    def as_dict(self) -> dict[str, Any]:
        """What ``asdict`` gives, built directly: the router records it for every ticket."""
        where = self.location
        return {
            "unit": self.unit,
            "rule": self.rule,
            "location": {
                "chain": where.chain,
                "source": where.source,
                "note": where.note,
                "peer": where.peer,
            },
            "tried": tuple(
                {"rule": t.rule, "failed": t.failed, "observed_by": t.observed_by}
                for t in self.tried
            ),
            "observers": self.observers,
            "transfer_to": self.transfer_to,
        }

    def __repr__(self) -> str:
        return repr(Decision(*self._fields()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Decision, self._fields())


@dataclass(frozen=True, slots=True)
class _Rule:
    """A route's matchers compiled once per config into cheap checks, in list order."""

    index: int
    route: Route
    areas: frozenset[str]
    urgency: frozenset[Urgency]
    channel: frozenset[Channel]
    business: bool | None
    window: TimeWindow | None

    def fits_at(self, moment: _Moment) -> bool:
        """Say whether the moment passes the rule's business hours, then its time window."""
        if self.business is not None and moment.in_business_hours() != self.business:
            return False
        return self.window is None or _within(self.window, moment.time_of_day())


class _Moment:
    """The request's local moment, as the rules of one decision look at it.

    Whether business hours are open, and the naive time of day, are each worked
    out when a rule first asks and then kept: most decisions try rules that ask
    neither, and the rest would otherwise work them out once per rule.
    """

    __slots__ = ("_business", "_hours", "_local", "_time")

    def __init__(self, hours: Hours, local: datetime) -> None:
        self._hours = hours
        self._local = local
        self._business: bool | None = None
        self._time: time | None = None

    def in_business_hours(self) -> bool:
        """Say whether the district's business hours are open at this moment."""
        if self._business is None:
            self._business = _open(self._hours, self._local)
        return self._business

    def time_of_day(self) -> time:
        """The local time of day, without its zone, as time windows are written."""
        if self._time is None:
            self._time = self._local.time().replace(tzinfo=None)
        return self._time


#: How many (category, area chain) pairs keep their list of candidate rules (small tuples).
_CANDIDATES_KEPT = 1 << 16
#: How many pairs keep the passed-over rules' trials: a reference per rule each, so
#: some 40 MB for 300 rules at most, and every pair of a 50-category, 300-area district.
_PASSED_KEPT = 16384
#: How many categories, and area chains, keep a trial per rule that they fail.
_TRIALS_KEPT = 512

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _keep(cache: dict[_Key, _Value], key: _Key, value: _Value, limit: int) -> None:
    """Remember ``value``; a full cache starts afresh (the keys a district meets are few)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def _trial(rule: str, failed: str) -> tuple[Trial, str]:
    """A failed trial with its ``rule: reason`` text, as ``explain`` writes it."""
    return Trial(rule, failed), f"{rule}: {failed}"


class Rules:
    """A district's rules, compiled once per config: areas indexed, hierarchy known.

    Each rule's matchers become sets, and the rules a request can fit by its
    category and areas are listed once per (category, area chain) pair, so a
    decision tests a handful of rules rather than hundreds, and works out
    its explanation only when it is read. The plain evaluation of every
    rule in order (``decide_plainly``) stays the definition: ``decide``
    gives the same decision, ``tried`` and explanation (a property test
    holds them to it).
    """

    def __init__(self, config: DistrictConfig) -> None:
        self.config = config
        self.areas = AreaMap(config)
        self._units = {u.id: u for u in config.units}
        self._uses_load = any(r.pool for r in config.routes)
        self._rules = [
            _Rule(
                index,
                route,
                frozenset(route.match.area),
                frozenset(route.match.urgency),
                frozenset(route.match.channel),
                None if route.match.hours is None else route.match.hours is HoursCondition.BUSINESS,
                route.match.time,
            )
            for index, route in enumerate(config.routes)
        ]
        self._owners: dict[str, tuple[Unit, ...]] = {}
        for unit in config.units:
            for area in unit.areas:
                self._owners[area] = (*self._owners.get(area, ()), unit)
        self._by_category: dict[str, tuple[_Rule, ...]] = {}
        self._candidates: dict[tuple[str, tuple[str, ...]], tuple[_Rule, ...]] = {}
        self._passed: dict[tuple[str, tuple[str, ...]], tuple[tuple[Trial, str] | None, ...]] = {}
        self._category_trials: dict[str, list[tuple[Trial, str] | None]] = {}
        self._area_trials: dict[tuple[str, ...], list[tuple[Trial, str] | None]] = {}

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
            return _transfer(location, location.peer)
        ctx = _Context(
            request,
            location,
            now.astimezone(self.config.zone),
            frozenset(excluded),
            (dict(load) if load and self._uses_load else {}),
        )
        moment = _Moment(self.config.business_hours, ctx.local)
        observers: list[str] = []
        for rule in self._candidates_for(request.category, location.chain):
            # Urgency and channel are tested here, not in a call: this runs for every
            # candidate of every request, and a call each shows in the router's time.
            if rule.urgency and request.urgency not in rule.urgency:
                continue
            if rule.channel and request.channel not in rule.channel:
                continue
            if (rule.business is not None or rule.window is not None) and not rule.fits_at(moment):
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

    def _candidates_for(self, category: str, chain: tuple[str, ...]) -> tuple[_Rule, ...]:
        """The rules a request of ``category`` located in ``chain`` can fit, worked out once."""
        candidates = self._candidates.get((category, chain))
        return self._fitting(category, chain) if candidates is None else candidates

    def _explain(self, ctx: _Context) -> tuple[tuple[Trial, ...], str]:
        """``tried`` as ``_evaluate`` gives it, the passed-over rules' trials taken ready-made.

        A rule that is not a candidate for the request's (category, area
        chain) failed on its category or its area, and that trial depends on
        nothing else: it is built once per category or chain and reused. Only
        the candidates are tried afresh, in order, up to the deciding rule.
        """
        key = (ctx.request.category, ctx.location.chain)
        candidates = self._candidates_for(*key)
        passed = self._passed.get(key)
        if passed is None:
            passed = self._passed_over(*key)
        tried: list[Trial] = []
        skipped: list[str] = []  # "rule: reason", as explain() joins them
        observers: list[str] = []
        start = 0
        for rule in (*candidates, None):
            run = [p for p in passed[start : len(passed) if rule is None else rule.index] if p]
            tried += [trial for trial, _ in run]
            skipped += [text for _, text in run]
            if rule is None:
                break
            start = rule.index + 1
            route = rule.route
            failed = _why_not(route, ctx, self.config.business_hours)
            target: str | None = None
            if failed is None:
                target, failed = self._target(route, ctx)
            if failed is not None or target is None:
                tried.append(Trial(route.name, failed))
                if failed:
                    skipped.append(f"{route.name}: {failed}")
                continue
            if route.observe:
                if target not in observers:
                    observers.append(target)
                tried.append(Trial(route.name, None, (target,)))
                continue
            tried.append(Trial(route.name, None))
            break
        return tuple(tried), "; ".join(skipped)

    def _passed_over(
        self, category: str, chain: tuple[str, ...]
    ) -> tuple[tuple[Trial, str] | None, ...]:
        """For each rule, its failed trial and text if the category or area rules it out."""
        by_category = self._category_trials.get(category)
        if by_category is None:
            by_category = [
                None
                if not r.route.match.category
                or any(under(category, c) for c in r.route.match.category)
                else _trial(
                    r.route.name,
                    f"category {category} not under {', '.join(r.route.match.category)}",
                )
                for r in self._rules
            ]
            _keep(self._category_trials, category, by_category, _TRIALS_KEPT)
        by_area = self._area_trials.get(chain)
        if by_area is None:
            where = " < ".join(chain) or "(not located)"
            by_area = [
                None
                if not r.areas or not r.areas.isdisjoint(chain)
                else _trial(r.route.name, f"area {where} not in {', '.join(r.route.match.area)}")
                for r in self._rules
            ]
            _keep(self._area_trials, chain, by_area, _TRIALS_KEPT)
        passed = tuple(c or a for c, a in zip(by_category, by_area, strict=True))
        _keep(self._passed, (category, chain), passed, _PASSED_KEPT)
        return passed

    def _fitting(self, category: str, chain: tuple[str, ...]) -> tuple[_Rule, ...]:
        """The rules, in order, whose category and area matchers a request can pass."""
        by_category = self._by_category.get(category)
        if by_category is None:
            by_category = tuple(
                rule
                for rule in self._rules
                if not rule.route.match.category
                or any(under(category, c) for c in rule.route.match.category)
            )
            _keep(self._by_category, category, by_category, _TRIALS_KEPT)
        fitting = tuple(
            rule for rule in by_category if not rule.areas or not rule.areas.isdisjoint(chain)
        )
        _keep(self._candidates, (category, chain), fitting, _CANDIDATES_KEPT)
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

        The definition ``decide`` must agree with, kept for tests, the benchmark
        and anyone who wants to see the rules applied without shortcuts.
        """
        location = self.areas.locate(request.area_code, request.lat, request.lon)
        if location.peer is not None:
            return _transfer(location, location.peer)
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


def _transfer(location: Location, peer: str) -> Decision:
    """The decision for a request located in the peer district ``peer``: no rule is tried."""
    return Decision(None, f"transfer to {peer}", location, (), (), peer)


def _explainer(rules: Rules, ctx: _Context) -> Callable[[], tuple[tuple[Trial, ...], str]]:
    """Work out ``tried`` later from the same request, moment, exclusions and load."""
    return lambda: rules._explain(ctx)


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
