"""End-to-end pipeline benchmark: POST a request, time until the task is in the unit's queue.

Runs the real system as real processes: the embedded default (``hotline up``),
and intake, router and notifier on RabbitMQ + PostgreSQL + Tansu. For each it
prints the latency p50/p99 at a fixed offered rate, and the sustained rate
with many concurrent clients.

    .venv/bin/python -m bench.pipeline [--kinds embedded,production] [--rates 20,200] [--seconds 20]

It also prints the CPU time each process spent per request (read from
/proc), which says where the time goes when the machine is the limit: the
load generator, the services and the brokers all share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import uvloop

from hotline.shared.messaging.amqp import UnitQueueConsumer
from tests.harness import System, create_database, drop_database, start_embedded, start_production

T = TypeVar("T")

AREAS = {
    "130202001": "friendship-street",
    "130202002": "xueyuan-street",
    "130202003": "wenhua-street",
}


class Receipts:
    """Consumes the units' queues in threads and notes when each ticket's task arrived."""

    def __init__(self, system: System) -> None:
        self.arrived: dict[str, float] = {}
        self._halt = threading.Event()
        self._threads = [
            threading.Thread(target=self._consume, args=(system, unit), daemon=True)
            for unit in AREAS.values()
        ]
        for thread in self._threads:
            thread.start()

    def _consume(self, system: System, unit: str) -> None:
        consumer = UnitQueueConsumer(system.amqp_url, system.district, unit, prefetch=500)
        try:
            while not self._halt.is_set():
                for task in consumer.iterate(timeout=0.2):
                    self.arrived.setdefault(task.payload["ticket_id"], time.monotonic())
        finally:
            consumer.close()

    def wait_for(self, ids: set[str], within: float) -> None:
        deadline = time.monotonic() + within
        while not ids <= self.arrived.keys() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        self._halt.set()
        for thread in self._threads:
            thread.join()


def _body(system: System, n: int) -> dict[str, object]:
    code = list(AREAS)[n % len(AREAS)]
    return {
        "district": system.district,
        "channel": "phone",
        "caller": {"name": f"Caller {n}", "phone": "+86 138 0000 0000"},
        "location": {"area_code": code},
        "category": "supplies.food",
        "description": "benchmark request",
        "urgency": "normal",
    }


class Poster:
    """Posts requests over keep-alive connections, as cheaply as Python allows.

    The load generator shares the machine's two cores with what it measures:
    aiohttp on uvloop spends a fraction of the CPU per request that httpx did,
    which leaves that much more to the system under test.
    """

    def __init__(self, system: System, connections: int) -> None:
        self._system = system
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self.refused = 0

    async def __aenter__(self) -> Poster:
        self._session = aiohttp.ClientSession(
            base_url=self._system.api,
            headers=self._system.headers | {"content-type": "application/json"},
            connector=aiohttp.TCPConnector(limit=self._connections),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, n: int) -> str | None:
        """Post request ``n``; the ticket id, or None when it was refused or timed out."""
        assert self._session is not None
        try:
            async with self._session.post(
                "/api/v1/requests", data=json.dumps(_body(self._system, n))
            ) as answer:
                if answer.status == 201:
                    return str((await answer.json())["id"])
                await answer.read()
        except (aiohttp.ClientError, TimeoutError):  # overloaded past the client's patience
            pass
        self.refused += 1
        return None


async def offered_rate(system: System, rate: float, seconds: float) -> dict[str, float]:
    """Open loop: one request every 1/rate s; returns the start time of each accepted ticket."""
    started: dict[str, float] = {}
    async with Poster(system, connections=200) as poster:

        async def one(n: int) -> None:
            t0 = time.monotonic()
            ticket = await poster.post(n)
            if ticket is not None:
                started[ticket] = t0

        begin = time.monotonic()
        tasks = []
        for n in range(int(rate * seconds)):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    if poster.refused:
        print(f"  {poster.refused} requests refused or timed out", flush=True)
    return started


@dataclass(frozen=True)
class Accepted:
    """A request the intake took: its ticket, when it was posted, how long the answer took."""

    ticket_id: str
    posted_at: float
    latency_ms: float


async def closed_loop(system: System, clients: int, seconds: float) -> list[Accepted]:
    """``clients`` callers, each posting as soon as the last answer came, for ``seconds``."""
    accepted: list[Accepted] = []
    stop_at = time.monotonic() + seconds
    async with Poster(system, connections=clients) as poster:

        async def caller(k: int) -> None:
            n = k
            while time.monotonic() < stop_at:
                t0 = time.monotonic()
                n += clients
                ticket = await poster.post(n)
                if ticket is not None:
                    took = (time.monotonic() - t0) * 1000
                    accepted.append(Accepted(ticket, t0, took))

        await asyncio.gather(*(caller(k) for k in range(clients)))
    if poster.refused:
        print(f"  {poster.refused} requests refused, dropped or timed out", flush=True)
    return accepted


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one load on uvloop (cheaper per request than asyncio's loop)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def _percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes(system: System) -> dict[str, int]:
    pids = {name: proc.popen.pid for name, proc in system.procs.items() if proc.popen}
    pids["load generator (this)"] = os.getpid()
    return pids


def _print_cpu(before: dict[str, float], pids: dict[str, int], requests: int) -> None:
    spent = {name: _cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    print(
        "    CPU per request: "
        + ", ".join(f"{name} {sec / requests * 1000:.1f} ms" for name, sec in spent.items())
        + f" (machine: {os.cpu_count()} cores)"
    )


def measure(name: str, system: System, rates: list[float], seconds: float, clients: int) -> None:
    receipts = Receipts(system)
    pids = _processes(system)
    try:
        run(offered_rate(system, 20, 2))  # warm up connections, topics and consumers
        time.sleep(2)
        for rate in rates:
            started = run(offered_rate(system, rate, seconds))
            receipts.wait_for(set(started), within=300)
            hops = [
                (receipts.arrived[t] - s) * 1000
                for t, s in started.items()
                if t in receipts.arrived
            ]
            lost = len(started) - len(hops)
            p50, p99 = _percentile(hops, 50), _percentile(hops, 99)
            print(
                f"{name}: offered {rate:.0f} req/s for {seconds:.0f}s: {len(hops)} tasks "
                f"delivered, POST-to-queue p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
                f"max {max(hops):.0f} ms" + (f", {lost} NOT DELIVERED" if lost else ""),
                flush=True,
            )
        before = {n: _cpu_seconds(pid) for n, pid in pids.items()}
        started = {a.ticket_id: a.posted_at for a in run(closed_loop(system, clients, seconds))}
        receipts.wait_for(set(started), within=300)
        delivered = [receipts.arrived[t] for t in started if t in receipts.arrived]
        span = max(delivered) - min(started.values())
        print(
            f"{name}: {clients} concurrent clients for {seconds:.0f}s: {len(started)} accepted "
            f"({len(started) / seconds:.0f} req/s), {len(delivered)} delivered, "
            f"sustained end to end {len(delivered) / span:.0f} req/s",
            flush=True,
        )
        _print_cpu(before, pids, len(started))
    finally:
        receipts.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="embedded,production")
    parser.add_argument("--rates", default="20,200", help="offered requests/s, one run each")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients, closed loop")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
            if kind == "embedded":
                system = start_embedded(Path(tmp))
                try:
                    measure(
                        "embedded (SQLite, kombu/SQLite, Tansu)",
                        system,
                        rates,
                        args.seconds,
                        args.clients,
                    )
                finally:
                    system.stop()
            else:
                url = create_database()
                system = start_production(Path(tmp), url, redrive_after="30s")
                try:
                    measure(
                        "production (PostgreSQL, RabbitMQ, Tansu)",
                        system,
                        rates,
                        args.seconds,
                        args.clients,
                    )
                finally:
                    system.stop()
                    if system.tansu is not None:
                        system.tansu.stop()
                    drop_database(url)


if __name__ == "__main__":
    main()
