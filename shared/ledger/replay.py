"""Route replay's reads: the tickets taken, and where the router first sent each one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.events import EventType
from hotline.shared.ledger.schema import Event, Ticket

#: The events that say where the router sent a ticket, as the ``events.type`` column holds them.
ROUTING_EVENTS = tuple(
    t.value for t in (EventType.ASSIGNED, EventType.SENT_TO_TRIAGE, EventType.TRANSFER_REQUESTED)
)


def tickets_since(session: Session, since: datetime | None, batch: int) -> Iterator[Ticket]:
    """Every ticket received since ``since`` (all when None), oldest first.

    Rows are fetched ``batch`` at a time, so a replay of a year's ledger never
    holds it all in memory.
    """
    query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    yield from session.scalars(query.execution_options(yield_per=batch))


def first_routing(
    session: Session, ticket_ids: list[str]
) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    """Each ticket's first routing event, as (type, unit id, data), for those routed yet."""
    rows = session.execute(
        select(Event.ticket_id, Event.type, Event.unit_id, Event.data)
        .where(Event.ticket_id.in_(ticket_ids), Event.type.in_(ROUTING_EVENTS))
        .order_by(Event.at, Event.id)
    ).all()
    firsts: dict[str, tuple[str, str | None, dict[str, Any]]] = {}
    for ticket_id, event_type, unit_id, data in rows:
        firsts.setdefault(ticket_id, (event_type, unit_id, data or {}))
    return firsts
