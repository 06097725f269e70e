"""Intake benchmark: how many requests a second ``POST /api/v1/requests`` takes, and how fast.

Each request is validated, written with its first event and its outbox row in
one ledger transaction, and answered; the intake's own relay then publishes
it. Concurrent clients post as fast as the answers come (closed loop), against
the intake alone on PostgreSQL (with Tansu for its relay), with one worker
process and with several (``hotline intake --workers N``), and against the
embedded default (``hotline up``, everything in one process).

The clients are wrk's (Debian's ``wrk`` package): on this 2-core machine the
load generator shares the cores with what it measures, and wrk spends a
tenth of the CPU per request that the cheapest Python client did. It prints
requests/s, latency p50/p99/max as wrk measured them, answers other than
201 (there must be none), and the CPU time the intake's processes spent per
request.

    .venv/bin/python -m bench.intake [--kinds production,embedded] [--workers 1,2]
        [--clients 16,32,64] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.pipeline import AREAS, _cpu_seconds
from tests.harness import System, create_database, drop_database, start_embedded, start_production

#: wrk's script: every request a different caller, the areas in turn; at the end,
#: one JSON line with what wrk counted (latencies in microseconds).
WRK_SCRIPT = """
local n = 0
local areas = {%(areas)s}
request = function()
  n = n + 1
  local body = string.format([[%(body)s]], n, n %% 10000, areas[n %% #areas + 1])
  return wrk.format("POST", "/api/v1/requests", {
    ["content-type"] = "application/json",
    ["authorization"] = [[%(authorization)s]],
  }, body)
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "not_201": %%d, "failed": %%d,'
    .. ' "p50": %%d, "p99": %%d, "max": %%d}\\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _script(system: System) -> str:
    body = json.dumps(
        {
            "district": system.district,
            "channel": "phone",
            "caller": {"name": "Caller %d", "phone": "+86 138 0000 %04d"},
            "location": {"area_code": "%s"},
            "category": "supplies.food",
            "description": "benchmark request",
            "urgency": "normal",
        }
    )
    return WRK_SCRIPT % {
        "areas": ", ".join(f'"{code}"' for code in AREAS),
        "body": body,
        "authorization": system.headers["authorization"],
    }


@dataclass(frozen=True)
class Load:
    """What wrk measured over one run."""

    requests: int
    seconds: float
    not_201: int
    failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def wrk(system: System, script: Path, clients: int, seconds: float) -> Load:
    """Run wrk's ``clients`` connections against the intake for ``seconds``."""
    done = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "-s", str(script), system.api],
        capture_output=True,
        text=True,
        check=True,
    )
    counted = json.loads(done.stdout.strip().splitlines()[-1])
    return Load(
        counted["requests"],
        counted["seconds"],
        counted["not_201"],
        counted["failed"],
        counted["p50"] / 1000,
        counted["p99"] / 1000,
        counted["max"] / 1000,
    )


def _intake_pids(system: System, workers: int) -> list[int]:
    """The processes that serve the API: the one process, or a supervisor's workers."""
    popen = next(iter(system.procs.values())).popen
    assert popen is not None
    if workers == 1:  # (``hotline up``'s one child is its Kafka broker)
        return [popen.pid]
    children = Path(f"/proc/{popen.pid}/task/{popen.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def measure(
    name: str, system: System, clients: list[int], seconds: float, tmp: Path, workers: int = 1
) -> None:
    script = tmp / "post.lua"
    script.write_text(_script(system))
    pids = _intake_pids(system, workers)
    wrk(system, script, 4, 2)  # warm up connections and the ledger
    for count in clients:
        cpu0 = sum(_cpu_seconds(pid) for pid in pids)
        load = wrk(system, script, count, seconds)
        cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu0
        refused = load.not_201 + load.failed
        print(
            f"{name}, {count} clients: {load.requests / load.seconds:.0f} requests/s,"
            f" POST p50 {load.p50_ms:.0f} ms, p99 {load.p99_ms:.0f} ms, max {load.max_ms:.0f} ms;"
            f" intake CPU {cpu / load.requests * 1000:.2f} ms per request"
            + (f"; {refused} NOT 201" if refused else ""),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="production,embedded")
    parser.add_argument("--workers", default="1,2", help="intake processes on PostgreSQL")
    parser.add_argument("--clients", default="16,32,64", help="concurrent clients, one run each")
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.intake: needs wrk, the HTTP load generator (apt-get install wrk)")
    clients = [int(c) for c in args.clients.split(",")]
    for kind in args.kinds.split(","):
        for workers in [int(w) for w in args.workers.split(",")] if kind != "embedded" else [1]:
            with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
                if kind == "embedded":
                    system = start_embedded(Path(tmp))
                    try:
                        name = "embedded (hotline up: SQLite, all services)"
                        measure(name, system, clients, args.seconds, Path(tmp))
                    finally:
                        system.stop()
                    continue
                url = create_database()
                system = start_production(Path(tmp), url, names=("intake",), intake_workers=workers)
                try:
                    name = f"intake alone on PostgreSQL, {workers} worker(s)"
                    measure(name, system, clients, args.seconds, Path(tmp), workers)
                finally:
                    system.stop()
                    if system.tansu is not None:
                        system.tansu.stop()
                    drop_database(url)


if __name__ == "__main__":
    main()
