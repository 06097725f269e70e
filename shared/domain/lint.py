"""What ``hotline config check`` warns about in a district file that is valid but suspect.

A file that names a unit, area or category that does not exist is refused
outright when it is loaded; these findings are the quieter mistakes: a rule
that an earlier one always beats, a category only manual triage will see, a
unit nobody can reach, a neighbouring district we cannot hand requests to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hotline.shared.domain.config import Clock, DistrictConfig, Match, Route
from hotline.shared.domain.location import AreaMap
from hotline.shared.domain.routing import Router, under
from hotline.shared.domain.ticket import Urgency


@dataclass(frozen=True)
class Finding:
    """One remark on a district file."""

    level: str  # "error" or "warning"
    message: str


def _covers(earlier: Match, later: Match, areas: AreaMap) -> bool:
    """Say whether every request that fits ``later`` also fits ``earlier``."""
    if earlier.category and not (
        later.category
        and all(any(_category_covers(e, c) for e in earlier.category) for c in later.category)
    ):
        return False
    if earlier.area and not (
        later.area and all(set(earlier.area) & set(areas.chain(a)) for a in later.area)
    ):
        return False
    for field in ("urgency", "channel"):
        mine, theirs = getattr(earlier, field), getattr(later, field)
        if mine and not (theirs and set(theirs) <= set(mine)):
            return False
    return all(getattr(earlier, f) in (None, getattr(later, f)) for f in ("hours", "time"))


def _category_covers(earlier: str, later: str) -> bool:
    """Say whether every category the pattern ``later`` matches, ``earlier`` matches too.

    ``=epidemic`` takes ``epidemic`` alone, so it does not cover a later ``epidemic``,
    which also takes everything under it.
    """
    if later.startswith("="):
        return under(later[1:], earlier)
    return not earlier.startswith("=") and under(later, earlier)


def _always_sends(route: Route) -> bool:
    """A rule whose target cannot fail on a first routing: one fixed unit, not observing."""
    return route.unit is not None and route.unit != "area-owner" and not route.observe


def lint(router: Router) -> list[Finding]:
    """Every suspect thing in the config, in file order."""
    config, findings = router.config, []
    for index, route in enumerate(config.routes):
        for earlier in config.routes[:index]:
            if _always_sends(earlier) and _covers(earlier.match, route.match, router.areas):
                findings.append(
                    Finding(
                        "warning",
                        f"route {route.name!r} can never match first: "
                        f"route {earlier.name!r} above it takes every request it would",
                    )
                )
                break
    routed = [c for r in config.routes if not r.observe for c in r.match.category or ("",)]
    for category in config.categories:
        if not any(p == "" or under(category.id, p.removeprefix("=")) for p in routed):
            findings.append(
                Finding("warning", f"category {category.id!r} has no route but manual triage")
            )
    for unit in config.units:
        if not unit.contacts:
            findings.append(Finding("warning", f"unit {unit.id!r} has no contact"))
    for peer in config.peers:
        if peer.token_source is None:
            findings.append(
                Finding(
                    "warning",
                    f"peer {peer.district!r} has no token (token_env, token_file or token): "
                    "its intake will refuse every transfer, which then waits in manual triage",
                )
            )
    findings += _sla_findings(config)
    return findings


def _sla_findings(config: DistrictConfig) -> list[Finding]:
    """Limits out of order: a task must be signed for before it is answered, answered before
    it is resolved, for every category and urgency (one finding per kind, naming categories)."""
    kinds: dict[tuple[str, ...], list[str]] = {}
    for category in config.categories:
        for urgency in Urgency:
            limits = [(c, config.sla.limit(c, category.id, urgency)) for c in Clock]
            for (earlier, first), (later, second) in itertools.pairwise(limits):
                if first > second:
                    kind: tuple[str, ...] = (urgency, earlier, str(first), later, str(second))
                    kinds.setdefault(kind, []).append(category.id)
    findings = []
    for kind, categories in kinds.items():
        every = len(categories) == len(config.categories)
        which = "every category" if every else ", ".join(categories)
        text = "sla: {} {} limit {} is longer than its {} limit {}".format(*kind)
        findings.append(Finding("warning", f"{text} ({which})"))
    return findings
