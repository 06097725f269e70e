"""A ticket as the native API shows it: whole with its history and clocks, or in a list;
and what a unit's token may see of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import HTTPException
from sqlalchemy.orm import Session

from hotline.intake.schemas import AssignmentOut, Caller, EventOut, TaskOut, TicketOut
from hotline.intake.sla_schemas import ClockOut, EndToEndOut, ExtensionOut, SlaOut
from hotline.shared.domain.access import Principal, Role
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.privacy import mask_caller
from hotline.shared.domain.ticket import State
from hotline.shared.ledger import extensions, requests, tasks
from hotline.shared.ledger.schema import Assignment, Ticket

Shown = TypeVar("Shown", TaskOut, TicketOut)


def masked_for(config: DistrictConfig, who: Principal, shown: Shown) -> Shown:
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


def sla_view(session: Session, ticket: Ticket, now: datetime | None = None) -> SlaOut:
    """The ticket's end-to-end clock, its current task's clocks, and its extensions."""
    now = now or datetime.now(UTC)
    stopped: datetime | None = None
    if ticket.state is State.RESOLVED:
        stopped = tasks.resolved_at(session, ticket)
    elif ticket.state is State.TRANSFERRED:
        stopped = ticket.updated_at
    return SlaOut(
        end_to_end=EndToEndOut(
            started_at=ticket.created_at,
            stopped_at=stopped,
            elapsed_seconds=round(((stopped or now) - ticket.created_at).total_seconds(), 3),
        ),
        escalation_level=ticket.escalation_level,
        clocks=[
            ClockOut.model_validate(c, from_attributes=True)
            for c in tasks.clocks_of(session, ticket)
        ],
        extensions=[
            ExtensionOut.model_validate(e, from_attributes=True)
            for e in extensions.of_ticket(session, ticket.id)
        ],
    )


def _assignment_out(a: Assignment) -> AssignmentOut:
    return AssignmentOut.model_validate(a, from_attributes=True)


def _listed(ticket: Ticket) -> dict[str, Any]:
    """What a ticket shows in a list and whole alike."""
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
        "escalation_level": ticket.escalation_level,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def task_out(ticket: Ticket) -> TaskOut:
    """The ticket in a list: enough to pick it and act on it."""
    return TaskOut(**_listed(ticket), attempt=ticket.attempt)


def ticket_out(session: Session, ticket: Ticket) -> TicketOut:
    """The ticket with its state, its current assignment, its links and its whole history."""
    assignments = tasks.of_ticket(session, ticket.id)
    events = requests.history_of(session, ticket.id)
    current = next((a for a in assignments if a.attempt == ticket.attempt), None)
    linked = requests.linked_to(session, ticket.id)
    return TicketOut(
        **_listed(ticket),
        district=ticket.district,
        channel=ticket.channel,
        lat=ticket.lat,
        lon=ticket.lon,
        transfer_to=ticket.transfer_to,
        peer_ticket_id=ticket.peer_ticket_id,
        resolved_at_intake=ticket.resolved_at_intake,
        intake_answer=ticket.intake_answer,
        duplicate_of=ticket.duplicate_of,
        link_kind=ticket.link_kind,
        duplicates=[t.id for t in linked if t.link_kind == "duplicate"],
        also_reported_by=sum(1 for t in linked if t.link_kind == "also-reported"),
        assignment=_assignment_out(current) if current else None,
        assignments=[_assignment_out(a) for a in assignments],
        events=[EventOut.model_validate(e, from_attributes=True) for e in events],
        sla=sla_view(session, ticket),
    )
