"""The notifier's work: fire the escalation steps whose time has come.

Due steps are claimed with ``FOR UPDATE SKIP LOCKED`` so that notifier
replicas on PostgreSQL never fire the same step twice; the clock's stop (a
sign-for) and the firing are serialised on the same row, so a stopped clock
never escalates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger import history
from hotline.shared.ledger.outbox import enqueue
from hotline.shared.ledger.schema import Deadline, Ticket
from hotline.shared.names import escalation_routing_key

RELAY = "notifier"


@dataclass(frozen=True)
class Fired:
    """A step that fired, for metrics after commit."""

    ticket_id: str
    unit_id: str
    category: str
    urgency: str
    clock: str
    level: int
    late_seconds: float


def escalation_message(ticket: Ticket, step: Deadline, now: datetime) -> dict[str, Any]:
    """What the supervision side is told: which task, which clock, how late."""
    return {
        "ticket_id": ticket.id,
        "district": ticket.district,
        "attempt": step.attempt,
        "unit_id": step.unit_id,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "clock": step.clock,
        "level": step.level,
        "name": step.name,
        "due_at": step.due_at.isoformat(),
        "fired_at": now.isoformat(),
        "late_seconds": round((now - step.due_at).total_seconds(), 3),
    }


def fire_due(session: Session, now: datetime, limit: int = 500) -> list[Fired]:
    """Fire every step due by ``now`` (oldest first) whose clock is still running."""
    steps = session.scalars(
        select(Deadline)
        .where(Deadline.fired_at.is_(None), Deadline.stopped_at.is_(None), Deadline.due_at <= now)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    fired: list[Fired] = []
    for step in steps:
        ticket = session.get(Ticket, step.ticket_id)
        if ticket is None or ticket.attempt != step.attempt or State(ticket.state) not in WITH_UNIT:
            step.stopped_at = now  # the task moved on; this clock no longer runs
            continue
        if step.clock == "sign-for" and ticket.state != State.ASSIGNED.value:
            step.stopped_at = now
            continue
        step.fired_at = now
        ticket.escalation_level = max(ticket.escalation_level, step.level)
        message = escalation_message(ticket, step, now)
        history.record(
            session, ticket, EventType.ESCALATED, relay=RELAY, now=now,
            unit_id=step.unit_id, data=message,
        )  # fmt: skip
        enqueue(
            session,
            relay=RELAY,
            transport="amqp",
            target=escalation_routing_key(step.level),
            key=ticket.id,
            message_id=f"{ticket.id}:{step.attempt}:{step.clock}:{step.level}",
            payload=message,
            now=now,
        )
        fired.append(
            Fired(
                ticket.id,
                step.unit_id,
                ticket.category,
                ticket.urgency,
                step.clock,
                step.level,
                message["late_seconds"],
            )
        )
    return fired
