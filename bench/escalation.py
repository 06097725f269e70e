"""Escalation benchmark: how late the scheduler fires ladder steps with 100,000 tasks open.

Loads 100,000 open tasks (tickets assigned to the example district's units,
their sign-for clocks and one ladder step each) straight into a fresh ledger,
with the steps due evenly over ``--spread`` (an hour by default, as the issue
asks), and runs the notifier's real scheduler loop on it for ``--watch``
seconds. Every step that fires in that time is a full escalation: the ticket
locked, its clock checked, an ``escalated`` event, an AMQP outbox row and a
notification per contact, in one transaction. It prints how late the steps
fired (``fired_at - due_at``: p50, p99, max) and the scheduler's CPU per step
and share of one core, on PostgreSQL and on SQLite.

    .venv/bin/python -m bench.escalation [--tasks 100000] [--spread 3600] [--watch 120]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from hotline.notifier.worker import NotifierWorker
from hotline.shared.configuration.file import load_config
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from hotline.shared.ledger.schema import Deadline, SlaClock, Ticket
from tests.harness import create_database, drop_database

CONFIG = load_config(None)
#: Units that serve areas: the ones a street's requests go to.
UNITS = [u.id for u in CONFIG.units if u.areas]
#: Loading goes at several thousand tasks a second here: the first step falls due after
#: the load is done (this long after it began), so no step is late before the watch.
LOAD_RATE = 2000


def lead(tasks: int) -> timedelta:
    """How long after the load begins the first step falls due."""
    return timedelta(seconds=5 + tasks / LOAD_RATE)


def load(engine: Engine, tasks: int, spread: float, start: datetime, chunk: int = 5000) -> None:
    """Insert ``tasks`` assigned tickets, their sign-for clocks and one rung each, in bulk."""
    for first in range(0, tasks, chunk):
        tickets: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        for n in range(first, min(first + chunk, tasks)):
            ticket_id = str(uuid.uuid4())
            unit = UNITS[n % len(UNITS)]
            due = start + lead(tasks) + timedelta(seconds=spread * n / tasks)
            assigned = due - timedelta(minutes=30)
            tickets.append(
                {
                    "id": ticket_id,
                    "district": CONFIG.district,
                    "channel": "phone",
                    "caller_name": "Bench caller",
                    "caller_phone": "+86 100 0000 0000",
                    "area_code": None,
                    "lat": None,
                    "lon": None,
                    "address": None,
                    "category": "supplies.food",
                    "description": "bench",
                    "urgency": "urgent",
                    "state": "assigned",
                    "unit_id": unit,
                    "attempt": 1,
                    "escalation_level": 0,
                    "created_at": assigned,
                    "updated_at": assigned,
                }
            )
            clocks.append(
                {
                    "ticket_id": ticket_id,
                    "attempt": 1,
                    "unit_id": unit,
                    "clock": "sign-for",
                    "counting": "around-the-clock",
                    "started_at": assigned,
                    "limit_seconds": 1800.0,
                    "due_at": due,
                }
            )
            steps.append(
                {
                    "ticket_id": ticket_id,
                    "attempt": 1,
                    "unit_id": unit,
                    "clock": "sign-for",
                    "level": 2,
                    "name": "unit-leader",
                    "due_at": due,
                    "repeat": 0,
                    "tell": ["unit-leader"],
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Ticket), tickets)
            conn.execute(insert(SlaClock), clocks)
            conn.execute(insert(Deadline), steps)


async def run_scheduler(engine: Engine, seconds: float) -> float:
    """Run the notifier's scheduler for ``seconds``; return the CPU seconds it took."""
    worker = NotifierWorker(make_sessions(engine), lambda: CONFIG, lambda: None)
    stop = asyncio.Event()
    cpu0 = time.process_time()
    task = asyncio.create_task(worker.schedule(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return time.process_time() - cpu0


def lateness(engine: Engine) -> list[float]:
    """Seconds each fired step fired after its due time."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Deadline.due_at, Deadline.fired_at).where(Deadline.fired_at.is_not(None))
        ).all()
    return [(fired - due).total_seconds() for due, fired in rows]


def measure(name: str, engine: Engine, tasks: int, spread: float, watch: float) -> None:
    migrate(engine)
    t0 = time.monotonic()
    start = datetime.now(UTC)
    load(engine, tasks, spread, start)
    loaded = time.monotonic() - t0
    with engine.connect() as conn:
        open_steps = conn.scalar(select(func.count()).select_from(Deadline))
    # the first steps are due lead() after ``start``; watch from then
    idle = (start + lead(tasks) - datetime.now(UTC)).total_seconds()
    if idle < 1:
        print(
            f"{name}: loading took {loaded:.0f}s, longer than planned; steps were late", flush=True
        )
    cpu = asyncio.run(run_scheduler(engine, max(idle, 0) + watch))
    late = sorted(lateness(engine))
    if not late:
        print(f"{name}: nothing fired in {watch:.0f}s (loading took {loaded:.0f}s)", flush=True)
        return
    cuts = statistics.quantiles(late, n=100)
    print(
        f"{name}: {open_steps} open tasks loaded in {loaded:.0f}s; {len(late)} steps fired in"
        f" {watch:.0f}s ({len(late) / watch:.1f}/s); lateness p50 {cuts[49] * 1000:.0f} ms,"
        f" p99 {cuts[98] * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms; scheduler CPU"
        f" {cpu / len(late) * 1000:.1f} ms per step, {cpu / (max(idle, 0) + watch):.0%} of a core",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="postgresql,sqlite")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--spread", type=float, default=3600, help="seconds the steps fall over")
    parser.add_argument("--watch", type=float, default=120, help="seconds to run the scheduler")
    args = parser.parse_args()
    for kind in args.kinds.split(","):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
                engine = make_engine(f"sqlite:///{Path(tmp) / 'ledger.sqlite'}")
                try:
                    measure("SQLite", engine, args.tasks, args.spread, args.watch)
                finally:
                    engine.dispose()
            continue
        url = create_database()
        engine = make_engine(url)
        try:
            measure("PostgreSQL", engine, args.tasks, args.spread, args.watch)
        finally:
            engine.dispose()
            drop_database(url)


if __name__ == "__main__":
    main()
