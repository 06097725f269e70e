"""Writing messages into the outbox, in the caller's transaction.

Nothing is published here: the row only promises a message. The relay keeps
the promise after the transaction commits, so a rolled-back change announces
nothing and a committed one is never left unannounced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from hotline.shared.ledger.schema import OutboxMessage

Transport = Literal["kafka", "amqp"]


def enqueue(
    session: Session,
    *,
    relay: str,
    transport: Transport,
    target: str,
    key: str,
    message_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxMessage:
    """Add one message owed to ``target`` (a topic, or an AMQP routing key)."""
    row = OutboxMessage(
        relay=relay,
        transport=transport,
        target=target,
        key=key,
        message_id=message_id,
        payload=payload,
        created_at=now,
        tries=0,
    )
    session.add(row)
    return row
