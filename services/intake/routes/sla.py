"""The native API's SLA routes: a unit's progress and extension requests, a supervisor's
decision, and a ticket's clocks. Thin like the rest of the API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from hotline.intake import extensions, unit_tasks
from hotline.intake.auth import acting_unit
from hotline.intake.context import Ctx, IntakeContext, read, run_and_wake
from hotline.intake.routes.acting import act
from hotline.intake.routes.roles import Acts, Supervises, Who
from hotline.intake.routes.views import check_may_see, sla_view
from hotline.intake.schemas import ERRORS, TicketOut
from hotline.intake.sla_schemas import (
    ExtensionAsked,
    ExtensionDecided,
    ExtensionOut,
    Progress,
    SlaOut,
)
from hotline.shared.domain.access import Principal
from hotline.shared.ledger import tickets

routes = APIRouter(prefix="/api/v1/requests", tags=["sla"], responses=ERRORS)


@routes.post("/{ticket_id}/progress", response_model=TicketOut)
async def progress(ticket_id: str, body: Progress, who: Acts, ctx: Ctx) -> TicketOut:
    """The unit reports progress or contact with the citizen; the first stops first-response."""
    body = body.model_copy(update={"unit_id": acting_unit(who, body.unit_id)})
    return await act(ctx, lambda s, now: unit_tasks.report_progress(s, ticket_id, body, now))


@routes.get("/{ticket_id}/sla", response_model=SlaOut)
async def show(ticket_id: str, who: Who, ctx: Ctx) -> SlaOut:
    """The ticket's clocks: end to end since intake, and its current task's three."""

    def work(session: Session, now: datetime) -> SlaOut:
        ticket = tickets.find(session, ticket_id)
        check_may_see(who, ticket)
        return sla_view(session, ticket, now)

    return await read(ctx, work)


@routes.post("/{ticket_id}/extensions", status_code=201, response_model=ExtensionOut)
async def ask(ticket_id: str, body: ExtensionAsked, who: Acts, ctx: Ctx) -> ExtensionOut:
    """The unit asks for more time to resolve, with a reason; the district decides."""
    body = body.model_copy(update={"unit_id": acting_unit(who, body.unit_id)})

    def work(session: Session, now: datetime) -> ExtensionOut:
        extension = extensions.request_extension(session, ticket_id, body, now)
        return ExtensionOut.model_validate(extension, from_attributes=True)

    return await run_and_wake(ctx, work)


async def _decide(
    ctx: IntakeContext,
    ticket_id: str,
    extension_id: int,
    body: ExtensionDecided,
    who: Principal,
    approve: bool,
) -> ExtensionOut:
    if body.by is None:
        body = body.model_copy(update={"by": who.name})
    config = ctx.source.config

    def work(session: Session, now: datetime) -> ExtensionOut:
        extension = extensions.decide_extension(
            session, config, ticket_id, extension_id, body, approve, now
        )
        return ExtensionOut.model_validate(extension, from_attributes=True)

    return await run_and_wake(ctx, work)


@routes.post("/{ticket_id}/extensions/{extension_id}/approve", response_model=ExtensionOut)
async def approve(
    ticket_id: str, extension_id: int, body: ExtensionDecided, who: Supervises, ctx: Ctx
) -> ExtensionOut:
    """A supervisor approves: the resolution deadline and its pending steps move."""
    return await _decide(ctx, ticket_id, extension_id, body, who, approve=True)


@routes.post("/{ticket_id}/extensions/{extension_id}/refuse", response_model=ExtensionOut)
async def refuse(
    ticket_id: str, extension_id: int, body: ExtensionDecided, who: Supervises, ctx: Ctx
) -> ExtensionOut:
    """A supervisor refuses: the deadline stays."""
    return await _decide(ctx, ticket_id, extension_id, body, who, approve=False)
