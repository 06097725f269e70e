"""The outbox relay: publishes what the ledger promised, and marks it done.

Each service runs one relay over its own outbox rows. Rows are claimed for a
short lease before publishing (``SKIP LOCKED`` on PostgreSQL, so replicas
share the work) and marked published only after the broker confirmed them.
A row published again after a crash carries the redelivery flag, so a unit
never sees the same task twice as new.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared import metrics
from hotline.shared.gauges import outbox_backlog, refreshing
from hotline.shared.ledger.schema import OutboxMessage
from hotline.shared.waiting import wait_for_event

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=10)


def _now() -> datetime:
    return datetime.now(UTC)


class StreamPublisher(Protocol):
    """Publishes (topic, key, value) triples and returns once the broker has them all."""

    async def publish(self, batch: Sequence[tuple[str, str, dict[str, Any]]]) -> None: ...


class QueuePublisher(Protocol):
    """Publishes (routing key, payload, message id, redelivered) and returns once confirmed."""

    def publish_many(self, items: Sequence[tuple[str, dict[str, Any], str, bool]]) -> None: ...


@dataclass(frozen=True)
class _Claimed:
    id: int
    transport: str
    target: str
    key: str
    message_id: str
    payload: dict[str, Any]
    redelivered: bool


class Relay:
    """Publishes one service's outbox rows; ``wake()`` after a commit to skip the poll wait."""

    def __init__(
        self,
        name: str,
        district: str,
        sessions: sessionmaker[Session],
        stream: StreamPublisher | None,
        queue: QueuePublisher | None,
        *,
        batch: int = 500,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.005,
    ) -> None:
        self.name = name
        self.district = district
        self._sessions = sessions
        self._stream = stream
        self._queue = queue
        self._batch = batch
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Say that new rows were committed; the relay publishes them now.

        Callable from any thread: handlers commit in worker threads.
        """
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, backing off while a broker is down."""
        self._loop = asyncio.get_running_loop()
        backoff = 0.0
        while not stop.is_set():
            try:
                published = await self.drain_once()
                backoff = 0.0
            except Exception as exc:  # a broker is down: keep the rows, retry later
                backoff = min(max(backoff * 2, 0.25), 5.0)
                log.warning(
                    "relay %s: publish failed (%s); retrying in %.2fs", self.name, exc, backoff
                )
                await wait_for_event(stop, backoff)
                continue
            if published < self._batch:
                self._wake.clear()
                if await wait_for_event(self._wake, self._poll):
                    # Let the commits of concurrent calls land too: one claim,
                    # one publish and one settle then carry them all.
                    await asyncio.sleep(self._linger)

    async def watch_backlog(self, stop: asyncio.Event) -> None:
        """Keep the backlog gauges (rows waiting, age of the oldest) current until ``stop``.

        Measured from the ledger, apart from publishing: a relay stuck on a
        dead broker still shows its backlog growing.
        """

        def backlog() -> list[metrics.Sample]:
            return outbox_backlog(self._sessions, self.district, self.name, _now)

        await refreshing(f"outbox-{self.name}", backlog)(stop)

    async def drain_once(self) -> int:
        """Publish one batch of pending rows; return how many were published."""
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return 0
        done: list[int] = []
        failure: Exception | None = None
        streamed = [c for c in claimed if c.transport == "kafka"]
        queued = [c for c in claimed if c.transport == "amqp"]
        if streamed:
            try:
                await self._publish_stream(streamed)
                done += [c.id for c in streamed]
            except Exception as exc:
                failure = exc
        if queued:
            try:
                await self._publish_queue(queued)
                done += [c.id for c in queued]
            except Exception as exc:
                failure = exc
        await asyncio.to_thread(self._settle, done, [c.id for c in claimed if c.id not in done])
        metrics.OUTBOX_PUBLISHED.labels(district=self.district, relay=self.name).inc(len(done))
        if failure is not None:
            raise failure
        return len(done)

    async def _publish_stream(self, rows: list[_Claimed]) -> None:
        if self._stream is None:
            raise RuntimeError(f"relay {self.name} has no Kafka publisher for {rows[0].target}")
        await self._stream.publish([(r.target, r.key, r.payload) for r in rows])

    async def _publish_queue(self, rows: list[_Claimed]) -> None:
        if self._queue is None:
            raise RuntimeError(f"relay {self.name} has no AMQP publisher for {rows[0].target}")
        items = [(r.target, r.payload, r.message_id, r.redelivered) for r in rows]
        await asyncio.to_thread(self._queue.publish_many, items)

    def _claim(self) -> list[_Claimed]:
        """Take a lease on the oldest pending rows, counting the try before publishing."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.relay == self.name,
                    OutboxMessage.published_at.is_(None),
                    (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = [
                _Claimed(r.id, r.transport, r.target, r.key, r.message_id, r.payload, r.tries > 0)
                for r in rows
            ]
            if rows:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(claimed_until=now + LEASE, tries=OutboxMessage.tries + 1)
                )
        return claimed

    def _settle(self, published: list[int], failed: list[int]) -> None:
        """Mark what the brokers confirmed; release the rest for the next try."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            if published:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(published))
                    .values(published_at=now, claimed_until=None)
                )
            if failed:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(failed))
                    .values(claimed_until=None)
                )
