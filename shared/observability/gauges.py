"""The scraped gauges: computed from the ledger and the config every few seconds.

Counters say what happened; these say where things stand now (how many
tickets wait in each state, what each unit holds, how far behind each relay
is). The ledger counts them (:mod:`hotline.shared.ledger.standing`), off the
event loop on the owner's schedule; ``/metrics`` serves the last result
(:class:`hotline.shared.observability.metrics.Snapshots`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.domain.config import Clock, DistrictConfig
from hotline.shared.domain.routing import in_business_hours
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger import standing
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import Sample
from hotline.shared.runtime.host import Loop
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)

#: How often an owner recomputes its gauges: well inside any scrape interval worth having.
REFRESH_SECONDS = 2.0


def refreshing(
    name: str, compute: Callable[[], list[Sample]], every: float = REFRESH_SECONDS
) -> Loop:
    """A service loop that recomputes ``compute``'s samples every ``every`` seconds."""

    async def refresh(stop: asyncio.Event) -> None:
        owner = object()
        try:
            while not stop.is_set():
                try:
                    metrics.SNAPSHOTS.put(owner, await asyncio.to_thread(compute))
                except Exception as exc:  # the ledger is down: say nothing rather than stale
                    metrics.SNAPSHOTS.drop(owner)
                    log.warning("gauges %s: cannot compute: %s", name, exc)
                await wait_for_event(stop, every)
        finally:
            metrics.SNAPSHOTS.drop(owner)

    refresh.__name__ = f"gauges_{name}"
    return refresh


def outbox_backlog(
    sessions: sessionmaker[Session], district: str, relay: str, now: Callable[[], datetime]
) -> list[Sample]:
    """How many of ``relay``'s rows wait to be published, and how old the oldest is."""
    with sessions() as session:
        backlog = standing.relay_backlog(session, relay)
    oldest = backlog.oldest
    age = max((now() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    labels = (district, relay)
    return [
        (metrics.OUTBOX_PENDING, labels, float(backlog.waiting)),
        (metrics.OUTBOX_OLDEST_AGE, labels, age),
    ]


def ticket_gauges(
    sessions: sessionmaker[Session], config: DistrictConfig, now: datetime | None = None
) -> list[Sample]:
    """Open tickets by state, each unit's tasks by state, and its overdue tasks by clock.

    Every state and every unit of the district file is reported, at 0 when
    nothing is there, so that "this unit holds nothing" is a value, not a gap.
    """
    district = config.district
    now = now or datetime.now(UTC)
    with sessions() as session:
        by_state = standing.open_tickets_by_state(session, district)
        held = standing.tasks_by_unit_and_state(session, district)
        levels = standing.tasks_by_unit_and_escalation(session, district)
        overdue = standing.overdue_tasks_by_unit_and_clock(session, district, now)
    return [
        *_open_tickets(district, by_state),
        *_tasks(config, held),
        *_overdue(config, overdue),
        *_escalated(config, levels),
        business_hours(config, now),
    ]


def _open_tickets(district: str, by_state: dict[State, int]) -> list[Sample]:
    return [
        (metrics.TICKETS_OPEN, (district, state), float(by_state.get(state, 0)))
        for state in standing.OPEN_STATES
    ]


def _tasks(config: DistrictConfig, held: Sequence[tuple[str | None, State, int]]) -> list[Sample]:
    tasks = {(unit, state): 0 for unit in config.unit_ids for state in WITH_UNIT}
    tasks.update({(unit or "none", state): n for unit, state, n in held})
    return [(metrics.TASKS_OPEN, (config.district, u, s), float(n)) for (u, s), n in tasks.items()]


def _overdue(
    config: DistrictConfig, overdue: Sequence[tuple[str | None, str, int]]
) -> list[Sample]:
    late = {(unit, clock.value): 0 for unit in config.unit_ids for clock in Clock}
    late.update({(unit or "none", clock): n for unit, clock, n in overdue})
    return [
        (metrics.TASKS_OVERDUE, (config.district, u, c), float(n)) for (u, c), n in late.items()
    ]


def _escalated(
    config: DistrictConfig, levels: Sequence[tuple[str | None, int, int]]
) -> list[Sample]:
    escalated = {(unit, "0"): 0 for unit in config.unit_ids}
    escalated.update({(unit or "none", str(level)): n for unit, level, n in levels})
    return [
        (metrics.TASKS_BY_ESCALATION, (config.district, u, lv), float(n))
        for (u, lv), n in escalated.items()
    ]


def business_hours(config: DistrictConfig, now: datetime) -> Sample:
    """1 while the district's business hours are open at ``now``, else 0."""
    return (
        metrics.BUSINESS_HOURS,
        (config.district,),
        1.0 if in_business_hours(config, now) else 0.0,
    )
