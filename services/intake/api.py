"""The intake's HTTP routes: thin, they turn HTTP into handler calls and back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.intake import feedback_api, handlers, sla_api
from hotline.intake.auth import acting_unit, require
from hotline.intake.schemas import (
    ERRORS,
    Assign,
    AssignmentOut,
    Caller,
    Created,
    EventOut,
    NewRequest,
    Resolve,
    Return,
    SignFor,
    TaskOut,
    TicketOut,
)
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.domain.access import STAFF, Principal, Role
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.privacy import mask_caller
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger.group_commit import GroupCommit
from hotline.shared.ledger.schema import Assignment, Event, Ticket
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import top_category

T = TypeVar("T")

#: Who may record a request.
TAKES_CALLS = require(Role.CALL_TAKER)
#: Who may read any ticket: every staff role (a unit reads only its own tasks).
READS = require(*STAFF, Role.UNIT)
#: Who acts on a task: the unit it is assigned to (admin for it, naming the unit).
UNIT_ACTS = require(Role.UNIT)
#: Who assigns from manual triage.
DISPATCHES = require(Role.DISPATCHER)

#: A caller as the routes receive it (module level: the routes' annotations are strings).
Who = Annotated[Principal, Depends(READS)]
Acts = Annotated[Principal, Depends(UNIT_ACTS)]


Shown = TypeVar("Shown", TaskOut, TicketOut)


def _masked_for(config: DistrictConfig, who: Principal, shown: Shown) -> Shown:
    """A unit's token sees the caller masked unless its district file lets it see callers."""
    if who.role is not Role.UNIT or who.unit_id is None:
        return shown
    if config.sees_caller(who.unit_id, handling=True):
        return shown
    masked = mask_caller({"name": shown.caller.name, "phone": shown.caller.phone})
    return shown.model_copy(
        update={"caller": Caller.model_construct(name=masked["name"], phone=masked["phone"])}
    )


def check_may_see(who: Principal, ticket: Ticket) -> None:
    """A unit sees only a ticket currently assigned to it; staff see every ticket."""
    if who.role is Role.UNIT and ticket.unit_id != who.unit_id:
        raise HTTPException(403, detail=f"ticket {ticket.id} is not assigned to unit {who.unit_id}")


@dataclass
class IntakeContext:
    """What the routes need: the ledger, the district file in force, a way to wake the relay."""

    sessions: sessionmaker[Session]
    source: ConfigSource
    wake_relay: Callable[[], None]
    writer: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.writer = GroupCommit(self.sessions, after_commit=self.wake_relay)


def in_transaction(ctx: IntakeContext, work: Callable[[Session, datetime], T]) -> T:
    """Run a read in a transaction of its own."""
    with ctx.sessions.begin() as session:
        return work(session, datetime.now(UTC))


async def run_and_wake(ctx: IntakeContext, work: Callable[[Session, datetime], T]) -> T:
    """Run a handler's writes off the event loop, committed with whatever else is being
    written at the moment (see ``GroupCommit``); the relay publishes after the commit."""
    return await ctx.writer.run(work)


def _assignment_out(a: Assignment) -> AssignmentOut:
    return AssignmentOut.model_validate(a, from_attributes=True)


def _ticket_out(session: Session, ticket: Ticket) -> TicketOut:
    assignments = session.scalars(
        select(Assignment).where(Assignment.ticket_id == ticket.id).order_by(Assignment.attempt)
    ).all()
    events = session.scalars(
        select(Event).where(Event.ticket_id == ticket.id).order_by(Event.at, Event.attempt)
    ).all()
    current = next((a for a in assignments if a.attempt == ticket.attempt), None)
    linked = session.scalars(
        select(Ticket).where(Ticket.duplicate_of == ticket.id).order_by(Ticket.created_at)
    ).all()
    return TicketOut(
        id=ticket.id,
        district=ticket.district,
        state=State(ticket.state),
        channel=ticket.channel,
        category=ticket.category,
        urgency=ticket.urgency,
        description=ticket.description,
        area_code=ticket.area_code,
        lat=ticket.lat,
        lon=ticket.lon,
        address=ticket.address,
        caller=Caller(name=ticket.caller_name, phone=ticket.caller_phone),
        unit_id=ticket.unit_id,
        escalation_level=ticket.escalation_level,
        transfer_to=ticket.transfer_to,
        peer_ticket_id=ticket.peer_ticket_id,
        resolved_at_intake=ticket.resolved_at_intake,
        intake_answer=ticket.intake_answer,
        duplicate_of=ticket.duplicate_of,
        link_kind=ticket.link_kind,
        duplicates=[t.id for t in linked if t.link_kind == "duplicate"],
        also_reported_by=sum(1 for t in linked if t.link_kind == "also-reported"),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        assignment=_assignment_out(current) if current else None,
        assignments=[_assignment_out(a) for a in assignments],
        events=[EventOut.model_validate(e, from_attributes=True) for e in events],
        sla=sla_api.sla_view(session, ticket),
    )


def _error(status: int, loc: tuple[str, ...], message: str, kind: str) -> JSONResponse:
    """The same error shape FastAPI uses for schema errors, so clients parse one form."""
    return JSONResponse(
        {"detail": [{"loc": ["body", *loc], "msg": message, "type": kind}]}, status_code=status
    )


def install(app: FastAPI, ctx: IntakeContext) -> None:
    """Add the intake's routes and error translations to ``app``."""
    router = APIRouter(prefix="/api/v1/requests", tags=["requests"], responses=ERRORS)
    district = ctx.source.config.district

    @app.exception_handler(handlers.Invalid)
    async def _invalid(_: Request, exc: handlers.Invalid) -> JSONResponse:
        return _error(422, exc.field, exc.message, "value_error")

    @app.exception_handler(handlers.NotFound)
    async def _not_found(_: Request, exc: handlers.NotFound) -> JSONResponse:
        return JSONResponse({"detail": f"no ticket {exc}"}, status_code=404)

    @app.exception_handler(handlers.Conflict)
    async def _conflict(_: Request, exc: handlers.Conflict) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "state": exc.state.value}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _unreadable(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @router.post(
        "",
        status_code=201,
        response_model=Created,
        responses={200: {"model": Created, "description": "a repeat of an earlier request"}},
    )
    async def create(
        body: NewRequest,
        response: Response,
        _: Annotated[Principal, Depends(TAKES_CALLS)],
        idempotency_key: Annotated[
            str | None,
            Header(
                max_length=200,
                description="the same key again returns the first call's ticket (200)",
            ),
        ] = None,
    ) -> Created:
        """Record a citizen's request; the router is told once the ledger has it."""
        router = ctx.source.rules
        try:
            done = await run_and_wake(
                ctx, lambda s, now: handlers.submit(s, router, body, now, idempotency_key)
            )
        except IntegrityError:  # the same key, posted twice at once: the other call won
            done = await run_and_wake(
                ctx, lambda s, now: handlers.submit(s, router, body, now, idempotency_key)
            )
        ticket = done.ticket
        if not done.created:
            response.status_code = 200
            return Created(
                id=ticket.id, state=State(ticket.state), duplicate_of=ticket.duplicate_of
            )
        count_received(ticket)
        return Created(id=ticket.id, state=State(ticket.state), duplicate_of=ticket.duplicate_of)

    @router.get("", response_model=list[TaskOut])
    async def listing(
        who: Who,
        unit: Annotated[
            str | None, Query(max_length=64, description="tickets now with this unit")
        ] = None,
        state: Annotated[list[State] | None, Query(description="any of these states")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[TaskOut]:
        """Tickets, newest change first. A unit's token lists only the tasks it holds now
        (assigned or signed for); staff list by unit and state (``state=triage``: the
        dispatcher's manual-triage list)."""
        states: list[State] | None = state
        if who.role is Role.UNIT:
            if unit is not None and unit != who.unit_id:
                raise HTTPException(403, detail=f"a token of unit {who.unit_id} lists only its own")
            unit = who.unit_id
            states = [s for s in (state or WITH_UNIT) if s in WITH_UNIT]
        elif unit is not None and ctx.source.config.unit(unit) is None:
            raise handlers.Invalid(("unit",), f"unknown unit {unit!r}")

        def read(session: Session, _: datetime) -> list[TaskOut]:
            found = handlers.list_tickets(session, unit, states, limit)
            config = ctx.source.config
            return [
                _masked_for(config, who, TaskOut.model_validate(_task_fields(t))) for t in found
            ]

        return await asyncio.to_thread(in_transaction, ctx, read)

    @router.get("/{ticket_id}", response_model=TicketOut)
    async def show(ticket_id: str, who: Who) -> TicketOut:
        """A ticket with its state, its current assignment and its whole history."""

        def read(session: Session, _: datetime) -> TicketOut:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise handlers.NotFound(ticket_id)
            check_may_see(who, ticket)
            return _masked_for(ctx.source.config, who, _ticket_out(session, ticket))

        return await asyncio.to_thread(in_transaction, ctx, read)

    @router.post("/{ticket_id}/assign", response_model=TicketOut)
    async def assign(
        ticket_id: str, body: Assign, who: Annotated[Principal, Depends(DISPATCHES)]
    ) -> TicketOut:
        """A dispatcher assigns a ticket from manual triage to a unit."""
        if body.dispatcher is None:
            body = body.model_copy(update={"dispatcher": who.name})

        def work(session: Session, now: datetime) -> TicketOut:
            ticket = handlers.assign_by_hand(session, ctx.source.config, ticket_id, body, now)
            session.flush()
            return _ticket_out(session, ticket)

        return await run_and_wake(ctx, work)

    @router.post("/{ticket_id}/ack", response_model=TicketOut)
    async def ack(ticket_id: str, body: SignFor, who: Acts) -> TicketOut:
        """The unit signs for its task."""
        unit = acting_unit(who, body.unit_id)
        acted = await run_and_wake(
            ctx, lambda s, now: _acted(s, handlers.sign_for(s, ticket_id, body, now, unit))
        )
        metrics.TASKS_SIGNED_FOR.labels(district, acted.unit_id, top_category(acted.category)).inc()
        return acted

    @router.post("/{ticket_id}/resolve", response_model=TicketOut)
    async def resolve(ticket_id: str, body: Resolve, who: Acts) -> TicketOut:
        """The unit finishes the task with a result."""
        unit = acting_unit(who, body.unit_id)
        config = ctx.source.config
        acted = await run_and_wake(
            ctx, lambda s, now: _acted(s, handlers.resolve(s, ticket_id, body, now, config, unit))
        )
        metrics.TASKS_RESOLVED.labels(district, acted.unit_id, top_category(acted.category)).inc()
        return acted

    @router.post("/{ticket_id}/return", response_model=TicketOut)
    async def give_back(ticket_id: str, body: Return, who: Acts) -> TicketOut:
        """The unit returns a task that is not its own; it will be routed elsewhere."""
        unit = acting_unit(who, body.unit_id)
        acted = await run_and_wake(
            ctx, lambda s, now: _acted(s, handlers.return_task(s, ticket_id, body, now, unit))
        )
        metrics.TASKS_RETURNED.labels(district, acted.unit_id, top_category(acted.category)).inc()
        return acted

    app.include_router(router)
    app.include_router(sla_api.router(ctx))
    app.include_router(feedback_api.router(ctx))


def count_received(ticket: Ticket) -> None:
    """Count a new request, and a first-contact resolution besides."""
    category = top_category(ticket.category)
    metrics.REQUESTS_RECEIVED.labels(
        ticket.district, category, ticket.channel, ticket.urgency
    ).inc()
    if ticket.resolved_at_intake:
        metrics.REQUESTS_RESOLVED_AT_INTAKE.labels(ticket.district, category, ticket.channel).inc()


def _acted(session: Session, acted: handlers.Acted) -> TicketOut:
    session.flush()
    return _ticket_out(session, acted.ticket)


def _task_fields(ticket: Ticket) -> dict[str, object]:
    return {
        "id": ticket.id,
        "state": ticket.state,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "description": ticket.description,
        "area_code": ticket.area_code,
        "address": ticket.address,
        "caller": Caller(name=ticket.caller_name, phone=ticket.caller_phone),
        "unit_id": ticket.unit_id,
        "attempt": ticket.attempt,
        "escalation_level": ticket.escalation_level,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }
