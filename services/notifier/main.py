"""The notifier's composition root: the deadline scheduler, the events agent, its relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from sqlalchemy import Engine

from hotline.notifier.hotspots import HotspotWatch
from hotline.notifier.worker import NotifierWorker
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.ledger.engine import ledger_check, make_sessions
from hotline.shared.ledger.exclusive import single_on_sqlite
from hotline.shared.ledger.notifications import unreachable
from hotline.shared.ledger.outbox import Publisher
from hotline.shared.messaging.amqp import AmqpPublisher
from hotline.shared.messaging.delivery import (
    RetryPolicy,
    Sender,
    SmtpSender,
    SmtpSettings,
    WebhookSender,
)
from hotline.shared.messaging.names import events_topic
from hotline.shared.messaging.relay import Relay
from hotline.shared.messaging.streams.app import StreamRunner
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.observability.gauges import refreshing, ticket_gauges
from hotline.shared.observability.metrics import Sample
from hotline.shared.runtime.host import Service
from hotline.shared.runtime.settings import NotifySettings


def senders(notify: NotifySettings) -> dict[str, Sender]:
    """The webhook and e-mail senders the settings allow (none without a secret or a server)."""
    out: dict[str, Sender] = {}
    if notify.webhook_secret:
        out["webhook"] = WebhookSender(notify.webhook_secret)
    if notify.smtp_url:
        out["smtp"] = SmtpSender(SmtpSettings(notify.smtp_url, notify.smtp_from))
    return out


def build(
    engine: Engine,
    source: ConfigSource,
    kafka_url: str,
    amqp_url: str,
    data_dir: Path,
    notify: NotifySettings | None = None,
) -> Service:
    """The notifier: escalates from the ledger's deadlines, measures from the events stream.

    Its relay delivers every notification, whoever wrote it: AMQP gateways,
    signed webhooks and e-mail, with retries and dead-lettering.

    It also reports where the district's tickets stand (open by state, each unit's
    tasks, overdue tasks): one process per district does, the one that owns the clocks.
    On a SQLite ledger it refuses to start while another notifier runs (AlreadyRunning).
    """
    guard = single_on_sqlite(engine, "notifier")
    sessions = make_sessions(engine)
    config = source.config
    amqp = AmqpPublisher(amqp_url, config.district, config.unit_ids, config.gateway_channels)
    source.on_reload(lambda new: amqp.set_units(new.unit_ids, new.gateway_channels))

    async def observe_events(stream: Any) -> None:
        async for batch in stream.take(500, within=0.05):
            worker.observe(batch)

    def define(app: faust.App) -> None:
        topic = app.topic(events_topic(config.district), value_serializer="json")
        app.agent(topic, name=f"{config.district}-observe")(observe_events)
        hotspots.define(app, topic)

    runner = StreamRunner(f"hotline-{config.district}-notifier", kafka_url, data_dir, define)
    notify = notify or NotifySettings()
    reach = senders(notify)
    relay = Relay(
        Publisher.NOTIFIER, config.district, sessions, KafkaPublisher(runner), amqp,
        senders=reach, retry=RetryPolicy(max_tries=notify.max_tries),
    )  # fmt: skip
    worker = NotifierWorker(sessions, lambda: source.config, relay.wake)
    hotspots = HotspotWatch(sessions, lambda: source.config, relay.wake)

    def tickets() -> list[Sample]:
        return ticket_gauges(sessions, source.config)

    return Service(
        name="notifier",
        checks={
            "notifier.ledger": lambda: ledger_check(engine),
            "notifier.kafka": lambda: None if runner.ready else "not connected to Kafka",
            "notifier.contacts": lambda: unreachable(source.config, set(reach)),
        },
        critical={"notifier.ledger"},
        streams=[runner],
        loops=[relay.run, worker.schedule, relay.watch_backlog, refreshing("tickets", tickets)],
        closers=[amqp.close, *([guard.release] if guard else [])],
    )
