"""The consumer lag gauge on a real Kafka-compatible broker (Tansu): messages a consumer
holds without committing show as lag; once it processes and commits them, the lag is 0; a
consumer that stops leaves no series behind (a stale number would outlive it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
import pytest
from prometheus_client import REGISTRY

from hotline.shared.messaging.names import requests_topic
from hotline.shared.messaging.streams.app import StreamRunner
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.messaging.streams.tansu import TansuBroker


async def _until(ok: Callable[[], bool], within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not ok():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
def test_lag_counts_uncommitted_messages_drops_to_zero_and_goes_with_the_consumer(
    tmp_path: Path,
) -> None:
    district = f"lag{uuid.uuid4().hex[:8]}"
    topic = requests_topic(district)
    group = f"hotline-{district}-router"

    def lag() -> float | None:
        labels = {"district": district, "consumer": group, "topic": topic}
        return REGISTRY.get_sample_value("hotline_stream_consumer_lag_messages", labels)

    async def scenario(broker: str) -> None:
        gate, seen = asyncio.Event(), []

        async def hold(stream: Any) -> None:
            async for value in stream:
                await gate.wait()  # the consumer is stuck until the test lets it go
                seen.append(value)

        def define(app: faust.App) -> None:
            app.agent(app.topic(topic, value_serializer="json"), name=f"{district}-hold")(hold)

        consumer = StreamRunner(group, broker, tmp_path, define)
        producer = StreamRunner(f"hotline-{district}-intake", broker, tmp_path, producer_only=True)
        await consumer.start()
        await producer.start()
        try:
            assert await consumer.wait_ready(60) and await producer.wait_ready(60)
            await KafkaPublisher(producer).publish([(topic, str(i), {"n": i}) for i in range(20)])
            await _until(lambda: lag() == 20)
            gate.set()
            await _until(lambda: len(seen) == 20 and lag() == 0)
            await consumer.stop()
            assert lag() is None, "a stopped consumer still reports its lag"
        finally:
            await producer.stop()
            await consumer.stop()

    with TansuBroker(log_path=tmp_path / "tansu.log") as tansu:
        asyncio.run(scenario(tansu.url))
