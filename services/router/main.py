"""The router's composition root: the requests agent, the re-drive loop, the task relay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
from sqlalchemy import Engine

from hotline.router.worker import RouterWorker
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.ledger.engine import ledger_check, make_sessions
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.messaging.amqp import AmqpPublisher
from hotline.shared.messaging.names import requests_topic
from hotline.shared.messaging.relay import Relay
from hotline.shared.messaging.streams.app import StreamRunner
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.runtime.host import Service

#: Up to this many request messages are decided per batch; a batch waits at most BATCH_WAIT.
BATCH = 200
BATCH_WAIT = 0.01


def build(
    engine: Engine,
    source: ConfigSource,
    kafka_url: str,
    amqp_url: str,
    data_dir: Path,
    redrive_after: timedelta,
) -> Service:
    """The router: reads requests from Kafka, writes decisions to the ledger, tasks to AMQP."""
    sessions = make_sessions(engine)
    config = source.config
    amqp = AmqpPublisher(amqp_url, config.district, config.unit_ids)
    source.on_reload(lambda new: amqp.set_units(new.unit_ids))

    async def route_requests(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_WAIT):
            await worker.handle_messages(batch)

    def define(app: faust.App) -> None:
        topic = app.topic(requests_topic(config.district), value_serializer="json")
        app.agent(topic, name=f"{config.district}-route")(route_requests)

    runner = StreamRunner(f"hotline-{config.district}-router", kafka_url, data_dir, define)
    relay = Relay(Publisher.ROUTER, config.district, sessions, KafkaPublisher(runner), amqp)
    worker = RouterWorker(sessions, source, relay.wake, redrive_after)
    return Service(
        name="router",
        checks={
            "router.ledger": lambda: ledger_check(engine),
            "router.kafka": lambda: None if runner.ready else "not connected to Kafka",
        },
        critical={"router.ledger"},
        streams=[runner],
        loops=[relay.run, relay.watch_backlog, worker.redrive, worker.transfer],
        closers=[amqp.close],
    )
