"""Finding a ticket to act on, and moving it: the one way a ticket's state changes.

Every move goes through :func:`move`, which asks the state machine, stamps the
time and records the event in the same transaction, so the state, the
history and the events stream can never tell different stories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import Action, next_state
from hotline.shared.ledger import history
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.ledger.schema import Event, Ticket


class NotFound(Exception):
    """No ticket has that id."""


def find(session: Session, ticket_id: str) -> Ticket:
    """The ticket, for reading only, or :class:`NotFound`."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    return ticket


def lock(session: Session, ticket_id: str) -> Ticket:
    """The ticket, locked for the rest of the transaction, or :class:`NotFound`.

    Whoever moves a ticket or fires one of its clocks holds this lock first,
    so two actors never act on the same state (SQLite: its write lock).
    """
    write_lock(session)
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(ticket_id)
    return ticket


def move(
    session: Session,
    ticket: Ticket,
    action: Action,
    event: EventType,
    *,
    relay: Publisher,
    now: datetime,
    unit_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Take ``action`` on the ticket: the state machine's next state, the time, the event.

    Raises :class:`~hotline.shared.domain.ticket.IllegalMove` (changing
    nothing) when the state machine does not allow it.
    """
    ticket.state = next_state(ticket.state, action)
    ticket.updated_at = now
    return history.record(session, ticket, event, relay=relay, now=now, unit_id=unit_id, data=data)
