"""The native API's request routes: record a request, list and show tickets, assign one from
triage, and a unit's sign-for, result and return. Thin: HTTP in, a command, HTTP out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response
from sqlalchemy.orm import Session

from hotline.intake import triage, unit_tasks
from hotline.intake.auth import acting_unit
from hotline.intake.context import Ctx, IntakeContext, read, run_and_wake
from hotline.intake.refusals import Invalid
from hotline.intake.routes.acting import act
from hotline.intake.routes.roles import Acts, Dispatches, TakesCalls, Who
from hotline.intake.routes.submission import submit
from hotline.intake.routes.views import check_may_see, masked_for, task_out, ticket_out
from hotline.intake.schemas import (
    ERRORS,
    Assign,
    Created,
    NewRequest,
    Resolve,
    Return,
    SignFor,
    TaskOut,
    TicketOut,
)
from hotline.shared.domain.access import Principal, Role
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger import requests as ledger_requests
from hotline.shared.ledger import tickets
from hotline.shared.observability import metrics

routes = APIRouter(prefix="/api/v1/requests", tags=["requests"], responses=ERRORS)

IdempotencyKey = Annotated[
    str | None,
    Header(max_length=200, description="the same key again returns the first call's ticket (200)"),
]


@routes.post(
    "",
    status_code=201,
    response_model=Created,
    responses={200: {"model": Created, "description": "a repeat of an earlier request"}},
)
async def create(
    body: NewRequest,
    response: Response,
    _: TakesCalls,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> Created:
    """Record a citizen's request; the router is told once the ledger has it."""
    done = await submit(ctx, body, idempotency_key)
    if not done.created:
        response.status_code = 200
    ticket = done.ticket
    return Created(id=ticket.id, state=ticket.state, duplicate_of=ticket.duplicate_of)


def _listed_for(
    ctx: IntakeContext, who: Principal, unit: str | None, state: list[State] | None
) -> tuple[str | None, list[State] | None]:
    """The unit and states a caller lists: a unit's token only the tasks it holds now."""
    if who.role is Role.UNIT:
        if unit is not None and unit != who.unit_id:
            raise HTTPException(403, detail=f"a token of unit {who.unit_id} lists only its own")
        return who.unit_id, [s for s in (state or WITH_UNIT) if s in WITH_UNIT]
    if unit is not None and ctx.source.config.unit(unit) is None:
        raise Invalid(("unit",), f"unknown unit {unit!r}")
    return unit, state


@routes.get("", response_model=list[TaskOut])
async def listing(
    who: Who,
    ctx: Ctx,
    unit: Annotated[
        str | None, Query(max_length=64, description="tickets now with this unit")
    ] = None,
    state: Annotated[list[State] | None, Query(description="any of these states")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TaskOut]:
    """Tickets, newest change first. A unit's token lists only the tasks it holds now
    (assigned or signed for); staff list by unit and state (``state=triage``: the
    dispatcher's manual-triage list)."""
    unit, states = _listed_for(ctx, who, unit, state)
    config = ctx.source.config

    def work(session: Session, _: datetime) -> list[TaskOut]:
        found = ledger_requests.listing(session, unit, states, limit)
        return [masked_for(config, who, task_out(t)) for t in found]

    return await read(ctx, work)


@routes.get("/{ticket_id}", response_model=TicketOut)
async def show(ticket_id: str, who: Who, ctx: Ctx) -> TicketOut:
    """A ticket with its state, its current assignment and its whole history."""

    def work(session: Session, _: datetime) -> TicketOut:
        ticket = tickets.find(session, ticket_id)
        check_may_see(who, ticket)
        return masked_for(ctx.source.config, who, ticket_out(session, ticket))

    return await read(ctx, work)


@routes.post("/{ticket_id}/assign", response_model=TicketOut)
async def assign(ticket_id: str, body: Assign, who: Dispatches, ctx: Ctx) -> TicketOut:
    """A dispatcher assigns a ticket from manual triage to a unit."""
    if body.dispatcher is None:
        body = body.model_copy(update={"dispatcher": who.name})
    config = ctx.source.config

    def work(session: Session, now: datetime) -> TicketOut:
        ticket = triage.assign_by_hand(session, config, ticket_id, body, now)
        session.flush()
        return ticket_out(session, ticket)

    return await run_and_wake(ctx, work)


@routes.post("/{ticket_id}/ack", response_model=TicketOut)
async def ack(ticket_id: str, body: SignFor, who: Acts, ctx: Ctx) -> TicketOut:
    """The unit signs for its task."""
    unit = acting_unit(who, body.unit_id)
    return await act(
        ctx,
        lambda s, now: unit_tasks.sign_for(s, ticket_id, body, now, unit),
        metrics.TASKS_SIGNED_FOR,
    )


@routes.post("/{ticket_id}/resolve", response_model=TicketOut)
async def resolve(ticket_id: str, body: Resolve, who: Acts, ctx: Ctx) -> TicketOut:
    """The unit finishes the task with a result."""
    unit = acting_unit(who, body.unit_id)
    config = ctx.source.config
    return await act(
        ctx,
        lambda s, now: unit_tasks.resolve(s, ticket_id, body, now, config, unit),
        metrics.TASKS_RESOLVED,
    )


@routes.post("/{ticket_id}/return", response_model=TicketOut)
async def give_back(ticket_id: str, body: Return, who: Acts, ctx: Ctx) -> TicketOut:
    """The unit returns a task that is not its own; it will be routed elsewhere."""
    unit = acting_unit(who, body.unit_id)
    return await act(
        ctx,
        lambda s, now: unit_tasks.return_task(s, ticket_id, body, now, unit),
        metrics.TASKS_RETURNED,
    )
