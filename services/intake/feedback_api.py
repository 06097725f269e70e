"""The feedback group's routes: the citizen's satisfaction with a result, and a ticket's
notifications. Included by ``api.install``; thin like the rest of the API."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from hotline.intake import api, feedback_handlers
from hotline.intake.auth import require
from hotline.intake.feedback_schemas import Feedback, FeedbackOut, NotificationOut
from hotline.intake.schemas import ERRORS
from hotline.shared.domain.access import STAFF, Principal, Role
from hotline.shared.observability import metrics

#: Who records the citizen's satisfaction: the feedback group (or admin).
RecordsFeedback = Annotated[Principal, Depends(require(Role.FEEDBACK))]
#: Who reads a ticket's feedback and notifications: staff, not units.
Staff = Annotated[Principal, Depends(require(*STAFF))]


def router(ctx: api.IntakeContext) -> APIRouter:
    """The feedback and notification routes under ``/api/v1/requests``."""
    routes = APIRouter(prefix="/api/v1/requests", tags=["feedback"], responses=ERRORS)

    @routes.post("/{ticket_id}/feedback", status_code=201, response_model=FeedbackOut)
    async def record(ticket_id: str, body: Feedback, who: RecordsFeedback) -> FeedbackOut:
        """Record the citizen's satisfaction with a resolved ticket (409 otherwise).

        A dissatisfied result reopens the ticket (unless ``reopen`` is false, or
        the district file says otherwise); the router then routes it again.
        """
        if body.by is None:
            body = body.model_copy(update={"by": who.name})
        config = ctx.source.config
        done = await api.run_and_wake(
            ctx, lambda s, now: feedback_handlers.record_feedback(s, config, ticket_id, body, now)
        )
        metrics.FEEDBACK.labels(config.district, done.result.value).inc()
        return done

    @routes.get("/{ticket_id}/feedback", response_model=list[FeedbackOut])
    async def show(ticket_id: str, _: Staff) -> list[FeedbackOut]:
        """The feedback recorded on the ticket, oldest first."""

        def read(session: Session, _: datetime) -> list[FeedbackOut]:
            return feedback_handlers.feedback_of(session, ticket_id)

        return await asyncio.to_thread(api.in_transaction, ctx, read)

    @routes.get("/{ticket_id}/notifications", response_model=list[NotificationOut])
    async def notifications(ticket_id: str, _: Staff) -> list[NotificationOut]:
        """Who was told about the ticket, through which channel, and whether it got there."""

        def read(session: Session, _: datetime) -> list[NotificationOut]:
            return feedback_handlers.notifications_of(session, ticket_id)

        return await asyncio.to_thread(api.in_transaction, ctx, read)

    return routes
