"""The ledger's tables (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.domain.ticket import State


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times: a deadline off by the server's zone is a missed deadline."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite hands times back naive; they were stored as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StateType(TypeDecorator[State]):
    """A ticket's :class:`State`, stored as its value: the model holds the enum, not a string.

    A plain string is accepted on the way in (a query's ``in_`` list, a value
    read back from a message) and checked against the enum, so a typo cannot
    reach the ledger.
    """

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: State | str | None, dialect: Dialect) -> str | None:
        """Store the value; refuse anything that is not a state."""
        return None if value is None else State(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> State | None:
        """Read the enum back."""
        return None if value is None else State(value)


class Base(DeclarativeBase):
    """The ledger's declarative base."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Ticket(Base):
    """A citizen's request and where it stands now."""

    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    district: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    caller_name: Mapped[str] = mapped_column(String(200))
    caller_phone: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    state: Mapped[State] = mapped_column(StateType())
    unit_id: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    redriven_at: Mapped[datetime | None]
    #: The caller's idempotency key (a peer district's ticket id for a transfer):
    #: the same request posted twice is one ticket.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    #: The peer district a request was transferred to, and its ticket id there.
    transfer_to: Mapped[str | None] = mapped_column(String(64))
    peer_ticket_id: Mapped[str | None] = mapped_column(String(64))
    #: Answered by the call-taker on the spot (first-contact resolution): never routed.
    resolved_at_intake: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: What the call-taker told the citizen then.
    intake_answer: Mapped[str | None] = mapped_column(Text)
    #: The community the request is about: duplicates share it.
    place: Mapped[str | None] = mapped_column(String(32))
    #: The open ticket this one was linked to instead of being routed, and why:
    #: ``duplicate`` (the same caller again) or ``also-reported`` (someone else).
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    link_kind: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_tickets_state_updated", "state", "updated_at"),
        Index("ix_tickets_place_category_created", "place", "category", "created_at"),
        UniqueConstraint("idempotency_key", name="uq_tickets_idempotency_key"),
    )


class Event(Base):
    """One thing that happened to a ticket; the ticket's history is its events in order."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    attempt: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Assignment(Base):
    """A task: one ticket given to one unit, once per attempt.

    The unique (ticket, attempt) pair is what makes the router idempotent: a
    redelivered request finds its assignment already there.
    """

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200))
    explanation: Mapped[str] = mapped_column(Text)
    #: The whole routing decision (areas, every rule tried), for GET and replays.
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assigned_at: Mapped[datetime]
    signed_for_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    return_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("ticket_id", "attempt", name="uq_assignment_attempt"),)


class Deadline(Base):
    """A step of an SLA clock that falls due unless the clock stops first."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(64))
    clock: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    #: 0 for the rung itself, 1, 2, ... for its repeats (written one at a time as each fires).
    repeat: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The roles the rung tells (``unit``, ``unit-leader``, ...), resolved to units when it fires.
    tell: Mapped[list[str] | None] = mapped_column(JSON)
    repeat_every_seconds: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint(
            "ticket_id", "attempt", "clock", "level", "repeat", name="uq_deadline_step"
        ),
        Index(
            "ix_deadlines_pending_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND stopped_at IS NULL"),
            sqlite_where=text("fired_at IS NULL AND stopped_at IS NULL"),
        ),
    )


class SlaClock(Base):
    """One SLA clock of one task (ticket and attempt): its deadline and how it ended.

    ``outcome`` is set once: ``met`` when the clock stops by its deadline,
    ``missed`` when the deadline passes with it running (or it stops late).
    A clock stopped because the task went elsewhere keeps no outcome.
    """

    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(64))
    clock: Mapped[str] = mapped_column(String(32))
    counting: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime]
    limit_seconds: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        UniqueConstraint("ticket_id", "attempt", "clock", name="uq_sla_clock"),
        Index(
            "ix_sla_clocks_running_due",
            "due_at",
            postgresql_where=text("outcome IS NULL AND stopped_at IS NULL"),
            sqlite_where=text("outcome IS NULL AND stopped_at IS NULL"),
        ),
    )


class Extension(Base):
    """A unit's request for more time on a task's resolution, and the district's answer."""

    __tablename__ = "sla_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(64))
    clock: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    extra_seconds: Mapped[float | None] = mapped_column(Float)
    until: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    old_due_at: Mapped[datetime | None]
    new_due_at: Mapped[datetime | None]


class ApiToken(Base):
    """A caller of the API: a name, a role, and the SHA-256 of its secret (never the secret)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    #: ``call-taker``, ``unit:<id>``, ``dispatcher``, ``supervisor``, ``feedback``, ``admin``.
    role: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A message owed to a broker, written with the change it announces.

    ``relay`` names the service whose relay publishes it; ``tries`` counts
    publish attempts, so a copy sent again after a crash is marked as a repeat.

    A notification carries a ``dedup_key`` (ticket, attempt, clock, level,
    repeat, contact; or ticket, ``resolved``, attempt for the citizen), unique,
    so a step fired again or a restart never writes a second one. A
    notification the receiver refused ``tries`` times is dead-lettered: kept,
    with ``dead_at`` and ``last_error`` set, and never tried again.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    relay: Mapped[str] = mapped_column(String(32))
    transport: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    tries: Mapped[int] = mapped_column(Integer, default=0)
    dedup_key: Mapped[str | None] = mapped_column(String(300))
    dead_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
        Index(
            "ix_outbox_pending",
            "relay",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
