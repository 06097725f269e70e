"""What the intake does for the feedback group: record the citizen's satisfaction, reopen a
ticket on dissatisfaction, and show a ticket's feedback and notifications.

A command runs in one ledger transaction, holding the ticket's lock like
every other move of a ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.intake.feedback_schemas import Feedback, FeedbackOut, NotificationOut, Satisfaction
from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import RELAY, ask_router
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import Action, is_legal
from hotline.shared.ledger import deliveries, history, tickets
from hotline.shared.ledger import feedback as ledger_feedback
from hotline.shared.ledger.schema import Event, OutboxMessage


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
    attempt with fresh clocks. Feedback alone is no move: the ticket stays
    resolved and keeps the time it last changed.
    """
    ticket = tickets.lock(session, ticket_id)
    state = ticket.state
    if not is_legal(state, Action.RECORD_FEEDBACK):
        raise Conflict(f"only a resolved ticket takes feedback; this one is {state}", state)
    dissatisfied = body.result is Satisfaction.DISSATISFIED
    reopen = body.reopen
    if reopen is None:
        reopen = dissatisfied and config.notifications.reopen_on_dissatisfied
    if reopen and not dissatisfied:
        raise Invalid(
            ("reopen",), f"only a dissatisfied result reopens a ticket, not {body.result}"
        )
    if ledger_feedback.recorded_on_result(session, ticket) is not None:
        raise Conflict("feedback on this result was already recorded", state)
    data = {"result": body.result.value, "comment": body.comment, "reopen": reopen, "by": body.by}
    event = history.record(
        session, ticket, EventType.FEEDBACK_RECORDED, relay=RELAY, now=now,
        unit_id=ticket.unit_id, data=data,
    )  # fmt: skip
    if reopen:
        tickets.move(
            session, ticket, Action.REOPEN, EventType.REOPENED, relay=RELAY, now=now,
            unit_id=ticket.unit_id, data={"reason": body.comment or "citizen dissatisfied"},
        )  # fmt: skip
        ask_router(session, ticket, now)
    return _feedback_out(event)


def feedback_of(session: Session, ticket_id: str) -> list[FeedbackOut]:
    """Every feedback recorded on the ticket, oldest first."""
    tickets.find(session, ticket_id)
    return [_feedback_out(e) for e in ledger_feedback.of_ticket(session, ticket_id)]


def notifications_of(session: Session, ticket_id: str) -> list[NotificationOut]:
    """Every notification of the ticket (escalations, the citizen's) and how delivery went."""
    tickets.find(session, ticket_id)
    return [_notification_out(row) for row in deliveries.notifications_of(session, ticket_id)]


def _notification_out(row: OutboxMessage) -> NotificationOut:
    return NotificationOut(
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
