"""Publishing outbox rows to Kafka through a runner's faust producer.

The relay marks a row published only once this returns, so it returns only
when the broker acknowledged every message (the apps use acks=all); and it
fails, never hangs, while Kafka is down, so the relay keeps the rows and
retries later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from faust.serializers import codecs

from hotline.shared.messaging.streams.app import StreamRunner

#: Longest wait for the broker to acknowledge a whole batch.
ACK_TIMEOUT = 5.0


class KafkaUnavailable(Exception):
    """Kafka cannot take messages now; the outbox keeps them."""


class KafkaPublisher:
    """Sends (topic, key, value) batches through ``runner``'s app, pipelined.

    It needs only the app's producer, so it works with a producer-only runner.
    """

    def __init__(self, runner: StreamRunner, *, timeout: float = ACK_TIMEOUT) -> None:
        self._runner = runner
        self.timeout = timeout

    async def publish(self, batch: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Send the whole batch, then wait for every ack; raise if any fails or time runs out.

        Sending all before awaiting any lets the producer pack the batch into a
        few requests, instead of one round trip per message (about 170 msg/s).
        """
        if not batch:
            return
        app = self._runner.app
        if app is None or not app.producer.started or app.producer.should_stop:
            raise KafkaUnavailable(f"{self._runner.app_id} is not connected to Kafka")
        try:
            await asyncio.wait_for(self._send_all(app.producer, batch), self.timeout)
        except TimeoutError as exc:
            raise KafkaUnavailable(
                f"Kafka did not acknowledge {len(batch)} messages within {self.timeout}s"
            ) from exc

    async def _send_all(
        self, producer: Any, batch: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        acks: list[Awaitable[Any]] = []
        try:
            for topic, key, value in batch:
                # Queues the message and returns its ack; waits only while the
                # producer learns the topic's partitions or its buffer is full.
                ack = await producer.send(topic, key.encode(), _encode(value), None, None, None)
                acks.append(ack)
        except BaseException:
            _forget(acks)
            raise
        try:
            results = await asyncio.gather(*acks, return_exceptions=True)
        except BaseException:  # timed out: nobody waits for the rest any more
            _forget(acks)
            raise
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _encode(value: dict[str, Any]) -> bytes:
    """JSON through faust's own codec: exactly what a ``json`` value serializer reads."""
    encoded: bytes = codecs.dumps("json", value)
    return encoded


def _forget(acks: Sequence[Awaitable[Any]]) -> None:
    """Cancel acks nobody will await: the relay retries the whole batch later.

    The messages may still reach Kafka; consumers drop the duplicates by event id.
    """
    for ack in acks:
        if isinstance(ack, asyncio.Future):
            ack.cancel()
