"""What a unit does with the task it holds: sign for it, report progress, resolve it, or
hand it back; each in one ledger transaction, holding the ticket's lock.

The lock comes first: whoever stops, moves or fires an SLA clock holds it,
so a rung can never fire on a clock this transaction just stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import RELAY, ask_router
from hotline.intake.schemas import Resolve, Return, SignFor
from hotline.intake.sla_schemas import Progress
from hotline.shared.domain.config import Clock, DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import WITH_UNIT, Action, IllegalMove
from hotline.shared.ledger import clocks, notifications, tasks, tickets
from hotline.shared.ledger.schema import Assignment, Ticket


@dataclass(frozen=True)
class Acted:
    """What a unit action changed, for the caller's metrics."""

    ticket: Ticket
    assignment: Assignment


def held_task(session: Session, ticket_id: str, unit_id: str | None) -> Ticket:
    """Lock the ticket a unit acts on, refusing a task another unit holds.

    Whether the action suits the ticket's state is the move's to say (a
    ticket no unit holds refuses every unit's action).
    """
    if unit_id is None:
        raise Invalid(("unit_id",), "name the unit that acts")
    ticket = tickets.lock(session, ticket_id)
    if ticket.state in WITH_UNIT and ticket.unit_id != unit_id:
        raise Conflict(f"the task is assigned to {ticket.unit_id}, not {unit_id}", ticket.state)
    return ticket


def _act_on_task(
    session: Session,
    ticket_id: str,
    unit_id: str | None,
    action: Action,
    event: EventType,
    now: datetime,
    details: Callable[[Acted], dict[str, Any]],
) -> Acted:
    """Lock the unit's task and take ``action`` on it: the move, its event with ``details``.

    A ticket never given to a unit has no task, and no unit's ``action`` is
    a move from its state: the refusal is the state machine's own.
    """
    ticket = held_task(session, ticket_id, unit_id)
    assignment = tasks.current(session, ticket)
    if assignment is None:
        raise IllegalMove(ticket.state, action)
    acted = Acted(ticket, assignment)
    tickets.move(
        session, ticket, action, event, relay=RELAY, now=now, unit_id=unit_id,
        data=details(acted),
    )  # fmt: skip
    return acted


def _assigned_at(acted: Acted) -> dict[str, Any]:
    """When the task was given, so the event measures how long the unit took."""
    return {"assigned_at": acted.assignment.assigned_at.isoformat()}


def _response(session: Session, acted: Acted) -> dict[str, Any]:
    """Whether this is the unit's first response (read before its clock stops), and since when."""
    first = clocks.running(session, acted.ticket, Clock.FIRST_RESPONSE)
    return {"first_response": first} | _assigned_at(acted)


def sign_for(
    session: Session, ticket_id: str, body: SignFor, now: datetime, unit_id: str | None = None
) -> Acted:
    """The unit acknowledges the task: the sign-for clock stops."""
    acted = _act_on_task(
        session, ticket_id, unit_id or body.unit_id, Action.SIGN_FOR, EventType.SIGNED_FOR, now,
        _assigned_at,
    )  # fmt: skip
    acted.assignment.signed_for_at = now
    clocks.stop(session, acted.ticket, [Clock.SIGN_FOR], now)
    return acted


def report_progress(session: Session, ticket_id: str, body: Progress, now: datetime) -> Acted:
    """The unit reports progress; the first report stops the first-response clock."""
    acted = _act_on_task(
        session, ticket_id, body.unit_id, Action.REPORT_PROGRESS, EventType.PROGRESS_REPORTED,
        now, lambda task: {"note": body.note} | _response(session, task),
    )  # fmt: skip
    clocks.stop(session, acted.ticket, [Clock.FIRST_RESPONSE], now)
    return acted


def resolve(
    session: Session,
    ticket_id: str,
    body: Resolve,
    now: datetime,
    config: DistrictConfig,
    unit_id: str | None = None,
) -> Acted:
    """The unit finishes the task with a result; every clock stops (a response came with it).

    A result with no progress report before it is also the unit's first response:
    the event says so (``first_response``, with ``assigned_at``), so that the time to
    first response is measured for every task, not only those that reported progress.
    The caller is told, at the phone they gave, through the district's citizen channel.
    """
    acted = _act_on_task(
        session, ticket_id, unit_id or body.unit_id, Action.RESOLVE, EventType.RESOLVED, now,
        lambda task: {"result": body.result} | _response(session, task),
    )  # fmt: skip
    acted.assignment.resolved_at = now
    acted.assignment.result = body.result
    clocks.stop(session, acted.ticket, None, now)
    notifications.tell_citizen(session, config, acted.ticket, body.result, now)
    return acted


def return_task(
    session: Session, ticket_id: str, body: Return, now: datetime, unit_id: str | None = None
) -> Acted:
    """The unit hands the task back; the router owes it another unit."""
    acted = _act_on_task(
        session, ticket_id, unit_id or body.unit_id, Action.RETURN, EventType.RETURNED, now,
        lambda _: {"reason": body.reason},
    )  # fmt: skip
    acted.assignment.returned_at = now
    acted.assignment.return_reason = body.reason
    clocks.stop(session, acted.ticket, None, now, abandoned=True)
    ask_router(session, acted.ticket, now)
    return acted
