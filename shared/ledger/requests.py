"""Finding the requests the intake takes and shows: a repeated call's ticket, the open ticket
a new request duplicates, a list, an Open311 search, and one ticket's links and history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hotline.shared.domain.ticket import CLOSED, State
from hotline.shared.ledger.held_rows import LATER
from hotline.shared.ledger.schema import Event, Ticket

#: The states a ticket never leaves, as a list a query can bind.
_CLOSED = sorted(CLOSED)


def by_idempotency_key(session: Session, key: str) -> Ticket | None:
    """The ticket an earlier call with the same idempotency key made, if any."""
    return session.scalars(select(Ticket).where(Ticket.idempotency_key == key)).one_or_none()


def open_about(session: Session, ticket: Ticket, since: datetime) -> list[Ticket]:
    """Open, unlinked tickets of the ticket's category and place made since ``since``,
    oldest first and locked: those a new request may be linked to instead of being routed.

    Under group commit the tickets of the calls before this one in the batch
    are still only in the session: they are looked at there, and the ledger
    is asked without flushing them first. A flush per call was most of what
    a call cost the intake: four round trips to the ledger instead of one.
    """
    with session.no_autoflush:
        stored = session.scalars(
            select(Ticket)
            .where(
                Ticket.place == ticket.place,
                Ticket.category == ticket.category,
                Ticket.created_at >= since,
                Ticket.id != ticket.id,
                Ticket.duplicate_of.is_(None),
                Ticket.state.not_in(_CLOSED),
            )
            .order_by(Ticket.created_at, Ticket.id)
            .with_for_update()
            .execution_options(**LATER)
        ).all()
    pending = [
        t
        for t in session.new
        if isinstance(t, Ticket)
        and t is not ticket
        and t.place == ticket.place
        and t.category == ticket.category
        and t.created_at >= since
        and t.duplicate_of is None
        and t.state not in CLOSED
    ]
    return sorted([*stored, *pending], key=lambda t: (t.created_at, t.id))


def listing(
    session: Session, unit_id: str | None, states: Iterable[State] | None, limit: int
) -> list[Ticket]:
    """Tickets now with ``unit_id`` and in ``states`` (either may be None: any), newest first."""
    query = select(Ticket).order_by(Ticket.updated_at.desc(), Ticket.id).limit(limit)
    if unit_id is not None:
        query = query.where(Ticket.unit_id == unit_id)
    if states is not None:
        query = query.where(Ticket.state.in_(list(states)))
    return list(session.scalars(query))


def _newest_first(limit: int) -> Select[Ticket]:
    return select(Ticket).order_by(Ticket.created_at.desc()).limit(limit)


def by_ids(session: Session, ids: Iterable[str], limit: int) -> list[Ticket]:
    """The tickets of these ids that exist, newest first."""
    return list(session.scalars(_newest_first(limit).where(Ticket.id.in_(list(ids)))))


def search(
    session: Session,
    *,
    since: datetime,
    until: datetime | None,
    categories: Iterable[str] | None,
    closed: bool | None,
    limit: int,
) -> list[Ticket]:
    """Tickets received in [since, until] of any of ``categories``, closed or open
    (None: any), newest first."""
    query = _newest_first(limit).where(Ticket.created_at >= since)
    if until is not None:
        query = query.where(Ticket.created_at <= until)
    if categories is not None:
        query = query.where(Ticket.category.in_(list(categories)))
    if closed is not None:
        is_closed = Ticket.state.in_(_CLOSED)
        query = query.where(is_closed if closed else ~is_closed)
    return list(session.scalars(query))


def linked_to(session: Session, ticket_id: str) -> list[Ticket]:
    """The requests linked to the ticket (its duplicates and other reports), oldest first."""
    return list(
        session.scalars(
            select(Ticket).where(Ticket.duplicate_of == ticket_id).order_by(Ticket.created_at)
        )
    )


def history_of(session: Session, ticket_id: str) -> list[Event]:
    """The ticket's events in the order they happened."""
    return list(
        session.scalars(
            select(Event).where(Event.ticket_id == ticket_id).order_by(Event.at, Event.attempt)
        )
    )
