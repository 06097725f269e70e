"""The intake's composition root: the API, its ledger, and the relay to the requests stream."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from hotline.intake.app import install
from hotline.intake.auth import Authenticator
from hotline.intake.context import IntakeContext
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.domain.access import Principal
from hotline.shared.ledger.engine import ledger_check, make_sessions
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.messaging.relay import Relay
from hotline.shared.messaging.streams.app import StreamRunner
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.runtime.host import Service


def build(
    engine: Engine,
    source: ConfigSource,
    kafka_url: str,
    data_dir: Path,
    tokens: Mapping[str, Principal],
) -> Service:
    """The intake: it needs only the ledger to take calls; Kafka may come and go.

    ``tokens`` are the API tokens given in config (by hash), besides the ledger's.
    """
    sessions = make_sessions(engine)
    config = source.config
    runner = StreamRunner(
        f"hotline-{config.district}-intake", kafka_url, data_dir, producer_only=True
    )
    relay = Relay(Publisher.INTAKE, config.district, sessions, KafkaPublisher(runner), None)
    context = IntakeContext(sessions=sessions, source=source, wake_relay=relay.wake)

    authenticator = Authenticator(sessions, tokens)

    def routes(app: FastAPI) -> None:
        install(app, context, authenticator)

    return Service(
        name="intake",
        routes=routes,
        checks={
            "intake.ledger": lambda: ledger_check(engine),
            "intake.kafka": lambda: None if runner.ready else "not connected to Kafka",
        },
        critical={"intake.ledger"},
        streams=[runner],
        loops=[relay.run, relay.watch_backlog],
    )
