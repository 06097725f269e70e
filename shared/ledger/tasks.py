"""A ticket's tasks: the assignment of each attempt, and the SLA clocks of the current one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.ledger.schema import Assignment, SlaClock, Ticket


def current(session: Session, ticket: Ticket) -> Assignment | None:
    """The assignment of the ticket's current attempt (None: never given to a unit)."""
    return session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.attempt == ticket.attempt
        )
    ).one_or_none()


def of_ticket(session: Session, ticket_id: str) -> list[Assignment]:
    """Every assignment of the ticket, first attempt first."""
    return list(
        session.scalars(
            select(Assignment).where(Assignment.ticket_id == ticket_id).order_by(Assignment.attempt)
        )
    )


def of_tickets(session: Session, ticket_ids: Iterable[str]) -> dict[tuple[str, int], Assignment]:
    """Every assignment of these tickets, by ticket id and attempt."""
    rows = session.scalars(select(Assignment).where(Assignment.ticket_id.in_(list(ticket_ids))))
    return {(a.ticket_id, a.attempt): a for a in rows}


def resolved_at(session: Session, ticket: Ticket) -> datetime | None:
    """When the unit of the ticket's current attempt resolved it (None: it has not)."""
    return session.scalar(
        select(Assignment.resolved_at).where(
            Assignment.ticket_id == ticket.id, Assignment.attempt == ticket.attempt
        )
    )


def clocks_of(session: Session, ticket: Ticket) -> list[SlaClock]:
    """The SLA clocks of the ticket's current attempt, in the order they were started."""
    return list(
        session.scalars(
            select(SlaClock)
            .where(SlaClock.ticket_id == ticket.id, SlaClock.attempt == ticket.attempt)
            .order_by(SlaClock.id)
        )
    )
