"""Where things stand now: the counts of open rows the scraped gauges report.

Each is a cheap indexed query over open rows only, so the gauges can run them
every few seconds (see ``hotline.shared.observability.gauges``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger.schema import OutboxMessage, SlaClock, Ticket

_T = TypeVar("_T")

#: The states of a ticket still waiting for something.
OPEN_STATES = tuple(
    s for s in State if s not in (State.RESOLVED, State.TRANSFERRED)
)  # fmt: skip


@dataclass(frozen=True)
class Backlog:
    """A relay's rows waiting to be published: how many, and when the oldest was written."""

    waiting: int
    oldest: datetime | None


def relay_backlog(session: Session, relay: str) -> Backlog:
    """How many of ``relay``'s rows wait to be published, and when the oldest was written."""
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
    return Backlog(count, oldest)


def open_tickets_by_state(session: Session, district: str) -> dict[State, int]:
    """The district's open tickets in each state; a state with none is absent."""
    return dict(
        session.execute(
            select(Ticket.state, func.count())
            .where(Ticket.district == district, Ticket.state.in_(list(OPEN_STATES)))
            .group_by(Ticket.state)
        ).all()
    )


def tasks_by_unit_and_state(
    session: Session, district: str
) -> Sequence[tuple[str | None, State, int]]:
    """The tickets a unit holds, counted by unit and state."""
    return _tasks_by_unit_and(session, district, Ticket.state)


def tasks_by_unit_and_escalation(
    session: Session, district: str
) -> Sequence[tuple[str | None, int, int]]:
    """The tickets a unit holds, counted by unit and escalation level."""
    return _tasks_by_unit_and(session, district, Ticket.escalation_level)


def _tasks_by_unit_and(
    session: Session, district: str, column: InstrumentedAttribute[_T]
) -> Sequence[tuple[str | None, _T, int]]:
    return session.execute(
        select(Ticket.unit_id, column, func.count())
        .where(Ticket.district == district, Ticket.state.in_(list(WITH_UNIT)))
        .group_by(Ticket.unit_id, column)
    ).all()


def overdue_tasks_by_unit_and_clock(
    session: Session, district: str, now: datetime
) -> Sequence[tuple[str | None, str, int]]:
    """The tickets a unit holds that are overdue, counted by unit and clock.

    A task is overdue on a clock whose deadline has passed while it still runs.
    """
    return session.execute(
        select(Ticket.unit_id, SlaClock.clock, func.count(func.distinct(Ticket.id)))
        .join(SlaClock, and_(SlaClock.ticket_id == Ticket.id, SlaClock.attempt == Ticket.attempt))
        .where(
            Ticket.district == district,
            Ticket.state.in_(list(WITH_UNIT)),
            SlaClock.due_at <= now,
            SlaClock.stopped_at.is_(None),
        )
        .group_by(Ticket.unit_id, SlaClock.clock)
    ).all()
