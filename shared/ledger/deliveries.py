"""What became of a ticket's notifications: their outbox rows, sent, pending or dead."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.ledger.schema import OutboxMessage


def notifications_of(session: Session, ticket_id: str) -> list[OutboxMessage]:
    """Every notification about the ticket (those with a dedup key), oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.key == ticket_id, OutboxMessage.dedup_key.is_not(None))
            .order_by(OutboxMessage.id)
        )
    )
