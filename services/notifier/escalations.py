"""Firing the ladder rungs whose time has come: the escalation event, the message to the
supervision side, the contacts told, and the rung's next repeat.

Under the ticket's lock the fire path checks again that the clock still runs
(see :mod:`hotline.shared.ledger.escalation` for how rows and tickets are
claimed): a stop that committed first wins, and a stop that comes later finds
the rung already fired. On SQLite the transaction takes the database's write
lock first, to the same effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.notifier.missed_clocks import settle_overdue
from hotline.shared.domain.config import Clock, Counting, DistrictConfig, Recipient
from hotline.shared.domain.events import EventType
from hotline.shared.domain.sla import keeper_for, next_repeat
from hotline.shared.ledger import clocks, escalation, history, notifications
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Deadline, Ticket
from hotline.shared.messaging.names import escalation_routing_key

RELAY = Publisher.NOTIFIER

#: A rung that fires later than this after its due time is marked late (the promise is 1 s).
LATE_AFTER = timedelta(seconds=1)

#: Rows taken per transaction; a longer backlog is worked through in further passes.
BATCH = 500


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


def escalation_message(
    ticket: Ticket, step: Deadline, now: datetime, told: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the supervision side is told: which task, which clock, who, how late.

    ``told`` lists ``{role, unit_id}``: the notification side resolves them to contacts.
    """
    late = now - step.due_at
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
        "repeat": step.repeat,
        "due_at": step.due_at.isoformat(),
        "fired_at": now.isoformat(),
        "late_seconds": round(late.total_seconds(), 3),
        "late": late > LATE_AFTER,
        "told": told,
    }


def fire_due(
    session: Session, now: datetime, config: DistrictConfig, limit: int = BATCH
) -> list[Fired]:
    """Settle overdue clocks, then fire each rung due by ``now`` (oldest first) whose clock runs."""
    due = escalation.next_due(session)
    if due is None or due > now:
        return []  # nothing due: no lock taken, so a quiet SQLite ledger is not held every tick
    write_lock(session)
    settle_overdue(session, now, limit)
    fired: list[Fired] = []
    for step in escalation.claim_due_rungs(session, now, limit):
        try:
            ticket = escalation.lock_if_free(session, step.ticket_id)
        except escalation.Busy:
            continue  # someone is signing for it or moving it right now: look again next pass
        if ticket is None or not escalation.still_runs(session, ticket, step.attempt, step.clock):
            step.stopped_at = now  # the clock stopped or the task moved on: never escalate
            continue
        fired.append(_fire(session, config, ticket, step, now))
    return fired


def _fire(
    session: Session, config: DistrictConfig, ticket: Ticket, step: Deadline, now: datetime
) -> Fired:
    step.fired_at = now
    ticket.escalation_level = max(ticket.escalation_level, step.level)
    roles = step.tell if step.tell is not None else [Recipient.UNIT_LEADER.value]
    message = escalation_message(ticket, step, now, clocks.told(config, roles, step.unit_id))
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
        message_id=f"{ticket.id}:{step.attempt}:{step.clock}:{step.level}:{step.repeat}",
        payload=message,
        now=now,
    )
    notifications.tell_escalation(session, config, ticket, message)
    if step.repeat_every_seconds:
        _schedule_repeat(session, config, ticket, step, now)
    late = message["late_seconds"]
    return Fired(
        ticket.id, step.unit_id, ticket.category, ticket.urgency, step.clock, step.level, late
    )


def _schedule_repeat(
    session: Session, config: DistrictConfig, ticket: Ticket, step: Deadline, now: datetime
) -> None:
    """Write the rung's next repeat, counted as its clock counts (working time or not)."""
    clock = clocks.current(session, ticket, Clock(step.clock))
    counting = Counting(clock.counting) if clock is not None else Counting.AROUND_THE_CLOCK
    keeper = keeper_for(config.sla, counting, config.zone)
    every = timedelta(seconds=step.repeat_every_seconds or 0)
    escalation.add_repeat(session, step, next_repeat(keeper, step.due_at, every, now))
