"""The feedback group's routes: the citizen's satisfaction with a result, and a ticket's
notifications. Thin like the rest of the API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from hotline.intake import feedback
from hotline.intake.context import Ctx, read, run_and_wake
from hotline.intake.feedback_schemas import Feedback, FeedbackOut, NotificationOut
from hotline.intake.routes.roles import RecordsFeedback, Staff
from hotline.intake.schemas import ERRORS
from hotline.shared.observability import metrics

routes = APIRouter(prefix="/api/v1/requests", tags=["feedback"], responses=ERRORS)


@routes.post("/{ticket_id}/feedback", status_code=201, response_model=FeedbackOut)
async def record(ticket_id: str, body: Feedback, who: RecordsFeedback, ctx: Ctx) -> FeedbackOut:
    """Record the citizen's satisfaction with a resolved ticket (409 otherwise).

    A dissatisfied result reopens the ticket (unless ``reopen`` is false, or
    the district file says otherwise); the router then routes it again.
    """
    if body.by is None:
        body = body.model_copy(update={"by": who.name})
    config = ctx.source.config
    done = await run_and_wake(
        ctx, lambda s, now: feedback.record_feedback(s, config, ticket_id, body, now)
    )
    metrics.FEEDBACK.labels(config.district, done.result.value).inc()
    return done


@routes.get("/{ticket_id}/feedback", response_model=list[FeedbackOut])
async def show(ticket_id: str, _: Staff, ctx: Ctx) -> list[FeedbackOut]:
    """The feedback recorded on the ticket, oldest first."""

    def work(session: Session, _: datetime) -> list[FeedbackOut]:
        return feedback.feedback_of(session, ticket_id)

    return await read(ctx, work)


@routes.get("/{ticket_id}/notifications", response_model=list[NotificationOut])
async def notifications(ticket_id: str, _: Staff, ctx: Ctx) -> list[NotificationOut]:
    """Who was told about the ticket, through which channel, and whether it got there."""

    def work(session: Session, _: datetime) -> list[NotificationOut]:
        return feedback.notifications_of(session, ticket_id)

    return await read(ctx, work)
