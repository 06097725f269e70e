"""The consumer lag gauge speaks only for what this replica reads: a topic it holds no
partition of (another replica of the group has it) has no series from it, not a stale one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiokafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import REGISTRY

from hotline.shared.messaging.streams.app import StreamRunner

GROUP = "hotline-lagtest-router"
REQUESTS, EVENTS = "lagtest.requests", "lagtest.events"


def _lag(topic: str) -> float | None:
    labels = {"district": "lagtest", "consumer": GROUP, "topic": topic}
    return REGISTRY.get_sample_value("hotline_stream_consumer_lag_messages", labels)


class _Consumer:
    def __init__(self, held: set[TopicPartition], ends: dict[TopicPartition, int]) -> None:
        self.held, self.ends = held, ends

    def assignment(self) -> set[TopicPartition]:
        return self.held

    def highwater(self, tp: TopicPartition) -> int:
        return self.ends[tp]


class _Admin:
    def __init__(self, committed: dict[TopicPartition, int]) -> None:
        self.committed = committed

    async def list_consumer_group_offsets(
        self, group: str, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        return {tp: OffsetAndMetadata(self.committed[tp], "") for tp in partitions}


def _app(consumer: _Consumer) -> Any:
    """What the runner reads of a faust app: its agents' topics and its consumer."""
    agent = SimpleNamespace(channel=SimpleNamespace(topics=(REQUESTS, EVENTS)))
    return SimpleNamespace(agents={"route": agent}, consumer=consumer)


def test_a_replica_that_holds_no_partition_leaves_no_stale_lag(tmp_path: Path) -> None:
    runner = StreamRunner(GROUP, "kafka://127.0.0.1:9", tmp_path)
    requests, events = TopicPartition(REQUESTS, 0), TopicPartition(EVENTS, 0)
    both = _Consumer({requests, events}, {requests: 30, events: 12})
    admin = _Admin({requests: 10, events: 12})

    asyncio.run(runner._observe_lag(admin, _app(both)))
    assert (_lag(REQUESTS), _lag(EVENTS)) == (20, 0)

    # a rebalance gives the events topic to another replica: only its reader reports it
    one = _Consumer({requests}, {requests: 35})
    asyncio.run(runner._observe_lag(admin, _app(one)))
    assert (_lag(REQUESTS), _lag(EVENTS)) == (25, None)

    # and then everything: this replica reads nothing and says nothing
    asyncio.run(runner._observe_lag(admin, _app(_Consumer(set(), {}))))
    assert (_lag(REQUESTS), _lag(EVENTS)) == (None, None)
