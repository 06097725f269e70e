"""A unit's requests for more time on its task's resolution deadline, in the ledger."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.config import Clock
from hotline.shared.ledger.schema import Deadline, Extension, Ticket

#: Where an extension stands: asked for, then approved or refused by a supervisor.
REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"


def lock(session: Session, ticket: Ticket, extension_id: int) -> Extension | None:
    """The ticket's extension of that id, locked (None: the ticket has no such extension)."""
    extension = session.get(Extension, extension_id, with_for_update=True)
    if extension is None or extension.ticket_id != ticket.id:
        return None
    return extension


def waiting(session: Session, ticket: Ticket) -> int | None:
    """The id of an extension of the ticket's current attempt still waiting for a decision."""
    return session.scalars(
        select(Extension.id).where(
            Extension.ticket_id == ticket.id,
            Extension.attempt == ticket.attempt,
            Extension.state == REQUESTED,
        )
    ).first()


def of_ticket(session: Session, ticket_id: str) -> list[Extension]:
    """Every extension asked for on the ticket, oldest first."""
    return list(
        session.scalars(
            select(Extension).where(Extension.ticket_id == ticket_id).order_by(Extension.id)
        )
    )


def pending_steps(session: Session, ticket: Ticket, clock: Clock) -> list[Deadline]:
    """The rungs of the current attempt's ``clock`` that have not fired nor stopped, locked:
    those an approved extension moves with the deadline."""
    return list(
        session.scalars(
            select(Deadline)
            .where(
                Deadline.ticket_id == ticket.id,
                Deadline.attempt == ticket.attempt,
                Deadline.clock == clock.value,
                Deadline.fired_at.is_(None),
                Deadline.stopped_at.is_(None),
            )
            .with_for_update()
        )
    )
