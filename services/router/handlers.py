"""The router's work on one ticket, in one ledger transaction.

Idempotent by construction: a request message names the ticket and the
attempt it was sent for; once that attempt is decided, the ticket has moved
on and a redelivered copy changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.routing import Decision, RouteRequest, decide
from hotline.shared.domain.sla import sign_for_deadline, sign_for_steps
from hotline.shared.domain.ticket import MAX_RETURNS, Action, State, Urgency, next_state
from hotline.shared.ledger import history
from hotline.shared.ledger.outbox import enqueue
from hotline.shared.ledger.schema import Assignment, Deadline, Ticket
from hotline.shared.names import unit_routing_key

RELAY = "router"
AWAITING = (State.RECEIVED.value, State.RETURNED.value)


class BadMessage(Exception):
    """A request message the router cannot read; it is set aside, never retried forever."""


@dataclass(frozen=True)
class Outcome:
    """What the router did with a ticket, for metrics after commit."""

    ticket_id: str
    category: str
    unit: str | None
    waited: timedelta


@dataclass(frozen=True)
class RouteCommand:
    """Decide the ticket at this attempt (the attempt the message was sent for)."""

    ticket_id: str
    attempt: int

    @classmethod
    def from_message(cls, value: Any) -> RouteCommand:
        """Read a request message from the stream, or raise BadMessage."""
        try:
            ticket_id, attempt = value["ticket_id"], value["attempt"]
        except (TypeError, KeyError) as exc:
            raise BadMessage(f"not a request message: {value!r:.200}") from exc
        if not isinstance(ticket_id, str) or not isinstance(attempt, int):
            raise BadMessage(f"bad ticket_id or attempt: {value!r:.200}")
        return cls(ticket_id, attempt)


def task_message(ticket: Ticket, assignment: Assignment, deadline: datetime) -> dict[str, Any]:
    """What the unit receives in its queue: enough to act without another lookup."""
    return {
        "ticket_id": ticket.id,
        "attempt": assignment.attempt,
        "district": ticket.district,
        "unit_id": assignment.unit_id,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "description": ticket.description,
        "caller": {"name": ticket.caller_name, "phone": ticket.caller_phone},
        "location": {
            "area_code": ticket.area_code,
            "lat": ticket.lat,
            "lon": ticket.lon,
            "address": ticket.address,
        },
        "created_at": ticket.created_at.isoformat(),
        "assigned_at": assignment.assigned_at.isoformat(),
        "sign_for_by": deadline.isoformat(),
        "rule": assignment.rule,
    }


def _returned_by(session: Session, ticket_ids: list[str]) -> dict[str, list[str]]:
    """The units that returned each ticket, in one query for a whole batch."""
    rows = session.execute(
        select(Assignment.ticket_id, Assignment.unit_id).where(
            Assignment.ticket_id.in_(ticket_ids), Assignment.returned_at.is_not(None)
        )
    ).all()
    returned: dict[str, list[str]] = {}
    for ticket_id, unit_id in rows:
        returned.setdefault(ticket_id, []).append(unit_id)
    return returned


def route(
    session: Session, config: DistrictConfig, command: RouteCommand, now: datetime
) -> Outcome | None:
    """Assign one ticket to a unit (or send it to triage); None when there was nothing to do."""
    outcomes = route_batch(session, config, [command], now)
    return outcomes[0] if outcomes else None


def route_batch(
    session: Session, config: DistrictConfig, commands: list[RouteCommand], now: datetime
) -> list[Outcome]:
    """Decide a batch of tickets in the caller's transaction; skip those already decided.

    The tickets are locked and read in one query (in id order, so two routers
    never deadlock) and written in one flush: the ledger's cost per ticket
    stays low when requests arrive in bursts.
    """
    wanted = {c.ticket_id: c.attempt for c in commands}
    tickets = session.scalars(
        select(Ticket).where(Ticket.id.in_(sorted(wanted))).order_by(Ticket.id).with_for_update()
    ).all()
    due = [t for t in tickets if t.attempt == wanted[t.id] and t.state in AWAITING]
    returned = _returned_by(session, [t.id for t in due]) if due else {}
    outcomes = []
    with session.no_autoflush:
        for ticket in due:
            returned_by = returned.get(ticket.id, [])
            decision: Decision | None = None
            if len(returned_by) < MAX_RETURNS:
                request = RouteRequest(ticket.category, ticket.area_code, Urgency(ticket.urgency))
                decision = decide(config, request, excluded=returned_by)
            if decision is None:
                _send_to_triage(session, ticket, returned_by, now)
            else:
                _assign(session, config, ticket, decision, now)
            unit = decision.unit if decision else None
            outcomes.append(Outcome(ticket.id, ticket.category, unit, now - ticket.created_at))
    return outcomes


def _send_to_triage(
    session: Session, ticket: Ticket, returned_by: list[str], now: datetime
) -> None:
    ticket.state = next_state(State(ticket.state), Action.SEND_TO_TRIAGE).value
    ticket.unit_id = None
    ticket.updated_at = now
    reason = f"returned by {', '.join(returned_by)}" if returned_by else "no unit left"
    history.record(
        session, ticket, EventType.SENT_TO_TRIAGE, relay=RELAY, now=now, data={"reason": reason}
    )


def _assign(
    session: Session, config: DistrictConfig, ticket: Ticket, decision: Decision, now: datetime
) -> None:
    urgency = Urgency(ticket.urgency)
    ticket.state = next_state(State(ticket.state), Action.ASSIGN).value
    ticket.attempt += 1
    ticket.unit_id = decision.unit
    ticket.escalation_level = 0
    ticket.updated_at = now
    assignment = Assignment(
        ticket_id=ticket.id,
        attempt=ticket.attempt,
        unit_id=decision.unit,
        rule=decision.rule,
        explanation=decision.explain(),
        assigned_at=now,
    )
    session.add(assignment)
    for step in sign_for_steps(config.sla, urgency, now):
        session.add(
            Deadline(
                ticket_id=ticket.id,
                attempt=ticket.attempt,
                unit_id=decision.unit,
                clock=step.clock,
                level=step.level,
                name=step.name,
                due_at=step.due_at,
            )
        )
    deadline = sign_for_deadline(config.sla, urgency, now)
    history.record(
        session,
        ticket,
        EventType.ASSIGNED,
        relay=RELAY,
        now=now,
        unit_id=decision.unit,
        data={
            "rule": decision.rule,
            "explanation": decision.explain(),
            "sign_for_by": deadline.isoformat(),
        },
    )
    enqueue(
        session,
        relay=RELAY,
        transport="amqp",
        target=unit_routing_key(decision.unit),
        key=ticket.id,
        message_id=f"{ticket.id}:{ticket.attempt}",
        payload=task_message(ticket, assignment, deadline),
        now=now,
    )


def stale(session: Session, older_than: datetime, limit: int = 500) -> list[RouteCommand]:
    """Tickets still waiting for the router since before ``older_than``.

    Their request message was lost (a broker that forgot it, a relay that died)
    or is very late; the ledger says they are owed a decision either way.
    """
    rows = session.execute(
        select(Ticket.id, Ticket.attempt)
        .where(Ticket.state.in_(AWAITING), Ticket.updated_at < older_than)
        .order_by(Ticket.updated_at)
        .limit(limit)
    ).all()
    return [RouteCommand(ticket_id, attempt) for ticket_id, attempt in rows]
