"""The router's reads of the ledger: tickets owed a decision, units' loads, returns, transfers.

The decisions themselves are written by :mod:`hotline.shared.ledger.dispatch`;
this module only finds what there is to decide and what the rules need to know.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger.schema import Assignment, Ticket

#: States in which the router owes a ticket a decision (a unit, triage or a peer).
AWAITING = frozenset({State.RECEIVED, State.RETURNED, State.REOPENED})


def lock_batch(session: Session, ticket_ids: Iterable[str]) -> list[Ticket]:
    """The tickets that exist among ``ticket_ids``, locked in one query.

    They are locked in id order, so two routers locking overlapping batches
    never deadlock; one query keeps a burst of requests cheap for the ledger.
    """
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(sorted(ticket_ids)))
            .order_by(Ticket.id)
            .with_for_update()
        )
    )


def returned_by(session: Session, ticket_ids: list[str]) -> dict[str, list[str]]:
    """The units that returned each ticket, in one query for a whole batch."""
    rows = session.execute(
        select(Assignment.ticket_id, Assignment.unit_id).where(
            Assignment.ticket_id.in_(ticket_ids), Assignment.returned_at.is_not(None)
        )
    ).all()
    returned: dict[str, list[str]] = {}
    for ticket_id, unit_id in rows:
        returned.setdefault(ticket_id, []).append(unit_id)
    return returned


def open_tasks(session: Session) -> dict[str, int]:
    """Each unit's open tasks (assigned or signed for), for the pools."""
    rows = session.execute(
        select(Ticket.unit_id, func.count())
        .where(Ticket.state.in_(WITH_UNIT), Ticket.unit_id.is_not(None))
        .group_by(Ticket.unit_id)
    ).all()
    return {unit: count for unit, count in rows if unit is not None}


def waiting_since(session: Session, older_than: datetime, limit: int) -> list[tuple[str, int]]:
    """(id, attempt) of the tickets owed a decision since before ``older_than``, oldest first."""
    rows = session.execute(
        select(Ticket.id, Ticket.attempt)
        .where(Ticket.state.in_(AWAITING), Ticket.updated_at < older_than)
        .order_by(Ticket.updated_at)
        .limit(limit)
    ).all()
    return [(ticket_id, attempt) for ticket_id, attempt in rows]


def pending_transfers(session: Session, limit: int) -> list[tuple[str, str]]:
    """(id, peer district) of the tickets owed to a peer, longest waiting first."""
    rows = session.execute(
        select(Ticket.id, Ticket.transfer_to)
        .where(Ticket.state == State.TRANSFER_PENDING)
        .order_by(Ticket.updated_at)
        .limit(limit)
    ).all()
    return [(ticket_id, peer) for ticket_id, peer in rows if peer is not None]
