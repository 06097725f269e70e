"""SLA clocks in the ledger: started at assignment, stopped by the unit, settled once.

Every clock is a row (``sla_clocks``) with its deadline, and every rung of
its ladder a ``deadlines`` row, indexed by due time, so no timer survives
only in a process's memory. Whoever changes a clock holds the ticket's row
lock (PostgreSQL) or the database's write lock (SQLite) first; the outcome is
written with a conditional UPDATE, so a clock is counted met or missed once,
whoever gets there first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from hotline.shared.domain.config import Clock, DistrictConfig, Recipient
from hotline.shared.domain.sla import ClockPlan, plan_clocks
from hotline.shared.domain.ticket import Urgency
from hotline.shared.ledger.held_rows import hold
from hotline.shared.ledger.schema import Deadline, SlaClock, Ticket
from hotline.shared.observability import metrics

MET = "met"
MISSED = "missed"


@dataclass(frozen=True)
class Settled:
    """A clock whose outcome was just decided, for the metric counted after commit."""

    clock: str
    unit_id: str
    outcome: str


def start(
    session: Session, config: DistrictConfig, ticket: Ticket, unit_id: str, now: datetime
) -> list[ClockPlan]:
    """Start the three clocks of the ticket's current attempt, with every rung of their ladders."""
    plans = plan_clocks(config.sla, config.zone, ticket.category, Urgency(ticket.urgency), now)
    for plan in plans:
        clock = {
            "ticket_id": ticket.id,
            "attempt": ticket.attempt,
            "unit_id": unit_id,
            "clock": plan.clock.value,
            "counting": plan.counting.value,
            "started_at": now,
            "limit_seconds": plan.limit.total_seconds(),
            "due_at": plan.due_at,
        }
        hold(session, SlaClock, clock)
        for step in plan.steps:
            rung = {
                "ticket_id": ticket.id,
                "attempt": ticket.attempt,
                "unit_id": unit_id,
                "clock": step.clock,
                "level": step.level,
                "name": step.name,
                "due_at": step.due_at,
                "repeat": 0,
                "tell": [r.value for r in step.tell],
                "repeat_every_seconds": (
                    step.repeat_every.total_seconds() if step.repeat_every else None
                ),
            }
            hold(session, Deadline, rung)
    return plans


def stop(
    session: Session,
    ticket: Ticket,
    clocks: Iterable[Clock] | None,
    now: datetime,
    *,
    abandoned: bool = False,
) -> list[Settled]:
    """Stop clocks of the ticket's current attempt (``None``: all) and their pending rungs.

    The caller holds the ticket's lock. A clock stopped by its deadline is
    met, after it missed; ``abandoned`` (the task went elsewhere) settles
    only those whose deadline already passed.
    """
    names = [c.value for c in (clocks if clocks is not None else Clock)]
    running = (
        SlaClock.ticket_id == ticket.id,
        SlaClock.attempt == ticket.attempt,
        SlaClock.clock.in_(names),
        SlaClock.stopped_at.is_(None),
        SlaClock.outcome.is_(None),
    )
    outcomes = [(MISSED, SlaClock.due_at < now)]
    if not abandoned:
        outcomes.append((MET, SlaClock.due_at >= now))
    settled: list[Settled] = []
    for outcome, condition in outcomes:
        rows = session.execute(
            update(SlaClock)
            .where(*running, condition)
            .values(outcome=outcome)
            .returning(SlaClock.clock, SlaClock.unit_id)
        ).all()
        settled += [Settled(clock, unit_id, outcome) for clock, unit_id in rows]
    session.execute(update(SlaClock).where(*running[:4]).values(stopped_at=now))
    session.execute(
        update(Deadline)
        .where(
            Deadline.ticket_id == ticket.id,
            Deadline.attempt == ticket.attempt,
            Deadline.clock.in_(names),
            Deadline.fired_at.is_(None),
            Deadline.stopped_at.is_(None),
        )
        .values(stopped_at=now)
    )
    count_after_commit(session, ticket, settled)
    return settled


def current(session: Session, ticket: Ticket, clock: Clock) -> SlaClock | None:
    """The clock of the ticket's current attempt (None for a task assigned before clocks)."""
    return session.scalars(
        select(SlaClock).where(
            SlaClock.ticket_id == ticket.id,
            SlaClock.attempt == ticket.attempt,
            SlaClock.clock == clock.value,
        )
    ).one_or_none()


def running(session: Session, ticket: Ticket, clock: Clock) -> bool:
    """Say whether the clock of the ticket's current attempt still runs.

    Read before a stop to learn whether that stop is the clock's own: the
    first-response clock is stopped by the first progress report, or by a
    result that came with no report before it, and either is the response.
    """
    row = current(session, ticket, clock)
    return row is not None and row.stopped_at is None


def told(config: DistrictConfig, roles: Iterable[str], unit_id: str) -> list[dict[str, Any]]:
    """Who a rung tells: each role with the unit it stands for (None: no unit in the file).

    ``unit`` and ``unit-leader`` both stand for the task's unit; which of its
    contacts each reaches (its desk, its leader) is decided when the notifications
    are written, by ``Unit.contacts_for``, so the event names units, not addresses.
    """
    unit = config.unit(unit_id)
    units: dict[Recipient, str | None] = {
        Recipient.UNIT: unit_id,
        Recipient.UNIT_LEADER: unit_id,
        Recipient.SUPERVISOR_UNIT: unit.supervisor if unit is not None else None,
        Recipient.SUPERVISION_GROUP: config.sla.supervision_group,
        Recipient.DISTRICT_LEADERSHIP: config.sla.leadership,
    }
    return [{"role": role, "unit_id": units.get(Recipient(role))} for role in roles]


def count_after_commit(session: Session, ticket: Ticket, settled: Iterable[Settled]) -> None:
    """Count settled clocks in ``hotline_sla_clock_stops_total`` once the transaction commits."""
    labels = [
        (
            ticket.district,
            s.unit_id,
            metrics.top_category(ticket.category),
            ticket.urgency,
            s.clock,
            s.outcome,
        )
        for s in settled
    ]
    if not labels:
        return
    pending: list[tuple[str, ...]] = session.info.setdefault("sla_settled", [])
    if not session.info.get("sla_hooked"):
        event.listen(session, "after_commit", _count)
        event.listen(session, "after_rollback", _forget)
        session.info["sla_hooked"] = True
    pending.extend(labels)


def _count(session: Session) -> None:
    for labels in session.info.pop("sla_settled", []):
        metrics.SLA_CLOCK_STOPS.labels(*labels).inc()


def _forget(session: Session) -> None:
    session.info.pop("sla_settled", None)
