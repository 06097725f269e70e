"""What the intake does for the feedback group: record satisfaction, reopen on dissatisfaction.

One ledger transaction each, holding the ticket's lock (and on SQLite the
write lock) like every other move of a ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.intake.feedback_schemas import Feedback, FeedbackOut, NotificationOut, Satisfaction
from hotline.intake.handlers import Conflict, Invalid, NotFound, ask_router
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import Action, IllegalMove, State, next_state
from hotline.shared.ledger import history
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.ledger.schema import Event, OutboxMessage, Ticket

RELAY = Publisher.INTAKE


def _feedback_out(event: Event) -> FeedbackOut:
    data = event.data
    return FeedbackOut(
        ticket_id=event.ticket_id,
        attempt=event.attempt,
        result=Satisfaction(data["result"]),
        comment=data.get("comment", ""),
        reopened=bool(data.get("reopen")),
        by=data.get("by"),
        at=event.at,
    )


def record_feedback(
    session: Session, config: DistrictConfig, ticket_id: str, body: Feedback, now: datetime
) -> FeedbackOut:
    """Record the citizen's satisfaction with a resolved ticket; a dissatisfied one may reopen it.

    Once per resolution: a second feedback on the same result is refused.
    A reopened ticket goes back to the router, which routes it again at a new
    attempt with fresh clocks.
    """
    write_lock(session)
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(ticket_id)
    state = State(ticket.state)
    try:
        next_state(state, Action.RECORD_FEEDBACK)
    except IllegalMove:
        raise Conflict(
            f"only a resolved ticket takes feedback; this one is {state}", state
        ) from None
    dissatisfied = body.result is Satisfaction.DISSATISFIED
    reopen = body.reopen
    if reopen is None:
        reopen = dissatisfied and config.notifications.reopen_on_dissatisfied
    if reopen and not dissatisfied:
        raise Invalid(
            ("reopen",), f"only a dissatisfied result reopens a ticket, not {body.result}"
        )
    earlier = session.scalars(
        select(Event.id).where(
            Event.ticket_id == ticket.id,
            Event.attempt == ticket.attempt,
            Event.type == EventType.FEEDBACK_RECORDED.value,
        )
    ).first()
    if earlier is not None:
        raise Conflict("feedback on this result was already recorded", state)
    data = {"result": body.result.value, "comment": body.comment, "reopen": reopen, "by": body.by}
    event = history.record(
        session, ticket, EventType.FEEDBACK_RECORDED, relay=RELAY, now=now,
        unit_id=ticket.unit_id, data=data,
    )  # fmt: skip
    if reopen:
        ticket.state = next_state(state, Action.REOPEN)
        ticket.updated_at = now
        history.record(
            session, ticket, EventType.REOPENED, relay=RELAY, now=now,
            unit_id=ticket.unit_id, data={"reason": body.comment or "citizen dissatisfied"},
        )  # fmt: skip
        ask_router(session, ticket, now)
    return _feedback_out(event)


def feedback_of(session: Session, ticket_id: str) -> list[FeedbackOut]:
    """Every feedback recorded on the ticket, oldest first."""
    if session.get(Ticket, ticket_id) is None:
        raise NotFound(ticket_id)
    events = session.scalars(
        select(Event)
        .where(Event.ticket_id == ticket_id, Event.type == EventType.FEEDBACK_RECORDED.value)
        .order_by(Event.at)
    ).all()
    return [_feedback_out(e) for e in events]


def notifications_of(session: Session, ticket_id: str) -> list[NotificationOut]:
    """Every notification of the ticket (escalations, the citizen's) and how delivery went."""
    if session.get(Ticket, ticket_id) is None:
        raise NotFound(ticket_id)
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.key == ticket_id, OutboxMessage.dedup_key.is_not(None))
        .order_by(OutboxMessage.id)
    ).all()
    return [
        NotificationOut(
            id=row.dedup_key or "",
            kind=str(row.payload.get("kind", "")),
            channel=str(row.payload.get("channel", "")),
            address=str(row.payload.get("address", "")),
            transport=row.transport,
            tries=row.tries,
            created_at=row.created_at,
            sent_at=row.published_at,
            dead_lettered_at=row.dead_at,
            last_error=row.last_error,
        )
        for row in rows
    ]
