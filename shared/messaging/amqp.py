"""The unit queues over AMQP (kombu): RabbitMQ in production, SQLite embedded.

Per district: a durable topic exchange ``hotline.<district>``; per unit a
durable queue ``<district>.unit.<unit>`` bound with ``unit.<unit>``; a
dead-letter queue ``<district>.dead-letter`` for messages a consumer cannot
read. kombu over SQLite keeps exchange bindings in each process's memory, so
the publisher declares every unit queue it may publish to; otherwise a
message would be dropped without an error.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.message import Message
from kombu.messaging import Producer
from kombu.simple import SimpleQueue
from sqlalchemy.exc import IntegrityError, OperationalError

from hotline.shared.messaging.names import (
    TRIAGE_ROUTING_KEY,
    exchange_name,
    notify_queue_name,
    notify_routing_key,
    triage_queue_name,
    unit_queue_name,
    unit_routing_key,
)
from hotline.shared.observability import metrics

log = logging.getLogger(__name__)

REDELIVERY_HEADER = "x-hotline-redelivery"
DEAD_LETTER_KEY = "dead-letter"

#: kombu over SQLite polls; 50 ms gives a hop of p50 38 ms instead of 574 ms at the 1 s default.
SQLITE_POLLING_INTERVAL = 0.05


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqla+") or url.startswith("sqlalchemy+")


def connect(url: str) -> Connection:
    """A kombu connection with the options each transport needs.

    On RabbitMQ, publisher confirms make a returned publish mean the broker
    has the message; on SQLite, a short polling interval keeps hops fast.
    """
    if not _is_sqlite(url):
        return Connection(url, transport_options={"confirm_publish": True}, connect_timeout=5)
    connection = Connection(url)
    # Not through transport_options: the SQLAlchemy transport hands those to
    # create_engine, which refuses an unknown argument.
    connection.transport.polling_interval = SQLITE_POLLING_INTERVAL
    return connection


def declare(channel: Any, queues: Sequence[Queue], tries: int = 5) -> None:
    """Declare queues and their bindings, surviving a race with another process on SQLite.

    On a new kombu queue file, two processes starting together (``hotline up``
    and a ``unit listen``) can both find no tables, or no row for a shared
    queue, and the second CREATE or INSERT fails. kombu then holds nothing
    half-made: rolling back and declaring again finds what the other made.
    RabbitMQ declares are idempotent and never raise these.
    """
    for attempt in range(tries):
        try:
            for queue in queues:
                queue(channel).declare()
            return
        except (OperationalError, IntegrityError):
            if attempt == tries - 1:
                raise
            session = getattr(channel, "_session", None)
            if session is not None:
                session.rollback()
            time.sleep(0.05)


def district_exchange(district: str) -> Exchange:
    """The district's topic exchange for tasks, escalations and notifications."""
    return Exchange(exchange_name(district), type="topic", durable=True)


def _dead_letter_exchange(district: str) -> Exchange:
    return Exchange(f"{exchange_name(district)}.dlx", type="direct", durable=True)


def dead_letter_queue(district: str) -> Queue:
    """Where messages go that a consumer could not read: kept and counted, never dropped."""
    return Queue(
        f"{district}.dead-letter",
        exchange=_dead_letter_exchange(district),
        routing_key=DEAD_LETTER_KEY,
        durable=True,
    )


def unit_queue(district: str, unit_id: str) -> Queue:
    """A unit's durable queue; a rejected message dead-letters to the district's DLX."""
    return Queue(
        unit_queue_name(district, unit_id),
        exchange=district_exchange(district),
        routing_key=unit_routing_key(unit_id),
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": _dead_letter_exchange(district).name,
            "x-dead-letter-routing-key": DEAD_LETTER_KEY,
        },
    )


def triage_queue(district: str) -> Queue:
    """The district's manual-triage queue: tickets no rule fits, for a dispatcher."""
    return Queue(
        triage_queue_name(district),
        exchange=district_exchange(district),
        routing_key=TRIAGE_ROUTING_KEY,
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": _dead_letter_exchange(district).name,
            "x-dead-letter-routing-key": DEAD_LETTER_KEY,
        },
    )


def notify_queue(district: str, channel: str) -> Queue:
    """A gateway's durable queue (``sms``, ``wechat``...), bound to ``notify.<channel>``.

    Declared by the notifier, so notifications wait there while the gateway is away.
    """
    return Queue(
        notify_queue_name(district, channel),
        exchange=district_exchange(district),
        routing_key=notify_routing_key(channel),
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": _dead_letter_exchange(district).name,
            "x-dead-letter-routing-key": DEAD_LETTER_KEY,
        },
    )


def _district_queues(
    district: str, unit_ids: Iterable[str], channels: Iterable[str] = ()
) -> list[Queue]:
    """Every queue a publisher must declare: over SQLite, bindings live only in its memory."""
    units = [unit_queue(district, u) for u in unit_ids]
    gateways = [notify_queue(district, c) for c in channels]
    return [*units, *gateways, triage_queue(district), dead_letter_queue(district)]


@dataclass(frozen=True)
class DeliveredTask:
    """A message taken from a queue: its id, its body, and whether it may be a repeat."""

    message_id: str
    payload: dict[str, Any]
    redelivered: bool


#: Longest wait for RabbitMQ to confirm a whole batch of publishes.
CONFIRM_TIMEOUT = 10.0


class NotConfirmed(Exception):
    """RabbitMQ refused (nacked) a publish, or did not confirm the batch in time."""


class _Confirms:
    """Publisher confirms for a whole batch: publish everything, then wait for the acks.

    Waiting for each message's confirm before sending the next made a relay
    batch cost one broker round trip per message, which under load was the
    slowest hop of the pipeline. RabbitMQ numbers a confirm-mode channel's
    publishes 1, 2, ... and acks them, one or many (``multiple``) at a time.
    """

    def __init__(self, connection: Connection, channel: Any) -> None:
        self._connection = connection
        self._sent = 0
        self._waiting: set[int] = set()
        self._refused = False
        channel.confirm_select()
        channel.events["basic_ack"].add(self._settle)
        channel.events["basic_nack"].add(self._nack)

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._waiting = {t for t in self._waiting if t > tag}
        else:
            self._waiting.discard(tag)

    def _nack(self, tag: int, multiple: bool) -> None:
        self._refused = True
        self._settle(tag, multiple)

    def sent(self) -> None:
        """Note one publish, whose confirm ``wait`` then waits for."""
        self._sent += 1
        self._waiting.add(self._sent)

    def wait(self, timeout: float = CONFIRM_TIMEOUT) -> None:
        """Return once every publish so far is confirmed; raise if one was refused."""
        deadline = time.monotonic() + timeout
        while self._waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotConfirmed(f"{len(self._waiting)} publishes not confirmed in {timeout}s")
            try:
                self._connection.drain_events(timeout=left)
            except TimeoutError:
                continue
        if self._refused:
            self._refused = False
            raise NotConfirmed("RabbitMQ refused a publish (nack)")


class AmqpPublisher:
    """Publishes to the district's exchange; used by the relays, from a worker thread.

    It connects lazily, so a service starts while RabbitMQ is down; a failed
    publish drops the connection and raises, and the relay retries later. On
    RabbitMQ a batch returns once the broker has confirmed all of it.
    """

    def __init__(
        self, url: str, district: str, unit_ids: Iterable[str], channels: Iterable[str] = ()
    ) -> None:
        self._url = url
        self._district = district
        self._queues = _district_queues(district, unit_ids, channels)
        self._stale = False
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _Confirms | None = None

    def set_units(self, unit_ids: Iterable[str], channels: Iterable[str] = ()) -> None:
        """Declare the queues of a new unit (and gateway) list after a reload, on next publish.

        Only flags the change: the relay's worker thread reconnects before its
        next publish, so a reload never closes a connection under a publish.
        """
        self._queues = _district_queues(self._district, unit_ids, channels)
        self._stale = True

    def _ready(self) -> Producer:
        if self._stale:
            self._stale = False
            self.close()
        if self._producer is None:
            batched = not _is_sqlite(self._url)
            # Confirmed per batch (``_Confirms``), not per message as ``connect`` would.
            connection = Connection(self._url, connect_timeout=5) if batched else connect(self._url)
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            declare(channel, self._queues)
            self._confirms = _Confirms(connection, channel) if batched else None
            self._connection = connection
            self._producer = Producer(channel, exchange=district_exchange(self._district))
        return self._producer

    def publish(
        self, routing_key: str, payload: dict[str, Any], message_id: str, redelivered: bool = False
    ) -> None:
        """Publish one persistent JSON message; returns once the broker has it."""
        self.publish_many([(routing_key, payload, message_id, redelivered)])

    def publish_many(self, items: Sequence[tuple[str, dict[str, Any], str, bool]]) -> None:
        """Publish a relay batch in order; on any failure, reconnect next time and raise."""
        try:
            producer = self._ready()
            for routing_key, payload, message_id, redelivered in items:
                producer.publish(
                    json.dumps(payload, ensure_ascii=False),
                    routing_key=routing_key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=message_id,
                    headers={REDELIVERY_HEADER: redelivered},
                )
                if self._confirms is not None:
                    self._confirms.sent()
            if self._confirms is not None:
                self._confirms.wait()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection; the next publish opens a new one."""
        connection, self._connection, self._producer = self._connection, None, None
        self._confirms = None
        if connection is not None:
            try:
                connection.release()
            except Exception as exc:  # closing a broken connection may fail too
                log.debug("closing AMQP connection: %s", exc)


class UnitQueueConsumer:
    """Reads one unit's queue, acknowledging each task only after the caller has it."""

    def __init__(self, url: str, district: str, unit_id: str, prefetch: int = 100) -> None:
        self._district = district
        self._queue_name = unit_queue_name(district, unit_id)
        self._is_sqlite = _is_sqlite(url)
        self._connection = connect(url)
        self._connection.ensure_connection(max_retries=3)
        channel = self._connection.channel()
        channel.basic_qos(0, prefetch, False)
        declare(channel, (unit_queue(district, unit_id), dead_letter_queue(district)))
        self._simple = SimpleQueue(channel, unit_queue(district, unit_id), no_ack=False)
        self._dead = Producer(channel, exchange=_dead_letter_exchange(district))

    def iterate(self, timeout: float) -> Iterator[DeliveredTask]:
        """Yield tasks as they come; stop once none has come for ``timeout`` seconds."""
        while True:
            try:
                message = self._simple.get(block=True, timeout=timeout)
            except self._simple.Empty:
                return
            except TimeoutError:
                return
            task = self._read(message)
            if task is None:
                continue
            yield task
            message.ack()

    def _read(self, message: Message) -> DeliveredTask | None:
        """Parse a task; a poison message goes to the dead-letter queue and is counted."""
        try:
            payload = json.loads(message.body)
            if not isinstance(payload, dict) or "ticket_id" not in payload:
                raise ValueError("not a task")
        except ValueError as exc:
            log.error("%s: dead-lettering an unreadable message: %s", self._queue_name, exc)
            metrics.POISON_MESSAGES.labels(self._district, self._queue_name).inc()
            if self._is_sqlite:  # no broker-side dead-lettering: move it by hand
                self._dead.publish(
                    message.body,
                    routing_key=DEAD_LETTER_KEY,
                    delivery_mode=2,
                    message_id=message.properties.get("message_id"),
                    headers=message.headers,
                )
                message.ack()
            else:
                message.reject(requeue=False)
            return None
        headers = message.headers or {}
        return DeliveredTask(
            message_id=str(message.properties.get("message_id", "")),
            payload=payload,
            redelivered=bool(headers.get(REDELIVERY_HEADER))
            or bool(message.delivery_info.get("redelivered")),
        )

    def close(self) -> None:
        """Close the queue and the connection; unacknowledged tasks return to the queue."""
        self._simple.close()
        self._connection.release()


def drain_queue(url: str, queue: Queue, timeout: float) -> list[DeliveredTask]:
    """Take every message from ``queue`` (declaring it), for tests, benchmarks and tools."""
    connection = connect(url)
    try:
        simple = SimpleQueue(connection.channel(), queue, no_ack=False)
        got: list[DeliveredTask] = []
        while True:
            try:
                message = simple.get(block=True, timeout=timeout)
            except simple.Empty:
                return got
            headers = message.headers or {}
            got.append(
                DeliveredTask(
                    str(message.properties.get("message_id", "")),
                    json.loads(message.body),
                    bool(headers.get(REDELIVERY_HEADER)),
                )
            )
            message.ack()
    finally:
        connection.release()
