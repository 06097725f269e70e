"""The relay on a real ledger and the real RabbitMQ: a commit that lands while the relay
is publishing gets published right after, not at the next poll."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.outbox import enqueue
from hotline.shared.ledger.schema import OutboxMessage
from hotline.shared.messaging.amqp import AmqpPublisher, drain_queue, unit_queue
from hotline.shared.messaging.relay import Relay
from tests.harness import AMQP_URL

pytestmark = pytest.mark.rabbitmq

#: Far longer than the test may take: only a wake can make the relay publish in time.
POLL = 30.0


def _owe(engine: Engine, n: int) -> None:
    with make_sessions(engine).begin() as session:
        enqueue(
            session, relay="router", transport="amqp", target="unit.east", key=f"t{n}",
            message_id=f"t{n}:1", payload={"n": n}, now=datetime.now(UTC),
        )  # fmt: skip


class CommitsWhilePublishing(AmqpPublisher):
    """The real publisher; during its first batch another call commits and wakes the relay."""

    relay: Relay
    engine: Engine
    committed: bool = False

    def publish_many(self, items: Sequence[tuple[str, dict[str, Any], str, bool]]) -> None:
        if not self.committed:
            self.committed = True
            _owe(self.engine, 2)
            self.relay.wake()
        super().publish_many(items)


def test_a_commit_during_a_publish_is_published_at_once(ledger: Engine) -> None:
    district = f"wake-{uuid.uuid4().hex[:8]}"
    publisher = CommitsWhilePublishing(AMQP_URL, district, ["east"])
    relay = Relay("router", district, make_sessions(ledger), None, publisher, poll_seconds=POLL)
    publisher.relay, publisher.engine = relay, ledger

    async def scenario() -> float:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        await asyncio.sleep(0.2)  # the relay drained nothing and waits for a wake
        _owe(ledger, 1)
        began = time.monotonic()
        relay.wake()
        while time.monotonic() - began < 10:
            with make_sessions(ledger)() as session:
                pending = session.scalars(
                    select(OutboxMessage.key).where(OutboxMessage.published_at.is_(None))
                ).all()
            if not pending:
                break
            await asyncio.sleep(0.05)
        took = time.monotonic() - began
        stop.set()
        relay.wake()  # it waits for a wake or the poll before it looks at ``stop``
        await running
        return took

    try:
        took = asyncio.run(scenario())
        got = drain_queue(AMQP_URL, unit_queue(district, "east"), timeout=1)
    finally:
        publisher.close()
    assert [t.payload["n"] for t in got] == [1, 2]
    assert took < 5, f"the second row waited {took:.1f}s: the wake during the publish was lost"
