"""The notifier's work: settle overdue clocks and fire the ladder rungs whose time has come.

Due rungs and overdue clocks are claimed with ``FOR UPDATE SKIP LOCKED``,
so notifier replicas on PostgreSQL never take the same row twice; the
ticket is then locked with ``SKIP LOCKED`` too (a ticket someone is signing
for right now is left for the next pass, never waited on, so no two
transactions wait on each other). Under that lock the fire path checks
again that the clock still runs: a stop that committed first wins, and a
stop that comes later finds the rung already fired. On SQLite the
transaction takes the database's write lock first, to the same effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.shared.domain.config import Clock, Counting, DistrictConfig, Recipient
from hotline.shared.domain.events import EventType
from hotline.shared.domain.sla import keeper_for, next_repeat
from hotline.shared.domain.ticket import WITH_UNIT, State
from hotline.shared.ledger import clocks, history, notifications
from hotline.shared.ledger.engine import write_lock
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Deadline, SlaClock, Ticket
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


class Busy(Exception):
    """Another transaction holds the ticket right now; its row is left for the next pass."""


def _lock_ticket(session: Session, ticket_id: str) -> Ticket | None:
    """The ticket, locked without waiting; None if it is gone; Busy if someone else holds it."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
    ).one_or_none()
    if ticket is None and session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.id == ticket_id)
    ):
        raise Busy(ticket_id)
    return ticket


def _still_runs(session: Session, ticket: Ticket, attempt: int, clock: str) -> bool:
    """Say whether the clock of this attempt still runs (checked under the ticket's lock)."""
    if ticket.attempt != attempt or State(ticket.state) not in WITH_UNIT:
        return False
    if clock == Clock.SIGN_FOR and ticket.state != State.ASSIGNED:
        return False
    row = session.scalars(
        select(SlaClock).where(
            SlaClock.ticket_id == ticket.id, SlaClock.attempt == attempt, SlaClock.clock == clock
        )
    ).one_or_none()
    return row is None or row.stopped_at is None


def settle_overdue(session: Session, now: datetime, limit: int = BATCH) -> int:
    """Mark ``missed`` every running clock whose deadline has passed; return how many."""
    overdue = session.scalars(
        select(SlaClock)
        .where(SlaClock.outcome.is_(None), SlaClock.stopped_at.is_(None), SlaClock.due_at < now)
        .order_by(SlaClock.due_at, SlaClock.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    settled = 0
    for row in overdue:
        try:
            ticket = _lock_ticket(session, row.ticket_id)
        except Busy:
            continue  # being changed right now: the next pass sees the result
        if ticket is None or not _still_runs(session, ticket, row.attempt, row.clock):
            row.stopped_at = now  # the task moved on without stopping this clock
            continue
        row.outcome = clocks.MISSED
        clocks.count_after_commit(
            session, ticket, [clocks.Settled(row.clock, row.unit_id, clocks.MISSED)]
        )
        settled += 1
    return settled


def fire_due(
    session: Session, now: datetime, config: DistrictConfig, limit: int = BATCH
) -> list[Fired]:
    """Settle overdue clocks, then fire each rung due by ``now`` (oldest first) whose clock runs."""
    due = next_due(session)
    if due is None or due > now:
        return []  # nothing due: no lock taken, so a quiet SQLite ledger is not held every tick
    write_lock(session)
    settle_overdue(session, now, limit)
    steps = session.scalars(
        select(Deadline)
        .where(Deadline.fired_at.is_(None), Deadline.stopped_at.is_(None), Deadline.due_at <= now)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    fired: list[Fired] = []
    for step in steps:
        try:
            ticket = _lock_ticket(session, step.ticket_id)
        except Busy:
            continue  # someone is signing for it or moving it right now: look again next pass
        if ticket is None or not _still_runs(session, ticket, step.attempt, step.clock):
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
        _schedule_repeat(session, config, step, now)
    late = message["late_seconds"]
    return Fired(
        ticket.id, step.unit_id, ticket.category, ticket.urgency, step.clock, step.level, late
    )


def _schedule_repeat(
    session: Session, config: DistrictConfig, step: Deadline, now: datetime
) -> None:
    """Write the rung's next repeat: one row at a time, never an endless list in the ledger."""
    clock = session.scalars(
        select(SlaClock).where(
            SlaClock.ticket_id == step.ticket_id,
            SlaClock.attempt == step.attempt,
            SlaClock.clock == step.clock,
        )
    ).one_or_none()
    counting = Counting(clock.counting) if clock is not None else Counting.AROUND_THE_CLOCK
    keeper = keeper_for(config.sla, counting, config.zone)
    every = timedelta(seconds=step.repeat_every_seconds or 0)
    session.add(
        Deadline(
            ticket_id=step.ticket_id,
            attempt=step.attempt,
            unit_id=step.unit_id,
            clock=step.clock,
            level=step.level,
            name=step.name,
            due_at=next_repeat(keeper, step.due_at, every, now),
            repeat=step.repeat + 1,
            tell=step.tell,
            repeat_every_seconds=step.repeat_every_seconds,
        )
    )


def next_due(session: Session) -> datetime | None:
    """The earliest time at which a rung or a clock's deadline falls due, if any is pending."""
    rung = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.fired_at.is_(None), Deadline.stopped_at.is_(None)
        )
    )
    deadline = session.scalar(
        select(func.min(SlaClock.due_at)).where(
            SlaClock.outcome.is_(None), SlaClock.stopped_at.is_(None)
        )
    )
    times = [t for t in (rung, deadline) if t is not None]
    return min(times) if times else None
