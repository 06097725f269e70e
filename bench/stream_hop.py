"""One faust hop on Tansu: publish with KafkaPublisher, time until the agent has it.

Starts the bundled Tansu, a producer-only runner and a consuming runner in one
event loop (as the services run them), offers a fixed rate of one-message
publishes for a while, and prints the hop latency p50/p99 for each consumer
fetch wait given (the wait is what a hop costs on Tansu; see transport.py).

    /work/venv/bin/python -m bench.stream_hop [--rate 200] [--seconds 10] [--waits 10,20,50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import faust

from hotline.shared.messaging.streams import transport
from hotline.shared.messaging.streams.app import StreamRunner, requests_topic
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.messaging.streams.tansu import TansuBroker


async def measure(broker: TansuBroker, data: Path, rate: float, seconds: float) -> list[float]:
    """Latencies in ms of the messages offered at ``rate`` for ``seconds``."""
    run = time.monotonic_ns()
    district = f"bench{run}"  # a fresh topic and group: nothing of an earlier run is read
    sent: dict[str, float] = {}
    hops: dict[str, float] = {}
    warmed = asyncio.Event()

    def define(app: faust.App) -> None:
        async def consume(stream: Any) -> None:
            async for key, _value in stream.items():
                now = time.monotonic()
                if key == "warm-up":
                    warmed.set()
                elif key in sent and key not in hops:
                    hops[key] = (now - sent[key]) * 1000.0

        app.agent(requests_topic(app, district), name=f"{district}-hop")(consume)

    consumer = StreamRunner(f"bench-hop-{run}", broker.url, data, define)
    producer = StreamRunner(f"bench-intake-{run}", broker.url, data, producer_only=True)
    await consumer.start()
    await producer.start()
    try:
        if not (await consumer.wait_ready(60) and await producer.wait_ready(60)):
            raise RuntimeError("the stream apps did not start")
        publisher = KafkaPublisher(producer)
        topic = f"{district}.requests"
        await publisher.publish([(topic, "warm-up", {"n": -1})])
        await asyncio.wait_for(warmed.wait(), 30)
        pending: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        n = 0
        while (due := start + n / rate) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            key = f"m{n}"
            sent[key] = time.monotonic()
            task = asyncio.create_task(publisher.publish([(topic, key, {"n": n})]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
        await asyncio.gather(*pending)
        deadline = time.monotonic() + 10
        while len(hops) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if len(hops) < n:
            print(f"  lost {n - len(hops)} of {n} messages")
        return list(hops.values())
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--waits", default=str(transport.FETCH_MAX_WAIT_MS), help="ms, a list")
    args = parser.parse_args()
    with TansuBroker() as broker, tempfile.TemporaryDirectory(prefix="bench-hop-") as data:
        for wait in [int(w) for w in args.waits.split(",")]:
            transport.FETCH_MAX_WAIT_MS = wait  # read when a consumer is created
            hops = asyncio.run(measure(broker, Path(data), args.rate, args.seconds))
            cuts = statistics.quantiles(hops, n=100)
            print(
                f"fetch wait {wait:>4} ms: {len(hops)} messages at {args.rate:g}/s, "
                f"hop p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms, max {max(hops):.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
