"""What the intake does with a unit's request for more time: record it, and a supervisor's
approval (the resolution deadline and its pending rungs move) or refusal.

Each runs in one ledger transaction, holding the ticket's lock before it
reads a clock, like every other stop or move of a clock, so a rung can never
fire on a clock this transaction just moved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import RELAY
from hotline.intake.sla_schemas import ExtensionAsked, ExtensionDecided
from hotline.intake.unit_tasks import held_task
from hotline.shared.domain.config import Clock, Counting, DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.sla import extended, keeper_for
from hotline.shared.domain.ticket import WITH_UNIT
from hotline.shared.ledger import clocks, history, tickets
from hotline.shared.ledger import extensions as ledger_extensions
from hotline.shared.ledger.extensions import APPROVED, REFUSED, REQUESTED
from hotline.shared.ledger.schema import Extension, SlaClock, Ticket


class NoSuchExtension(Exception):
    """No extension with that id belongs to the ticket."""


def _running_resolution(session: Session, ticket: Ticket) -> SlaClock:
    clock = clocks.current(session, ticket, Clock.RESOLUTION)
    if clock is None or clock.stopped_at is not None:
        raise Conflict("the task has no running resolution clock to extend", ticket.state)
    return clock


def request_extension(
    session: Session, ticket_id: str, body: ExtensionAsked, now: datetime
) -> Extension:
    """The unit holding the task asks for more time on its resolution deadline."""
    ticket = held_task(session, ticket_id, body.unit_id)
    state = ticket.state
    if state not in WITH_UNIT:
        raise Conflict(f"only a task a unit holds can be extended; this one is {state}", state)
    clock = _running_resolution(session, ticket)
    if body.until is not None and body.until <= clock.due_at:
        raise Invalid(
            ("until",), f"must be after the resolution deadline {clock.due_at.isoformat()}"
        )
    waiting = ledger_extensions.waiting(session, ticket)
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
    ticket = tickets.lock(session, ticket_id)
    extension = ledger_extensions.lock(session, ticket, extension_id)
    if extension is None:
        raise NoSuchExtension(f"ticket {ticket_id} has no extension {extension_id}")
    state = ticket.state
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
    data |= _approve(session, config, ticket, extension, now)
    history.record(
        session, ticket, EventType.EXTENSION_APPROVED, relay=RELAY, now=now,
        unit_id=extension.unit_id, data=data,
    )  # fmt: skip
    return extension


def _approve(
    session: Session, config: DistrictConfig, ticket: Ticket, extension: Extension, now: datetime
) -> dict[str, object]:
    """Move the resolution deadline and its pending rungs by the time granted; what moved."""
    clock = _running_resolution(session, ticket)
    keeper = keeper_for(config.sla, Counting(clock.counting), config.zone)
    extra = None if extension.extra_seconds is None else timedelta(seconds=extension.extra_seconds)
    new_due, shift = extended(keeper, clock.due_at, extra=extra, until=extension.until)
    if new_due <= clock.due_at:
        raise Conflict(
            f"the resolution deadline is already {clock.due_at.isoformat()}", ticket.state
        )
    pending = ledger_extensions.pending_steps(session, ticket, Clock.RESOLUTION)
    for step in pending:
        step.due_at = keeper.add(step.due_at, shift)
    extension.state = APPROVED
    extension.old_due_at, extension.new_due_at = clock.due_at, new_due
    clock.due_at = new_due
    # Not a move: the task stays where it is, but its deadline changed now.
    ticket.updated_at = now
    return {
        "old_due_at": extension.old_due_at.isoformat(),
        "new_due_at": new_due.isoformat(),
        "steps_moved": len(pending),
    }
