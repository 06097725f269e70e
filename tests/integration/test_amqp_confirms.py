"""Publishing a relay batch to the real RabbitMQ: the batch returns once the broker has
confirmed every message, and a message the broker refuses fails the batch."""

from __future__ import annotations

import uuid

import pytest
from kombu.entity import Queue

from hotline.shared.messaging.amqp import (
    AmqpPublisher,
    NotConfirmed,
    connect,
    district_exchange,
    drain_queue,
    unit_queue,
)
from tests.harness import AMQP_URL

pytestmark = pytest.mark.rabbitmq


def _district() -> str:
    return f"confirms-{uuid.uuid4().hex[:8]}"


def _delete(*queues: Queue) -> None:
    connection = connect(AMQP_URL)
    try:
        channel = connection.channel()
        for queue in queues:
            queue.bind(channel).delete()
    finally:
        connection.release()


def test_a_batch_returns_with_every_message_in_the_queue_in_order() -> None:
    district = _district()
    publisher = AmqpPublisher(AMQP_URL, district, ["east"])
    items = [("unit.east", {"n": n}, f"m{n}", n % 2 == 1) for n in range(500)]
    try:
        publisher.publish_many(items)
        publisher.publish_many(items[:3])  # the same channel goes on confirming
        got = drain_queue(AMQP_URL, unit_queue(district, "east"), timeout=1)
    finally:
        publisher.close()
        _delete(unit_queue(district, "east"))
    assert [t.payload["n"] for t in got] == [*range(500), 0, 1, 2]
    assert [t.redelivered for t in got[:4]] == [False, True, False, True]
    assert [t.message_id for t in got[:2]] == ["m0", "m1"]


def test_a_refused_message_fails_the_batch_and_the_next_batch_reconnects() -> None:
    """A queue that rejects what overflows it makes RabbitMQ nack the publish."""
    district = _district()
    full = Queue(
        f"{district}.full",
        exchange=district_exchange(district),
        routing_key="unit.east",
        durable=False,
        queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"},
    )
    publisher = AmqpPublisher(AMQP_URL, district, ["east"])
    try:
        publisher.publish_many([("unit.east", {"n": 0}, "m0", False)])
        connection = connect(AMQP_URL)
        full.bind(connection.channel()).declare()
        connection.release()
        with pytest.raises(NotConfirmed, match="refused"):
            publisher.publish_many([("unit.east", {"n": n}, f"m{n}", False) for n in (1, 2)])
        _delete(full)
        publisher.publish_many([("unit.east", {"n": 3}, "m3", True)])
        got = drain_queue(AMQP_URL, unit_queue(district, "east"), timeout=1)
    finally:
        publisher.close()
        _delete(unit_queue(district, "east"), full)
    # The unit's own queue took what the full one refused; the relay sends it again anyway,
    # flagged as a redelivery, so the unit never takes the copy for a new task.
    assert [t.payload["n"] for t in got] == [0, 1, 2, 3]
