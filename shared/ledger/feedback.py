"""The citizen's satisfaction as the ledger keeps it: ``feedback-recorded`` events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.events import EventType
from hotline.shared.ledger.schema import Event, Ticket


def recorded_on_result(session: Session, ticket: Ticket) -> str | None:
    """The id of feedback already recorded on the ticket's current result, if any."""
    return session.scalars(
        select(Event.id).where(
            Event.ticket_id == ticket.id,
            Event.attempt == ticket.attempt,
            Event.type == EventType.FEEDBACK_RECORDED.value,
        )
    ).first()


def of_ticket(session: Session, ticket_id: str) -> list[Event]:
    """Every feedback recorded on the ticket, oldest first."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.ticket_id == ticket_id, Event.type == EventType.FEEDBACK_RECORDED.value)
            .order_by(Event.at)
        )
    )
