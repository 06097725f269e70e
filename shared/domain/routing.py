"""Who must act on a request, and why.

The decision is a pure function of the request and the district's rules so
that it can be replayed, tested and explained: every rule tried says which of
its conditions failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.shared.domain.config import DistrictConfig, Route
from hotline.shared.domain.ticket import Urgency


@dataclass(frozen=True)
class RouteRequest:
    """The parts of a ticket that routing looks at."""

    category: str
    area_code: str | None
    urgency: Urgency


@dataclass(frozen=True)
class Trial:
    """One rule tried: ``failed`` names the condition that did not hold, or is None."""

    rule: str
    failed: str | None


@dataclass(frozen=True)
class Decision:
    """The unit chosen, the rule that chose it, and every rule tried before it."""

    unit: str
    rule: str
    tried: tuple[Trial, ...]

    def explain(self) -> str:
        """Say the decision in one line a dispatcher can read."""
        skipped = "; ".join(f"{t.rule}: {t.failed}" for t in self.tried if t.failed)
        return f"unit {self.unit} by rule {self.rule!r}" + (
            f" (skipped {skipped})" if skipped else ""
        )


FALLBACK_RULE = "fallback"


def _under(value: str, prefix: str, sep: str) -> bool:
    """Say whether ``value`` is ``prefix`` or nested below it."""
    return value == prefix or value.startswith(prefix + sep) if sep else value.startswith(prefix)


def _why_not(route: Route, request: RouteRequest, excluded: frozenset[str]) -> str | None:
    """Name the first condition of ``route`` that ``request`` fails, or None if it fits."""
    match = route.match
    if match.category and not any(_under(request.category, c, ".") for c in match.category):
        return f"category {request.category} not under {', '.join(match.category)}"
    if match.area and not (
        request.area_code and any(_under(request.area_code, a, "") for a in match.area)
    ):
        return f"area {request.area_code or '(none)'} not in {', '.join(match.area)}"
    if match.urgency and request.urgency not in match.urgency:
        return f"urgency {request.urgency} not in {', '.join(match.urgency)}"
    if route.unit in excluded:
        return f"unit {route.unit} returned this task"
    return None


def decide(
    config: DistrictConfig, request: RouteRequest, excluded: Iterable[str] = ()
) -> Decision | None:
    """Pick the unit for ``request``: the first fitting route, else the fallback unit.

    ``excluded`` holds the units that returned this task; they are never chosen
    again. None means no unit is left and a dispatcher must decide.
    """
    excluded_set = frozenset(excluded)
    tried: list[Trial] = []
    for route in config.routes:
        failed = _why_not(route, request, excluded_set)
        tried.append(Trial(route.name, failed))
        if failed is None:
            return Decision(route.unit, route.name, tuple(tried))
    if config.fallback_unit in excluded_set:
        return None
    return Decision(config.fallback_unit, FALLBACK_RULE, tuple(tried))
