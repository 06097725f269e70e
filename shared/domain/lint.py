"""What ``hotline config check`` warns about in a district file that is valid but suspect.

A file that names a unit, area or category that does not exist is refused
outright when it is loaded; these findings are the quieter mistakes: a rule
that an earlier one always beats, a category only manual triage will see, a
unit nobody can reach, a neighbouring district we cannot hand requests to, an
escalation step (or a hot spot) that would tell nobody.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hotline.shared.domain.config import Clock, DistrictConfig, Ladder, Match, Recipient, Route
from hotline.shared.domain.location import AreaMap
from hotline.shared.domain.routing import Rules, under
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


def lint(rules: Rules) -> list[Finding]:
    """Every suspect thing in the config, in file order."""
    config, findings = rules.config, []
    for index, route in enumerate(config.routes):
        for earlier in config.routes[:index]:
            if _always_sends(earlier) and _covers(earlier.match, route.match, rules.areas):
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
    findings += _ladder_findings(config)
    return findings


def _ladders(config: DistrictConfig) -> list[tuple[str, Ladder]]:
    """Every ladder the file defines, named as a finding names it: the district's, then
    each category override's."""
    named = [(f"{clock}", ladder) for clock, ladder in config.sla.ladders.items()]
    for override in config.sla.categories:
        named += [(f"{override.category} {clock}", lad) for clock, lad in override.ladders.items()]
    return named


def _unheard(config: DistrictConfig, recipient: Recipient) -> str | None:
    """Why a ladder step that tells ``recipient`` would tell nobody, if it would.

    ``unit`` and ``unit-leader`` stand for the task's unit, which a route chose: a
    unit with no contact is its own finding, and a unit with no leader contact is
    told at its desk (``Unit.contacts_for``), so neither is a ladder's fault.
    """
    if recipient is Recipient.SUPERVISOR_UNIT:
        supervisors = {u.supervisor for u in config.units if u.supervisor is not None}
        if not supervisors:
            return "no unit names a supervisor"
        silent = sorted(s for s in supervisors if not _reachable(config, s))
        return f"supervisor {', '.join(map(repr, silent))} has no contact" if silent else None
    setting = {
        Recipient.SUPERVISION_GROUP: "supervision_group",
        Recipient.DISTRICT_LEADERSHIP: "leadership",
    }
    if recipient not in setting:
        return None
    unit_id = getattr(config.sla, setting[recipient])
    if unit_id is None:
        return f"sla.{setting[recipient]} names no unit"
    return None if _reachable(config, unit_id) else f"unit {unit_id!r} has no contact"


def _reachable(config: DistrictConfig, unit_id: str) -> bool:
    unit = config.unit(unit_id)
    return unit is not None and bool(unit.contacts)


def _ladder_findings(config: DistrictConfig) -> list[Finding]:
    """Ladder steps (and hot spots) that would tell nobody: a recipient that stands for no unit,
    or for a unit with no contact. One finding per recipient, naming the steps."""
    steps: dict[Recipient, list[str]] = {}
    for where, ladder in _ladders(config):
        for step in ladder:
            for recipient in step.tell:
                steps.setdefault(recipient, []).append(f"{where} level {step.level}")
    findings = []
    for recipient, places in steps.items():
        why = _unheard(config, recipient)
        if why is not None:
            text = (
                f"sla: ladder steps that tell {recipient} ({', '.join(places)}) tell nobody: {why}"
            )
            findings.append(Finding("warning", text))
    if config.hotspots:
        why = _unheard(config, Recipient.SUPERVISION_GROUP)
        if why is not None:
            text = f"hotspots tell the supervision group, so nobody: {why}"
            findings.append(Finding("warning", text))
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
