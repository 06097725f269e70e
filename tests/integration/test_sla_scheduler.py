"""The deadline scheduler: two notifiers on one PostgreSQL fire each rung exactly once;
on SQLite a second notifier refuses to start."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select

from hotline.intake.requests import submit
from hotline.notifier.worker import NotifierWorker
from hotline.router.decisions import RouteCommand, route
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from hotline.shared.ledger.exclusive import AlreadyRunning, single_on_sqlite
from hotline.shared.ledger.schema import Deadline, Event, OutboxMessage
from tests.conftest import _fresh_pg
from tests.harness import HOTLINE, _base_env, free_port
from tests.integration.test_ledger_flow import CONFIG, ROUTER, _request

TICKETS = 40
#: Per ticket, assigned a day ago (urgent): sign-for 4 rungs, first-response 2, resolution 3;
#: the repeating rungs' next repeats fall due an hour or more from now.
RUNGS_EACH = 9


def _due_now(engine: Engine) -> int:
    with make_sessions(engine)() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(
                    Deadline.fired_at.is_(None),
                    Deadline.stopped_at.is_(None),
                    Deadline.due_at <= datetime.now(UTC),
                )
            )
            or 0
        )


def _run_notifier(engine: Engine, done: threading.Event, errors: list[BaseException]) -> None:
    """One notifier instance: its own engine and the real scheduler loop, until told to stop."""
    worker = NotifierWorker(make_sessions(engine), lambda: CONFIG, lambda: None)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.schedule(stop))
        while not done.is_set():
            await asyncio.sleep(0.05)
        stop.set()
        await task

    try:
        asyncio.run(main())
    except BaseException as exc:  # surfaced by the test
        errors.append(exc)


@pytest.mark.postgres
def test_two_notifiers_on_one_postgresql_fire_each_rung_exactly_once(pg_url: str) -> None:
    setup = _fresh_pg(pg_url)
    assigned = datetime.now(UTC) - timedelta(days=1)
    sessions = make_sessions(setup)
    for _ in range(TICKETS):
        with sessions.begin() as s:
            ticket_id = submit(s, ROUTER, _request(), assigned).ticket.id
        with sessions.begin() as s:
            route(s, ROUTER, RouteCommand(ticket_id, 0), assigned)
    assert _due_now(setup) == TICKETS * RUNGS_EACH
    missed_before = REGISTRY.get_sample_value(
        "hotline_sla_clock_stops_total",
        {"district": "lunan", "unit": "friendship-street", "category": "supplies",
         "urgency": "urgent", "clock": "resolution", "outcome": "missed"},
    ) or 0.0  # fmt: skip
    engines = [make_engine(pg_url), make_engine(pg_url)]
    done, errors = threading.Event(), []
    threads = [threading.Thread(target=_run_notifier, args=(e, done, errors)) for e in engines]
    for thread in threads:
        thread.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while _due_now(setup) and datetime.now(UTC) < deadline:
            threading.Event().wait(0.1)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
        for engine in engines:
            engine.dispose()
    assert errors == []
    with make_sessions(setup)() as s:
        events = s.scalars(select(Event).where(Event.type == "escalated")).all()
        keys = Counter(
            (e.ticket_id, e.data["clock"], e.data["level"], e.data["repeat"]) for e in events
        )
        assert len(keys) == TICKETS * RUNGS_EACH
        assert set(keys.values()) == {1}, "a rung fired twice"
        assert all(e.data["late"] for e in events)
        messages = s.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.target.like("escalation.%"))
        ).all()
        assert len(messages) == len(set(messages)) == TICKETS * RUNGS_EACH
        fired = s.scalar(
            select(func.count()).select_from(Deadline).where(Deadline.fired_at.is_not(None))
        )
        assert fired == TICKETS * RUNGS_EACH
    missed_after = REGISTRY.get_sample_value(
        "hotline_sla_clock_stops_total",
        {"district": "lunan", "unit": "friendship-street", "category": "supplies",
         "urgency": "urgent", "clock": "resolution", "outcome": "missed"},
    )  # fmt: skip
    assert missed_after == missed_before + TICKETS, "each missed clock is counted once"
    setup.dispose()


def test_a_second_notifier_on_one_sqlite_ledger_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    first = single_on_sqlite(engine, "notifier")
    assert first is not None
    with pytest.raises(AlreadyRunning, match="another notifier already runs"):
        single_on_sqlite(engine, "notifier")
    first.release()
    again = single_on_sqlite(engine, "notifier")  # the first one stopped: the next may start
    assert again is not None
    again.release()
    assert single_on_sqlite(make_engine("postgresql://u@127.0.0.1/x"), "notifier") is None


def test_a_notifier_process_refuses_to_start_beside_a_running_one(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    running = single_on_sqlite(engine, "notifier")  # the notifier of `hotline up`, say
    assert running is not None
    env = _base_env() | {
        "HOTLINE_DATABASE_URL": f"sqlite:///{database}",
        "HOTLINE_KAFKA_URL": "127.0.0.1:9",
        "HOTLINE_AMQP_URL": f"sqla+sqlite:///{tmp_path / 'queues.sqlite'}",
    }
    try:
        second = subprocess.run(
            [HOTLINE, "notifier", "--host", "127.0.0.1", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        running.release()
    assert second.returncode == 1
    assert "another notifier already runs against this SQLite ledger" in second.stderr
    assert "use PostgreSQL" in second.stderr
