"""A faust transport whose consumers wait at most a few milliseconds per fetch.

faust's aiokafka driver hard-codes ``fetch_max_wait_ms=1500``. Real Kafka
answers a fetch as soon as data arrives, so the wait rarely matters there;
Tansu answers only when the wait runs out, so on Tansu the wait *is* the
per-hop latency (faust's 1500 ms: p50 455 ms, p99 848 ms a hop at 200 msg/s).

faust finds this class through the ``faust.transports`` entry point that
pyproject.toml registers: a broker URL ``hotline-kafka://host:port`` selects it.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as driver

#: The consumer's fetch max wait. One faust hop on Tansu at 200 msg/s for 10 s
#: (bench/stream_hop.py, this 2-core machine): 10 ms gave p50 13.6 ms, p99 24.4 ms;
#: 20 ms gave p50 24.5 ms, p99 35.4 ms; 50 ms gave p50 55.7 ms, p99 66.4 ms.
#: 20 ms: a hop well under any SLA we keep, at no more than 50 idle fetches
#: a second per consumer (10 ms doubles that for ~10 ms less).
FETCH_MAX_WAIT_MS = 20


class ConsumerThread(driver.AIOKafkaConsumerThread):
    """The driver's consumer thread, creating consumers with the short fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts and builds its fetcher;
        # fail loudly if a new aiokafka renames it, rather than silently slow down.
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError("aiokafka changed: AIOKafkaConsumer has no _fetch_max_wait_ms")
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(driver.Consumer):
    """The driver's consumer, running :class:`ConsumerThread`."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    """The aiokafka transport with :class:`Consumer`; everything else is faust's."""

    Consumer = Consumer
