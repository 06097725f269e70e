"""The outbox relay: publishes what the ledger promised, and marks it done.

Each service runs one relay over its own outbox rows. Rows are claimed for a
short lease before publishing (``SKIP LOCKED`` on PostgreSQL, so replicas
share the work) and marked published only after the broker confirmed them.
A row published again after a crash carries the redelivery flag, so a unit
never sees the same task twice as new.

Rows of the ``webhook`` and ``smtp`` transports (notifications) are delivered
by :mod:`hotline.shared.messaging.delivery` senders, each on its own: a refused one
waits (its lease is the backoff) and is tried again, and after the retry
policy's limit it is dead-lettered: kept, marked, logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.ledger.outbox_claims import Claimed, Refusal, claim, settle
from hotline.shared.messaging.delivery import DeliveryFailed, RetryPolicy, Sender
from hotline.shared.observability import metrics
from hotline.shared.observability.gauges import outbox_backlog, refreshing
from hotline.shared.runtime.waiting import wait_for_event

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


DEFAULT_RETRY = RetryPolicy()

#: Transports the relay delivers itself, row by row, through a Sender.
DIRECT = ("webhook", "smtp")

#: Publishes one broker's rows, returning once that broker confirmed them all.
_Publish = Callable[[list[Claimed]], Awaitable[None]]


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
        senders: Mapping[str, Sender] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.name = name
        self.district = district
        self._sessions = sessions
        self._stream = stream
        self._queue = queue
        self._batch = batch
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._senders = dict(senders or {})
        self._retry = retry
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
            # Cleared before draining, not after: a commit that wakes the relay while
            # it drains must make it drain again at once, not wait for the next poll.
            self._wake.clear()
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
            if published < self._batch and await wait_for_event(self._wake, self._poll):
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
        done, failure = await self._publish_to_brokers(claimed)
        direct = [c for c in claimed if c.transport in DIRECT]
        delivered, refused = await self._deliver_all(direct)
        done += delivered
        released = [c.id for c in claimed if c.id not in done and c.id not in refused]
        dead = await asyncio.to_thread(
            self._settle, done, released, self._refusals(direct, refused)
        )
        metrics.OUTBOX_PUBLISHED.labels(district=self.district, relay=self.name).inc(len(done))
        self._count(claimed, set(done), refused, dead)
        if failure is not None:
            raise failure
        return len(done)

    def _brokers(self, claimed: list[Claimed]) -> list[tuple[list[Claimed], _Publish]]:
        """The stream's rows and the queues' rows, each with what publishes them; none empty."""
        return [
            (rows, publish)
            for rows, publish in (
                ([c for c in claimed if c.transport == "kafka"], self._publish_stream),
                ([c for c in claimed if c.transport == "amqp"], self._publish_queue),
            )
            if rows
        ]

    async def _publish_to_brokers(
        self, claimed: list[Claimed]
    ) -> tuple[list[int], Exception | None]:
        """The ids the brokers confirmed, and the failure of a broker that did not confirm."""
        done: list[int] = []
        failure: Exception | None = None
        brokers = self._brokers(claimed)
        # The stream and the queues at once: a unit's task does not wait for Kafka's ack
        # of the events written with it (nor the other way round).
        results = await asyncio.gather(
            *(publish(rows) for rows, publish in brokers), return_exceptions=True
        )
        for (rows, _), result in zip(brokers, results, strict=True):
            if isinstance(result, Exception):
                failure = result
            elif isinstance(result, BaseException):  # cancelled: the process is stopping
                raise result
            else:
                done += [c.id for c in rows]
        return done, failure

    async def _deliver_all(self, rows: list[Claimed]) -> tuple[list[int], dict[int, str]]:
        """Hand each direct row to its sender at once; the ids delivered, and each refusal."""
        if not rows:
            return [], {}
        errors = await asyncio.gather(*(self._deliver(c) for c in rows))
        delivered = [c.id for c, error in zip(rows, errors, strict=True) if error is None]
        refused = {c.id: e for c, e in zip(rows, errors, strict=True) if e is not None}
        return delivered, refused

    async def _publish_stream(self, rows: list[Claimed]) -> None:
        if self._stream is None:
            raise RuntimeError(f"relay {self.name} has no Kafka publisher for {rows[0].target}")
        await self._stream.publish([(r.target, r.key, r.payload) for r in rows])

    async def _publish_queue(self, rows: list[Claimed]) -> None:
        if self._queue is None:
            raise RuntimeError(f"relay {self.name} has no AMQP publisher for {rows[0].target}")
        items = [(r.target, r.payload, r.message_id, r.redelivered) for r in rows]
        await asyncio.to_thread(self._queue.publish_many, items)

    async def _deliver(self, row: Claimed) -> str | None:
        """Hand one row to its sender; the error if it was not delivered."""
        sender = self._senders.get(row.transport)
        if sender is None:
            return f"relay {self.name} has no {row.transport} sender (see the settings)"
        try:
            await asyncio.to_thread(sender.send, row.target, row.payload, row.message_id)
        except DeliveryFailed as exc:
            return str(exc)
        except Exception as exc:  # a sender's bug must not stop the other rows
            log.exception("relay %s: sending row %s failed", self.name, row.id)
            return repr(exc)
        return None

    def _refusals(self, rows: list[Claimed], refused: dict[int, str]) -> dict[int, Refusal]:
        """For each refused row: its error, when to try again, and whether it is dead now."""
        now = _now()
        out: dict[int, Refusal] = {}
        for row in rows:
            if row.id not in refused:
                continue
            if row.tries >= self._retry.max_tries:
                out[row.id] = Refusal(refused[row.id], None, True)
            else:
                out[row.id] = Refusal(refused[row.id], now + self._retry.backoff(row.tries), False)
        return out

    def _count(
        self, claimed: list[Claimed], done: set[int], refused: dict[int, str], dead: set[int]
    ) -> None:
        for row in claimed:
            if not row.notification:
                continue
            if row.id in done:
                outcome = "sent"
            elif row.id in dead:
                outcome = "dead-lettered"
                log.error(
                    "relay %s: dead-lettered notification %s to %s after %d tries: %s",
                    self.name, row.message_id, row.target, row.tries, refused[row.id],
                )  # fmt: skip
            elif row.id in refused:
                outcome = "failed-try"
                log.warning(
                    "relay %s: notification %s to %s refused (try %d): %s",
                    self.name, row.message_id, row.target, row.tries, refused[row.id],
                )  # fmt: skip
            else:
                continue  # its broker is down: the relay retries the batch
            metrics.NOTIFICATIONS.labels(self.district, row.channel, outcome).inc()

    def _claim(self) -> list[Claimed]:
        """Take a lease on the oldest pending rows (see ``outbox_claims.claim``)."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            return claim(session, self.name, batch=self._batch, lease=LEASE, now=now)

    def _settle(
        self, published: list[int], failed: list[int], refused: dict[int, Refusal]
    ) -> set[int]:
        """Settle the claimed rows in one transaction; the ids dead-lettered now."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            return settle(session, published, failed, refused, now)
