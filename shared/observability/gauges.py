"""The scraped gauges: computed from the ledger and the config every few seconds.

Counters say what happened; these say where things stand now (how many
tickets wait in each state, what each unit holds, how far behind each relay
is). Each is a cheap indexed query over open rows only, run off the event loop
on the owner's schedule; ``/metrics`` serves the last result
(:class:`hotline.shared.observability.metrics.Snapshots`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.domain.config import Clock, DistrictConfig
from hotline.shared.domain.routing import in_business_hours
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger.schema import OutboxMessage, SlaClock, Ticket
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import Sample
from hotline.shared.runtime.host import Loop
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)

#: How often an owner recomputes its gauges: well inside any scrape interval worth having.
REFRESH_SECONDS = 2.0

#: The states of a ticket still waiting for something.
OPEN_STATES = tuple(
    s for s in State if s not in (State.RESOLVED, State.TRANSFERRED)
)  # fmt: skip


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
        count, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.relay == relay,
                OutboxMessage.published_at.is_(None),
                OutboxMessage.dead_at.is_(None),
            )
        ).one()
    if isinstance(oldest, str):  # SQLite hands an aggregate's timestamp back as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = max((now() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    labels = (district, relay)
    return [
        (metrics.OUTBOX_PENDING, labels, float(count)),
        (metrics.OUTBOX_OLDEST_AGE, labels, age),
    ]


def ticket_gauges(
    sessions: sessionmaker[Session], config: DistrictConfig, now: datetime | None = None
) -> list[Sample]:
    """Open tickets by state, each unit's tasks by state, and its overdue tasks by clock.

    A task is overdue on a clock whose deadline has passed while it still runs.

    Every state and every unit of the district file is reported, at 0 when
    nothing is there, so that "this unit holds nothing" is a value, not a gap.
    """
    district = config.district
    now = now or datetime.now(UTC)
    open_states = list(OPEN_STATES)
    with_unit = list(WITH_UNIT)
    with sessions() as session:
        by_state = dict(
            session.execute(
                select(Ticket.state, func.count())
                .where(Ticket.district == district, Ticket.state.in_(open_states))
                .group_by(Ticket.state)
            ).all()
        )
        held = session.execute(
            select(Ticket.unit_id, Ticket.state, func.count())
            .where(Ticket.district == district, Ticket.state.in_(with_unit))
            .group_by(Ticket.unit_id, Ticket.state)
        ).all()
        levels = session.execute(
            select(Ticket.unit_id, Ticket.escalation_level, func.count())
            .where(Ticket.district == district, Ticket.state.in_(with_unit))
            .group_by(Ticket.unit_id, Ticket.escalation_level)
        ).all()
        overdue = session.execute(
            select(Ticket.unit_id, SlaClock.clock, func.count(func.distinct(Ticket.id)))
            .join(
                SlaClock, and_(SlaClock.ticket_id == Ticket.id, SlaClock.attempt == Ticket.attempt)
            )
            .where(
                Ticket.district == district,
                Ticket.state.in_(with_unit),
                SlaClock.due_at <= now,
                SlaClock.stopped_at.is_(None),
            )
            .group_by(Ticket.unit_id, SlaClock.clock)
        ).all()
    samples: list[Sample] = [
        (metrics.TICKETS_OPEN, (district, state), float(by_state.get(state, 0)))
        for state in open_states
    ]
    tasks = {(unit, state): 0 for unit in config.unit_ids for state in with_unit}
    tasks.update({(unit or "none", state): n for unit, state, n in held})
    samples += [(metrics.TASKS_OPEN, (district, u, s), float(n)) for (u, s), n in tasks.items()]
    late = {(unit, clock.value): 0 for unit in config.unit_ids for clock in Clock}
    late.update({(unit or "none", clock): n for unit, clock, n in overdue})
    samples += [(metrics.TASKS_OVERDUE, (district, u, c), float(n)) for (u, c), n in late.items()]
    escalated = {(unit, "0"): 0 for unit in config.unit_ids}
    escalated.update({(unit or "none", str(level)): n for unit, level, n in levels})
    samples += [
        (metrics.TASKS_BY_ESCALATION, (district, u, lv), float(n))
        for (u, lv), n in escalated.items()
    ]
    samples.append(business_hours(config, now))
    return samples


def business_hours(config: DistrictConfig, now: datetime) -> Sample:
    """1 while the district's business hours are open at ``now``, else 0."""
    return (
        metrics.BUSINESS_HOURS,
        (config.district,),
        1.0 if in_business_hours(config, now) else 0.0,
    )
