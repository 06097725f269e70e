"""What the intake does for the SLA commands: progress, extension requests and decisions.

Each runs in one ledger transaction, holding the ticket's lock (and on SQLite
the write lock) before it reads a clock, like every other stop or move of a
clock, so a rung can never fire on a clock this transaction just stopped or
moved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.intake.handlers import Acted, Conflict, Invalid, NotFound, current_task
from hotline.intake.sla_schemas import ExtensionAsked, ExtensionDecided, Progress
from hotline.shared.domain.config import Clock, Counting, DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.sla import extended, keeper_for
from hotline.shared.domain.ticket import WITH_UNIT, Action, State
from hotline.shared.ledger import clocks, history
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.ledger.schema import Deadline, Extension, SlaClock, Ticket

RELAY = Publisher.INTAKE
REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"


class NoSuchExtension(Exception):
    """No extension with that id belongs to the ticket."""


def report_progress(session: Session, ticket_id: str, body: Progress, now: datetime) -> Acted:
    """The unit reports progress; the first report stops the first-response clock."""
    acted = current_task(session, ticket_id, body.unit_id, Action.REPORT_PROGRESS)
    ticket = acted.ticket
    ticket.updated_at = now
    first = clocks.running(session, ticket, Clock.FIRST_RESPONSE)
    clocks.stop(session, ticket, [Clock.FIRST_RESPONSE], now)
    history.record(
        session, ticket, EventType.PROGRESS_REPORTED, relay=RELAY, now=now,
        unit_id=body.unit_id,
        data={
            "note": body.note,
            "first_response": first,
            "assigned_at": acted.assignment.assigned_at.isoformat(),
        },
    )  # fmt: skip
    return acted


def _held_task(session: Session, ticket_id: str) -> Ticket:
    write_lock(session)
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(ticket_id)
    return ticket


def _running_resolution(session: Session, ticket: Ticket) -> SlaClock:
    clock = clocks.current(session, ticket, Clock.RESOLUTION)
    if clock is None or clock.stopped_at is not None:
        state = State(ticket.state)
        raise Conflict("the task has no running resolution clock to extend", state)
    return clock


def request_extension(
    session: Session, ticket_id: str, body: ExtensionAsked, now: datetime
) -> Extension:
    """The unit holding the task asks for more time on its resolution deadline."""
    if body.unit_id is None:
        raise Invalid(("unit_id",), "name the unit that acts")
    ticket = _held_task(session, ticket_id)
    state = State(ticket.state)
    if state not in WITH_UNIT:
        raise Conflict(f"only a task a unit holds can be extended; this one is {state}", state)
    if ticket.unit_id != body.unit_id:
        raise Conflict(f"the task is assigned to {ticket.unit_id}, not {body.unit_id}", state)
    clock = _running_resolution(session, ticket)
    if body.until is not None and body.until <= clock.due_at:
        raise Invalid(
            ("until",), f"must be after the resolution deadline {clock.due_at.isoformat()}"
        )
    waiting = session.scalars(
        select(Extension.id).where(
            Extension.ticket_id == ticket.id,
            Extension.attempt == ticket.attempt,
            Extension.state == REQUESTED,
        )
    ).first()
    if waiting is not None:
        raise Conflict(f"extension {waiting} is still waiting for a decision", state)
    extension = Extension(
        ticket_id=ticket.id,
        attempt=ticket.attempt,
        unit_id=body.unit_id,
        clock=Clock.RESOLUTION.value,
        reason=body.reason,
        extra_seconds=body.extra.total_seconds() if body.extra is not None else None,
        until=body.until,
        state=REQUESTED,
        requested_at=now,
    )
    session.add(extension)
    session.flush()
    history.record(
        session, ticket, EventType.EXTENSION_REQUESTED, relay=RELAY, now=now,
        unit_id=body.unit_id,
        data={
            "extension_id": extension.id,
            "reason": body.reason,
            "extra_seconds": extension.extra_seconds,
            "until": body.until.isoformat() if body.until else None,
            "resolve_by": clock.due_at.isoformat(),
        },
    )  # fmt: skip
    return extension


def decide_extension(
    session: Session,
    config: DistrictConfig,
    ticket_id: str,
    extension_id: int,
    body: ExtensionDecided,
    approve: bool,
    now: datetime,
) -> Extension:
    """A supervisor approves (the deadline and its pending rungs move) or refuses a request."""
    ticket = _held_task(session, ticket_id)
    extension = session.get(Extension, extension_id, with_for_update=True)
    if extension is None or extension.ticket_id != ticket.id:
        raise NoSuchExtension(f"ticket {ticket_id} has no extension {extension_id}")
    state = State(ticket.state)
    if extension.state != REQUESTED:
        raise Conflict(f"extension {extension_id} was already {extension.state}", state)
    if extension.attempt != ticket.attempt or state not in WITH_UNIT:
        raise Conflict("the task has moved on since the extension was asked for", state)
    extension.decided_at = now
    extension.decided_by = body.by
    extension.note = body.note
    data: dict[str, object] = {"extension_id": extension.id, "by": body.by, "note": body.note}
    if not approve:
        extension.state = REFUSED
        history.record(
            session, ticket, EventType.EXTENSION_REFUSED, relay=RELAY, now=now,
            unit_id=extension.unit_id, data=data,
        )  # fmt: skip
        return extension
    clock = _running_resolution(session, ticket)
    keeper = keeper_for(config.sla, Counting(clock.counting), config.zone)
    extra = None if extension.extra_seconds is None else _seconds(extension.extra_seconds)
    new_due, shift = extended(keeper, clock.due_at, extra=extra, until=extension.until)
    if new_due <= clock.due_at:
        raise Conflict(f"the resolution deadline is already {clock.due_at.isoformat()}", state)
    pending = session.scalars(
        select(Deadline)
        .where(
            Deadline.ticket_id == ticket.id,
            Deadline.attempt == ticket.attempt,
            Deadline.clock == Clock.RESOLUTION.value,
            Deadline.fired_at.is_(None),
            Deadline.stopped_at.is_(None),
        )
        .with_for_update()
    ).all()
    for step in pending:
        step.due_at = keeper.add(step.due_at, shift)
    extension.state = APPROVED
    extension.old_due_at, extension.new_due_at = clock.due_at, new_due
    clock.due_at = new_due
    ticket.updated_at = now
    data |= {
        "old_due_at": extension.old_due_at.isoformat(),
        "new_due_at": new_due.isoformat(),
        "steps_moved": len(pending),
    }
    history.record(
        session, ticket, EventType.EXTENSION_APPROVED, relay=RELAY, now=now,
        unit_id=extension.unit_id, data=data,
    )  # fmt: skip
    return extension


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
