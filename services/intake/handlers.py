"""What the intake does for each command, each in one ledger transaction.

Every handler changes the ticket, records the event and writes the outbox rows
that announce it together, or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.intake.schemas import Assign, NewRequest, Resolve, Return, SignFor
from hotline.shared.domain.config import Clock, DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.routing import Rules
from hotline.shared.domain.ticket import CLOSED, Action, IllegalMove, State, next_state
from hotline.shared.ledger import clocks, dispatch, history, notifications
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.held_rows import LATER
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Assignment, Ticket
from hotline.shared.messaging.names import requests_topic

RELAY = Publisher.INTAKE
_CLOSED_STATES = [s.value for s in CLOSED]


class NotFound(Exception):
    """No ticket has that id."""


class Invalid(Exception):
    """A request that is well-formed but names something the district does not know."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Conflict(Exception):
    """A move the ticket's state (or its current unit) does not allow."""

    def __init__(self, message: str, state: State) -> None:
        super().__init__(message)
        self.message = message
        self.state = state


@dataclass(frozen=True)
class Acted:
    """What a unit action changed, for the caller's metrics."""

    ticket: Ticket
    assignment: Assignment


def route_message(ticket: Ticket) -> dict[str, object]:
    """What the router is told: which ticket, at which attempt; it reads the rest from the ledger.

    Keeping the caller's name and phone off the stream keeps them off every
    broker that does not need them.
    """
    return {"ticket_id": ticket.id, "attempt": ticket.attempt, "district": ticket.district}


def ask_router(session: Session, ticket: Ticket, now: datetime) -> None:
    """Owe the ticket a routing decision at its current attempt (new, returned, reopened)."""
    enqueue(
        session,
        relay=RELAY,
        transport="kafka",
        target=requests_topic(ticket.district),
        key=ticket.id,
        message_id=f"{ticket.id}:{ticket.attempt}",
        payload=route_message(ticket),
        now=now,
    )


def check_request(rules: Rules, request: NewRequest) -> None:
    """Refuse what the schema cannot know is wrong: another district, an unknown category,
    an area code that is neither ours nor a peer district's (which would be transferred)."""
    config = rules.config
    if request.district != config.district:
        raise Invalid(("district",), f"this intake serves district {config.district!r}")
    if not config.category_known(request.category):
        raise Invalid(("category",), f"unknown category {request.category!r}")
    code = request.location.area_code
    areas = rules.areas
    if code is not None and config.areas and not (areas.known(code) or areas.peer_of_code(code)):
        raise Invalid(("location", "area_code"), f"unknown area code {code!r}")


@dataclass(frozen=True)
class Submitted:
    """The ticket for a request, and whether this call created it (not a repeat)."""

    ticket: Ticket
    created: bool


def submit(
    session: Session,
    rules: Rules,
    request: NewRequest,
    now: datetime,
    idempotency_key: str | None = None,
) -> Submitted:
    """Write a new ticket, its first event and its message to the router.

    A request posted again with the same idempotency key (a client that
    retried after a timeout, a peer district re-sending a transfer) gets
    the ticket the first call made.
    """
    check_request(rules, request)
    if idempotency_key is not None:
        earlier = session.scalars(
            select(Ticket).where(Ticket.idempotency_key == idempotency_key)
        ).one_or_none()
        if earlier is not None:
            return Submitted(earlier, created=False)
    loc = request.location
    located = rules.areas.locate(loc.area_code, loc.lat, loc.lon)
    ticket = Ticket(
        id=str(uuid.uuid4()),
        district=request.district,
        channel=request.channel.value,
        caller_name=request.caller.name,
        caller_phone=request.caller.phone,
        area_code=loc.area_code,
        lat=loc.lat,
        lon=loc.lon,
        address=loc.address,
        category=request.category,
        description=request.description,
        urgency=request.urgency.value,
        state=State.RECEIVED.value,
        unit_id=None,
        attempt=0,
        escalation_level=0,
        created_at=now,
        updated_at=now,
        idempotency_key=idempotency_key,
        resolved_at_intake=False,
        place=rules.areas.community(located),
    )
    session.add(ticket)
    # The most specific area the request was located in, by its code or its map point:
    # what the notifier counts hot spots by, at whatever level a rule watches.
    received = {"area": located.area}
    history.record(session, ticket, EventType.RECEIVED, relay=RELAY, now=now, data=received)
    if request.resolved_at_intake:
        _resolve_at_intake(session, ticket, request.answer or "", now)
        return Submitted(ticket, created=True)
    window = rules.config.duplicates.window
    open_one = _open_ticket_about(session, ticket, now - window) if window else None
    if open_one is None:
        ask_router(session, ticket, now)
    else:
        _link(session, ticket, open_one, now)
    return Submitted(ticket, created=True)


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _open_ticket_about(session: Session, ticket: Ticket, since: datetime) -> Ticket | None:
    """The oldest open ticket of the same category and place since ``since``, preferring one
    from the same caller: the ticket a new request is linked to instead of being routed.

    Under group commit the tickets of the calls before this one in the batch
    are still only in the session: they are looked at there, and the ledger
    is asked without flushing them first. A flush per call was most of what
    a call cost the intake: four round trips to the ledger instead of one.
    """
    if ticket.place is None:
        return None
    with session.no_autoflush:
        stored = session.scalars(
            select(Ticket)
            .where(
                Ticket.place == ticket.place,
                Ticket.category == ticket.category,
                Ticket.created_at >= since,
                Ticket.id != ticket.id,
                Ticket.duplicate_of.is_(None),
                Ticket.state.not_in(_CLOSED_STATES),
            )
            .order_by(Ticket.created_at, Ticket.id)
            .with_for_update()
            .execution_options(**LATER)
        ).all()
    pending = [
        t
        for t in session.new
        if isinstance(t, Ticket)
        and t is not ticket
        and t.place == ticket.place
        and t.category == ticket.category
        and t.created_at >= since
        and t.duplicate_of is None
        and t.state not in _CLOSED_STATES
    ]
    candidates = sorted([*stored, *pending], key=lambda t: (t.created_at, t.id))
    phone = _digits(ticket.caller_phone)
    same_caller = [t for t in candidates if _digits(t.caller_phone) == phone]
    found = same_caller or candidates
    return found[0] if found else None


def _link(session: Session, ticket: Ticket, open_one: Ticket, now: datetime) -> None:
    """Link a request to the open ticket about the same thing; it is shown there, not routed."""
    same = _digits(open_one.caller_phone) == _digits(ticket.caller_phone)
    kind = "duplicate" if same else "also-reported"
    ticket.state = next_state(State(ticket.state), Action.LINK_DUPLICATE)
    ticket.duplicate_of = open_one.id
    ticket.link_kind = kind
    history.record(
        session, ticket, EventType.LINKED_AS_DUPLICATE, relay=RELAY, now=now,
        data={"of": open_one.id, "kind": kind},
    )  # fmt: skip
    open_one.updated_at = now
    history.record(
        session, open_one, EventType.DUPLICATE_REPORTED, relay=RELAY, now=now,
        data={"ticket_id": ticket.id, "kind": kind},
    )  # fmt: skip


def _resolve_at_intake(session: Session, ticket: Ticket, answer: str, now: datetime) -> None:
    """First-contact resolution: the call-taker answered it; no unit is asked, no clock runs."""
    ticket.state = next_state(State(ticket.state), Action.RESOLVE_AT_INTAKE)
    ticket.resolved_at_intake = True
    ticket.intake_answer = answer
    history.record(
        session, ticket, EventType.RESOLVED_AT_INTAKE, relay=RELAY, now=now,
        data={"answer": answer},
    )  # fmt: skip


def assign_by_hand(
    session: Session, config: DistrictConfig, ticket_id: str, body: Assign, now: datetime
) -> Ticket:
    """A dispatcher gives a ticket waiting in manual triage to a unit."""
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(ticket_id)
    state = State(ticket.state)
    if state is not State.TRIAGE:
        raise Conflict(f"only a ticket in triage is assigned by hand; this one is {state}", state)
    if config.unit(body.unit_id) is None:
        raise Invalid(("unit_id",), f"unknown unit {body.unit_id!r}")
    note = f": {body.note}" if body.note else ""
    by = body.dispatcher or "a dispatcher"
    why = dispatch.Why(f"manual: {by}", f"assigned by hand by {by}{note}")
    dispatch.assign(session, config, ticket, body.unit_id, why, now)
    return ticket


def current_task(session: Session, ticket_id: str, unit_id: str | None, action: Action) -> Acted:
    """Lock the ticket and its current assignment, checking the move and the unit.

    The lock comes first: whoever stops, moves or fires an SLA clock holds it.
    """
    if unit_id is None:
        raise Invalid(("unit_id",), "name the unit that acts")
    write_lock(session)
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(ticket_id)
    state = State(ticket.state)
    try:
        next_state(state, action)
    except IllegalMove as exc:
        raise Conflict(str(exc), state) from None
    if ticket.unit_id != unit_id:
        raise Conflict(f"the task is assigned to {ticket.unit_id}, not {unit_id}", state)
    assignment = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.attempt == ticket.attempt
        )
    ).one()
    return Acted(ticket, assignment)


def list_tickets(
    session: Session, unit_id: str | None, states: list[State] | None, limit: int
) -> list[Ticket]:
    """Tickets now with ``unit_id`` and in ``states`` (either may be None: any), newest first."""
    query = select(Ticket).order_by(Ticket.updated_at.desc(), Ticket.id).limit(limit)
    if unit_id is not None:
        query = query.where(Ticket.unit_id == unit_id)
    if states is not None:
        query = query.where(Ticket.state.in_([s.value for s in states]))
    return list(session.scalars(query))


def sign_for(
    session: Session, ticket_id: str, body: SignFor, now: datetime, unit_id: str | None = None
) -> Acted:
    """The unit acknowledges the task: the sign-for clock stops."""
    unit_id = unit_id or body.unit_id
    acted = current_task(session, ticket_id, unit_id, Action.SIGN_FOR)
    ticket, assignment = acted.ticket, acted.assignment
    ticket.state = next_state(State(ticket.state), Action.SIGN_FOR)
    ticket.updated_at = now
    assignment.signed_for_at = now
    clocks.stop(session, ticket, [Clock.SIGN_FOR], now)
    history.record(
        session,
        ticket,
        EventType.SIGNED_FOR,
        relay=RELAY,
        now=now,
        unit_id=unit_id,
        data={"assigned_at": assignment.assigned_at.isoformat()},
    )
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
    unit_id = unit_id or body.unit_id
    acted = current_task(session, ticket_id, unit_id, Action.RESOLVE)
    ticket, assignment = acted.ticket, acted.assignment
    ticket.state = next_state(State(ticket.state), Action.RESOLVE)
    ticket.updated_at = now
    assignment.resolved_at = now
    assignment.result = body.result
    first = clocks.running(session, ticket, Clock.FIRST_RESPONSE)
    clocks.stop(session, ticket, None, now)
    history.record(
        session, ticket, EventType.RESOLVED, relay=RELAY, now=now, unit_id=unit_id,
        data={
            "result": body.result,
            "first_response": first,
            "assigned_at": assignment.assigned_at.isoformat(),
        },
    )  # fmt: skip
    notifications.tell_citizen(session, config, ticket, body.result, now)
    return acted


def return_task(
    session: Session, ticket_id: str, body: Return, now: datetime, unit_id: str | None = None
) -> Acted:
    """The unit hands the task back; the router owes it another unit."""
    unit_id = unit_id or body.unit_id
    acted = current_task(session, ticket_id, unit_id, Action.RETURN)
    ticket, assignment = acted.ticket, acted.assignment
    ticket.state = next_state(State(ticket.state), Action.RETURN)
    ticket.updated_at = now
    assignment.returned_at = now
    assignment.return_reason = body.reason
    clocks.stop(session, ticket, None, now, abandoned=True)
    history.record(
        session, ticket, EventType.RETURNED, relay=RELAY, now=now,
        unit_id=unit_id, data={"reason": body.reason},
    )  # fmt: skip
    ask_router(session, ticket, now)
    return acted
