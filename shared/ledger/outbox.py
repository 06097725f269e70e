"""Writing messages into the outbox, in the caller's transaction.

Nothing is published here: the row only promises a message. The relay keeps
the promise after the transaction commits, so a rolled-back change announces
nothing and a committed one is never left unannounced.

Rows from ``enqueue`` are held (see ``held_rows``) and inserted together, in
the order they were written, with the transaction's next statement.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.shared.ledger.held_rows import hold
from hotline.shared.ledger.schema import OutboxMessage

#: ``webhook`` and ``smtp`` rows are delivered by the relay itself, one row at a time,
#: retried with backoff and dead-lettered after a limit; see ``hotline.shared.messaging.delivery``.
Transport = Literal["kafka", "amqp", "webhook", "smtp"]


class Publisher(StrEnum):
    """Whose relay publishes an outbox row: each service runs one relay over its own rows,
    so a row is published by the service that wrote it, even when another shares the ledger."""

    INTAKE = "intake"
    ROUTER = "router"
    NOTIFIER = "notifier"


def enqueue(
    session: Session,
    *,
    relay: Publisher,
    transport: Transport,
    target: str,
    key: str,
    message_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Owe one message to ``target`` (a topic, or an AMQP routing key)."""
    row = {
        "relay": relay,
        "transport": transport,
        "target": target,
        "key": key,
        "message_id": message_id,
        "payload": payload,
        "created_at": now,
        "tries": 0,
    }
    hold(session, OutboxMessage, row)


def enqueue_once(
    session: Session,
    *,
    relay: Publisher,
    transport: Transport,
    target: str,
    key: str,
    dedup_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Add a message unless one with ``dedup_key`` was ever written; say whether it was added.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique key: a second writer
    (a step fired again, a restart, a replica) adds nothing and does not
    spoil the caller's transaction. The key is also the message id.
    """
    values = {
        "relay": relay,
        "transport": transport,
        "target": target,
        "key": key,
        "message_id": dedup_key[:100],
        "dedup_key": dedup_key,
        "payload": payload,
        "created_at": now,
        "tries": 0,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).first() is not None
