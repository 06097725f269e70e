"""Intake benchmark: how many requests a second ``POST /api/v1/requests`` takes, and how fast.

Each request is validated, written with its first event and its outbox row in
one ledger transaction, and answered; the intake's own relay then publishes
it. Concurrent clients post as fast as the answers come (closed loop), against
the intake alone on PostgreSQL (with Tansu for its relay) and against the
embedded default (``hotline up``, everything in one process). It prints
requests/s, latency p50/p99/max, and the CPU time the intake process spent
per request: on this 2-core machine the load generator shares the cores.

    .venv/bin/python -m bench.intake [--kinds production,embedded] [--clients 16,64] [--seconds 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.pipeline import _cpu_seconds, _percentile, closed_loop, run
from tests.harness import System, create_database, drop_database, start_embedded, start_production


def measure(name: str, system: System, clients: list[int], seconds: float) -> None:
    pid = next(iter(system.procs.values())).popen.pid  # type: ignore[union-attr]
    run(closed_loop(system, 4, 2))  # warm up connections and the ledger
    for count in clients:
        cpu0 = _cpu_seconds(pid)
        wall0 = time.monotonic()
        latencies = [a.latency_ms for a in run(closed_loop(system, count, seconds))]
        wall = time.monotonic() - wall0
        cpu = _cpu_seconds(pid) - cpu0
        done = len(latencies)
        print(
            f"{name}, {count} clients: {done / wall:.0f} requests/s, POST p50"
            f" {_percentile(latencies, 50):.0f} ms, p99 {_percentile(latencies, 99):.0f} ms,"
            f" max {max(latencies):.0f} ms; intake CPU {cpu / done * 1000:.1f} ms per request",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="production,embedded")
    parser.add_argument("--clients", default="16,64", help="concurrent clients, one run each")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
            if kind == "embedded":
                system = start_embedded(Path(tmp))
                try:
                    measure(
                        "embedded (hotline up: SQLite, all services)", system, clients, args.seconds
                    )
                finally:
                    system.stop()
                continue
            url = create_database()
            system = start_production(Path(tmp), url, names=("intake",))
            try:
                measure("intake alone on PostgreSQL", system, clients, args.seconds)
            finally:
                system.stop()
                if system.tansu is not None:
                    system.tansu.stop()
                drop_database(url)


if __name__ == "__main__":
    main()
