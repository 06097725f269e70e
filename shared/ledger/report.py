"""Reading a period's tickets and their histories from the ledger, for the bulletin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.report import EventFact, TicketFacts
from hotline.shared.ledger.schema import Event, Ticket

#: Tickets whose events are read in one query.
BATCH = 500


def period_tickets(
    session: Session, start: datetime, end: datetime, batch: int = BATCH
) -> Iterator[TicketFacts]:
    """Every ticket received in [start, end), oldest first, with its whole history.

    Reads only: a running system can keep writing (SQLite in WAL, PostgreSQL).
    """
    query = (
        select(Ticket.id, Ticket.channel, Ticket.created_at)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.created_at, Ticket.id)
    )
    rows = session.execute(query).all()
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        events: dict[str, list[EventFact]] = {row.id: [] for row in chunk}
        for event in session.scalars(
            select(Event).where(Event.ticket_id.in_(events)).order_by(Event.at)
        ):
            events[event.ticket_id].append(
                EventFact(event.type, event.at, event.attempt, event.unit_id, event.data or {})
            )
        for row in chunk:
            yield TicketFacts(row.id, row.channel, row.created_at, events[row.id])
