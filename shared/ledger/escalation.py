"""The notifier's reads and claims: due rungs, overdue clocks, and the tickets they belong to.

Due rungs and overdue clocks are claimed with ``FOR UPDATE SKIP LOCKED``, so
notifier replicas on PostgreSQL never take the same row twice; their ticket is
then locked with ``SKIP LOCKED`` too (:func:`lock_if_free`), so that a ticket
someone is signing for right now is left for the next pass, never waited on,
and no two transactions wait on each other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.shared.domain.config import Clock
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger import clocks
from hotline.shared.ledger.schema import Deadline, SlaClock, Ticket


class Busy(Exception):
    """Another transaction holds the ticket right now; its row is left for the next pass."""


def lock_if_free(session: Session, ticket_id: str) -> Ticket | None:
    """The ticket, locked without waiting; None if it is gone; Busy if someone else holds it.

    Not :func:`hotline.shared.ledger.tickets.lock`, which waits: the notifier
    already holds the rows it claimed, and waiting for a ticket while holding
    them could deadlock with whoever holds the ticket and stops its clocks.
    """
    ticket = session.scalars(
        select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
    ).one_or_none()
    if ticket is None and session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.id == ticket_id)
    ):
        raise Busy(ticket_id)
    return ticket


def still_runs(session: Session, ticket: Ticket, attempt: int, clock: str) -> bool:
    """Say whether the clock of this attempt still runs (ask under the ticket's lock).

    A clock runs while its unit holds the task (sign-for only until it is signed
    for) and nobody stopped it; a task assigned before clocks existed has no row
    and counts as running.
    """
    if ticket.attempt != attempt or ticket.state not in WITH_UNIT:
        return False
    if clock == Clock.SIGN_FOR and ticket.state is not State.ASSIGNED:
        return False
    row = clocks.current(session, ticket, Clock(clock))
    return row is None or row.stopped_at is None


def claim_overdue_clocks(session: Session, now: datetime, limit: int) -> list[SlaClock]:
    """Running clocks whose deadline passed before ``now``, earliest first, claimed."""
    return list(
        session.scalars(
            select(SlaClock)
            .where(SlaClock.outcome.is_(None), SlaClock.stopped_at.is_(None), SlaClock.due_at < now)
            .order_by(SlaClock.due_at, SlaClock.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def claim_due_rungs(session: Session, now: datetime, limit: int) -> list[Deadline]:
    """Pending rungs due by ``now``, earliest first, claimed."""
    return list(
        session.scalars(
            select(Deadline)
            .where(
                Deadline.fired_at.is_(None), Deadline.stopped_at.is_(None), Deadline.due_at <= now
            )
            .order_by(Deadline.due_at, Deadline.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def next_due(session: Session) -> datetime | None:
    """The earliest time at which a rung or a clock's deadline falls due, if any is pending."""
    rung = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.fired_at.is_(None), Deadline.stopped_at.is_(None)
        )
    )
    deadline = session.scalar(
        select(func.min(SlaClock.due_at)).where(
            SlaClock.outcome.is_(None), SlaClock.stopped_at.is_(None)
        )
    )
    times = [t for t in (rung, deadline) if t is not None]
    return min(times) if times else None


def add_repeat(session: Session, step: Deadline, due_at: datetime) -> None:
    """Write the rung's next repeat, due at ``due_at``: one row at a time, as each fires,
    never an endless list in the ledger."""
    session.add(
        Deadline(
            ticket_id=step.ticket_id,
            attempt=step.attempt,
            unit_id=step.unit_id,
            clock=step.clock,
            level=step.level,
            name=step.name,
            due_at=due_at,
            repeat=step.repeat + 1,
            tell=step.tell,
            repeat_every_seconds=step.repeat_every_seconds,
        )
    )
