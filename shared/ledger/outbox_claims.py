"""A relay's hold on its outbox rows: claiming them for a lease, and settling each after.

A row is claimed for a short lease before publishing (``SKIP LOCKED`` on
PostgreSQL, so replicas share the work), and settled after: marked published
once the broker confirmed it, released for the next try when a broker failed,
or, when a sender refused it, left to wait out its backoff or dead-lettered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from hotline.shared.ledger.schema import OutboxMessage


@dataclass(frozen=True)
class Claimed:
    """An outbox row under a relay's lease, as the relay works on it."""

    id: int
    transport: str
    target: str
    key: str
    message_id: str
    payload: dict[str, Any]
    redelivered: bool
    tries: int = 1
    notification: bool = False

    @property
    def channel(self) -> str:
        """The notification channel, for the metric's label."""
        return str(self.payload.get("channel", self.transport))


class Refusal(NamedTuple):
    """A row a sender refused: its error, when to try it again, and whether it is dead now."""

    error: str
    retry_at: datetime | None
    dead: bool


#: The columns the relay works with: selected as plain rows, not loaded as ORM objects,
#: because claiming is on every message's path and objects cost several times as much.
_CLAIM_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.transport,
    OutboxMessage.target,
    OutboxMessage.key,
    OutboxMessage.message_id,
    OutboxMessage.payload,
    OutboxMessage.tries,
    OutboxMessage.dedup_key,
)


def _claimed(row: Row[Any]) -> Claimed:
    """A claimed row as the relay works on it; ``tries`` (counted by the claim) includes the
    try about to be made."""
    return Claimed(
        row.id, row.transport, row.target, row.key, row.message_id, row.payload, row.tries > 1,
        row.tries, row.dedup_key is not None,
    )  # fmt: skip


def claim(
    session: Session, relay: str, *, batch: int, lease: timedelta, now: datetime
) -> list[Claimed]:
    """Take a lease on ``relay``'s oldest pending rows, counting the try before publishing.

    One statement, ``UPDATE ... RETURNING`` over the rows a locking
    ``SELECT`` picks (``SKIP LOCKED``: what another relay holds is left to
    it): a claim is on every message's path, and each round trip to the
    ledger is one more wait for the event loop's thread.
    """
    pending = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.relay == relay,
            OutboxMessage.published_at.is_(None),
            OutboxMessage.dead_at.is_(None),
            (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(pending.scalar_subquery()))
        .values(claimed_until=now + lease, tries=OutboxMessage.tries + 1)
        .returning(*_CLAIM_COLUMNS)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((_claimed(r) for r in rows), key=lambda c: c.id)


def settle(
    session: Session,
    published: list[int],
    released: list[int],
    refused: Mapping[int, Refusal],
    now: datetime,
) -> set[int]:
    """Mark what the brokers confirmed; release the rest for the next try.

    A refused row waits out its backoff (its lease) or, at the limit, is
    dead-lettered; returns the ids dead-lettered now.
    """
    if published:
        _mark_published(session, published, now)
    if released:
        _release(session, released)
    for row_id, refusal in refused.items():
        _refuse(session, row_id, refusal, now)
    return {row_id for row_id, refusal in refused.items() if refusal.dead}


def _mark_published(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(published_at=now, claimed_until=None)
    )


def _release(session: Session, ids: list[int]) -> None:
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=None)
    )


def _refuse(session: Session, row_id: int, refusal: Refusal, now: datetime) -> None:
    """Keep a refused row's error; its lease becomes its backoff, or it is dead-lettered."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            claimed_until=refusal.retry_at,
            last_error=refusal.error[:2000],
            dead_at=now if refusal.dead else None,
        )
    )
