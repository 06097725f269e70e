"""Recording what happened to a ticket, and announcing it on the events stream."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.shared.domain.events import EventType
from hotline.shared.ledger.held_rows import hold
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Event, Ticket
from hotline.shared.messaging.names import events_topic


def event_message(ticket: Ticket, event: Event) -> dict[str, Any]:
    """The stream form of an event: enough for a consumer to act without reading the ledger.

    It carries no caller name or phone: the stream is read by more parties
    than the unit that must call the citizen back.
    """
    return {
        "event_id": event.id,
        "type": event.type,
        "at": event.at.isoformat(),
        "ticket_id": ticket.id,
        "district": ticket.district,
        "attempt": event.attempt,
        "unit_id": event.unit_id,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "area_code": ticket.area_code,
        "created_at": ticket.created_at.isoformat(),
        "data": event.data,
    }


def record(
    session: Session,
    ticket: Ticket,
    type_: EventType,
    *,
    relay: Publisher,
    now: datetime,
    unit_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the ticket's history and its announcement to the outbox.

    The event is a held row (see ``held_rows``): nothing changes an event once
    written, so the unit of work need not track it, and it goes into the
    ledger with the outbox rows instead of through the ORM's flush. The
    ``Event`` returned is a transient copy of what will be written (never in
    the session).
    """
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "ticket_id": ticket.id,
        "type": type_.value,
        "at": now,
        "attempt": ticket.attempt,
        "unit_id": unit_id,
        "data": data or {},
    }
    hold(session, Event, row)
    event = Event(**row)
    enqueue(
        session,
        relay=relay,
        transport="kafka",
        target=events_topic(ticket.district),
        key=ticket.id,
        message_id=event.id,
        payload=event_message(ticket, event),
        now=now,
    )
    return event
