"""``hotline intake --workers 2``: two processes behind one port, as real processes on
PostgreSQL, RabbitMQ and Tansu. A worker killed mid-flow is started again, nothing
accepted is lost, and /metrics on either worker counts for both."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_faults import Caller, _assert_each_once, _collect
from tests.harness import System, start_production, wait_for


def _workers(system: System) -> list[int]:
    """The supervisor's worker processes, by pid."""
    supervisor = system.procs["intake"].popen
    assert supervisor is not None
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text()
    return sorted(int(pid) for pid in children.split())


def _received(system: System) -> float:
    text = httpx.get(f"{system.api}/metrics", timeout=5).text
    counts = re.findall(r"^hotline_requests_received_total\{.*\} (\S+)$", text, re.M)
    return sum(float(v) for v in counts)


@pytest.mark.timeout(240)
def test_a_killed_worker_is_replaced_and_nothing_is_lost(tmp_path: Path, pg_database: str) -> None:
    system = start_production(tmp_path, pg_database, intake_workers=2)
    assert system.tansu is not None
    log = system.procs["intake"].log
    caller = Caller(system, gap=0.01)
    try:
        first = _workers(system)
        assert len(first) == 2
        wait_for(lambda: all(f"(worker {k}/2)" in log.read_text() for k in (1, 2)), "both ready")
        caller.start()
        time.sleep(2)
        victim, survivor = first
        os.kill(victim, signal.SIGKILL)  # a crash at any moment, calls in flight
        wait_for(lambda: len(_workers(system)) == 2 and victim not in _workers(system), "a new one")
        assert survivor in _workers(system)
        wait_for(lambda: "starting it again" in log.read_text(), "the supervisor's log line", 5)
        time.sleep(3)
        caller.halt.set()
        caller.join()
        assert not caller.refused, caller.refused[:3]
        assert len(caller.accepted) > 100
        _assert_each_once(
            caller.accepted,
            _collect(system, caller.accepted, within=60),
            unanswered=caller.unanswered,
        )
        # any worker's /metrics sums both, the dead one's counts included
        for _ in range(6):
            total = _received(system)
            assert len(caller.accepted) <= total <= len(caller.accepted) + caller.unanswered
        workers = _workers(system)
        assert system.procs["intake"].stop() == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        caller.halt.set()
        system.stop()
        system.tansu.stop()
