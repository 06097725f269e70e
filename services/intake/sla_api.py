"""The intake's SLA routes: a unit's progress and extension requests, a supervisor's decision,
and a ticket's clocks. Included by ``api.install``; thin like the rest of the API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.intake import api, handlers, sla_handlers
from hotline.intake.auth import acting_unit, require
from hotline.intake.schemas import ERRORS, TicketOut
from hotline.intake.sla_schemas import (
    ClockOut,
    EndToEndOut,
    ExtensionAsked,
    ExtensionDecided,
    ExtensionOut,
    Progress,
    SlaOut,
)
from hotline.shared.domain.access import Principal, Role
from hotline.shared.domain.ticket import State
from hotline.shared.ledger.schema import Assignment, Extension, SlaClock, Ticket


def sla_view(session: Session, ticket: Ticket, now: datetime | None = None) -> SlaOut:
    """The ticket's end-to-end clock, its current task's clocks, and its extensions."""
    now = now or datetime.now(UTC)
    stopped: datetime | None = None
    if ticket.state == State.RESOLVED:
        stopped = session.scalar(
            select(Assignment.resolved_at).where(
                Assignment.ticket_id == ticket.id, Assignment.attempt == ticket.attempt
            )
        )
    elif ticket.state == State.TRANSFERRED:
        stopped = ticket.updated_at
    rows = session.scalars(
        select(SlaClock)
        .where(SlaClock.ticket_id == ticket.id, SlaClock.attempt == ticket.attempt)
        .order_by(SlaClock.id)
    ).all()
    extensions = session.scalars(
        select(Extension).where(Extension.ticket_id == ticket.id).order_by(Extension.id)
    ).all()
    return SlaOut(
        end_to_end=EndToEndOut(
            started_at=ticket.created_at,
            stopped_at=stopped,
            elapsed_seconds=round(((stopped or now) - ticket.created_at).total_seconds(), 3),
        ),
        escalation_level=ticket.escalation_level,
        clocks=[ClockOut.model_validate(r, from_attributes=True) for r in rows],
        extensions=[ExtensionOut.model_validate(e, from_attributes=True) for e in extensions],
    )


#: Who decides on an extension: a supervisor (or admin).
Supervises = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


def router(ctx: api.IntakeContext) -> APIRouter:
    """The SLA routes under ``/api/v1/requests``."""
    routes = APIRouter(prefix="/api/v1/requests", tags=["sla"], responses=ERRORS)

    @routes.post("/{ticket_id}/progress", response_model=TicketOut)
    async def progress(ticket_id: str, body: Progress, who: api.Acts) -> TicketOut:
        """The unit reports progress or contact with the citizen; the first stops first-response."""
        body = body.model_copy(update={"unit_id": acting_unit(who, body.unit_id)})
        return await api.run_and_wake(
            ctx, lambda s, now: api._acted(s, sla_handlers.report_progress(s, ticket_id, body, now))
        )

    @routes.get("/{ticket_id}/sla", response_model=SlaOut)
    async def show(ticket_id: str, who: api.Who) -> SlaOut:
        """The ticket's clocks: end to end since intake, and its current task's three."""

        def read(session: Session, now: datetime) -> SlaOut:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise handlers.NotFound(ticket_id)
            api.check_may_see(who, ticket)
            return sla_view(session, ticket, now)

        return await asyncio.to_thread(api.in_transaction, ctx, read)

    @routes.post("/{ticket_id}/extensions", status_code=201, response_model=ExtensionOut)
    async def ask(ticket_id: str, body: ExtensionAsked, who: api.Acts) -> ExtensionOut:
        """The unit asks for more time to resolve, with a reason; the district decides."""
        body = body.model_copy(update={"unit_id": acting_unit(who, body.unit_id)})

        def work(session: Session, now: datetime) -> ExtensionOut:
            extension = sla_handlers.request_extension(session, ticket_id, body, now)
            return ExtensionOut.model_validate(extension, from_attributes=True)

        return await api.run_and_wake(ctx, work)

    async def decide(
        ticket_id: str, extension_id: int, body: ExtensionDecided, who: Principal, approve: bool
    ) -> ExtensionOut:
        if body.by is None:
            body = body.model_copy(update={"by": who.name})
        config = ctx.source.config

        def work(session: Session, now: datetime) -> ExtensionOut:
            extension = sla_handlers.decide_extension(
                session, config, ticket_id, extension_id, body, approve, now
            )
            return ExtensionOut.model_validate(extension, from_attributes=True)

        try:
            return await api.run_and_wake(ctx, work)
        except sla_handlers.NoSuchExtension as exc:
            raise HTTPException(404, str(exc)) from None

    @routes.post("/{ticket_id}/extensions/{extension_id}/approve", response_model=ExtensionOut)
    async def approve(
        ticket_id: str, extension_id: int, body: ExtensionDecided, who: Supervises
    ) -> ExtensionOut:
        """A supervisor approves: the resolution deadline and its pending steps move."""
        return await decide(ticket_id, extension_id, body, who, approve=True)

    @routes.post("/{ticket_id}/extensions/{extension_id}/refuse", response_model=ExtensionOut)
    async def refuse(
        ticket_id: str, extension_id: int, body: ExtensionDecided, who: Supervises
    ) -> ExtensionOut:
        """A supervisor refuses: the deadline stays."""
        return await decide(ticket_id, extension_id, body, who, approve=False)

    return routes
