"""``hotline intake|router|notifier``: one service against production settings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hotline.intake.main import build as build_intake
from hotline.notifier.main import build as build_notifier
from hotline.router.main import build as build_router
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.ledger.engine import make_engine, migrate
from hotline.shared.messaging.streams.tansu import kafka_broker_url
from hotline.shared.runtime.host import Service, serve
from hotline.shared.runtime.listener import listen
from hotline.shared.runtime.settings import Settings
from hotline.shared.runtime.workers import Supervisor, worker_argv


def run_service(
    name: str,
    host: str,
    port: int,
    *,
    workers: int = 1,
    worker: str | None = None,
) -> int:
    """Run the service ``name`` until SIGTERM; return the exit code.

    With ``workers`` above 1 this process only supervises that many worker
    processes on its port (see :mod:`hotline.shared.runtime.workers`); a worker is
    started with its ``worker`` number and binds the port beside the others.
    """
    settings = Settings.from_env()
    source = ConfigSource(settings.config_path)
    config = source.config
    listener = listen(host, port, shared=workers > 1 or worker is not None)
    kafka_url = kafka_broker_url(settings.kafka_url)
    engine = make_engine(settings.database_url)
    if worker is None:
        migrate(engine)  # once per port: a supervisor's workers find the schema ready
    if workers > 1:
        engine.dispose()
        with listener:
            return Supervisor(worker_argv(name, host, port), listener, workers).run()
    with listener, tempfile.TemporaryDirectory(prefix=f"hotline-{name}-") as state_dir:
        state = Path(state_dir)
        service: Service
        if name == "intake":
            service = build_intake(engine, source, kafka_url, state, settings.tokens)
        elif name == "router":
            service = build_router(
                engine, source, kafka_url, settings.amqp_url, state, settings.redrive_after
            )
        else:
            service = build_notifier(
                engine, source, kafka_url, settings.amqp_url, state, settings.notify
            )

        def ready() -> None:
            which = f" (worker {worker})" if worker else ""
            print(
                f"hotline {name}{which}: district {config.district}, serving {host}:{port}",
                flush=True,
            )

        watcher = Service("config", loops=[source.watch])
        serve([service, watcher], listener=listener, title=f"Hotline {name}", on_ready=ready)
    engine.dispose()
    return 0
