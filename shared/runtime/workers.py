"""Several processes of one service behind one port: a supervisor and its workers.

A Python process does its work on one core. The intake, which parses, checks
and writes every call, is the first to fill it, so ``hotline intake
--workers N`` runs N copies of it. The supervisor holds the port (bound, never
listening), migrates the ledger once, and starts each worker as a fresh
process that binds the same port with ``SO_REUSEPORT``: the kernel spreads
new connections evenly over the workers. (A socket shared by all of them gave
each connection to whichever worker woke first, often all of them to one.)
Each worker is a whole intake (its own group commit, its own relay); relays
claim outbox rows with ``SKIP LOCKED``, so they share the outbox the way
replicas on different hosts do.

Counters and histograms are kept in files under ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multiprocess mode), so ``/metrics`` on any worker counts
for all of them. A worker that dies is started again; one that dies within
``QUICK_DEATH`` of its start three times running means something is wrong
that a restart will not mend, and the supervisor stops with an error.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

from prometheus_client import multiprocess

log = logging.getLogger(__name__)

#: A worker that exits sooner than this after its start counts as a failed start.
QUICK_DEATH = 10.0
#: Failed starts in a row after which the supervisor gives up.
MAX_QUICK_DEATHS = 3
#: How long workers get to finish their calls and drain their relays on SIGTERM.
STOP_GRACE = 30.0


@dataclass
class _Worker:
    index: int
    popen: subprocess.Popen[bytes]
    started: float


class Supervisor:
    """Starts ``count`` workers, restarts the ones that die, stops them all.

    ``holder`` is the supervisor's own socket on the port (bound with
    ``shared``): while it is open no other program can take the port between
    a worker's death and its restart.
    """

    def __init__(self, argv: Sequence[str], holder: socket.socket, count: int) -> None:
        self._argv = list(argv)
        self._holder = holder
        self._count = count
        self._stopping = False
        self._quick_deaths = 0
        self._workers: list[_Worker] = []
        self._metrics_dir = tempfile.TemporaryDirectory(prefix="hotline-metrics-")

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; return 0, or 1 when workers kept failing to start."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._workers = [self._spawn(index) for index in range(1, self._count + 1)]
            code = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._metrics_dir.cleanup()
        return code

    def _spawn(self, index: int) -> _Worker:
        argv = [*self._argv, "--worker", f"{index}/{self._count}"]
        env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": self._metrics_dir.name}
        popen = subprocess.Popen(argv, env=env)
        return _Worker(index, popen, time.monotonic())

    def _watch(self) -> int:
        while not self._stopping:
            for slot, worker in enumerate(self._workers):
                code = worker.popen.poll()
                if code is None or self._stopping:
                    continue
                multiprocess.mark_process_dead(worker.popen.pid, self._metrics_dir.name)  # type: ignore[no-untyped-call]
                lived = time.monotonic() - worker.started
                self._quick_deaths = self._quick_deaths + 1 if lived < QUICK_DEATH else 0
                if self._quick_deaths >= MAX_QUICK_DEATHS:
                    log.error("workers: worker %d exited with %d; giving up", worker.index, code)
                    return 1
                log.error(
                    "workers: worker %d exited with %d after %.0f s; starting it again",
                    worker.index,
                    code,
                    lived,
                )
                self._workers[slot] = self._spawn(worker.index)
            time.sleep(0.2)
        return 0

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        """SIGTERM every worker, wait for each (SIGKILL after the grace period)."""
        for worker in self._workers:
            if worker.popen.poll() is None:
                worker.popen.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for worker in self._workers:
            try:
                worker.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.error("workers: worker %d did not stop in time; killing it", worker.index)
                worker.popen.kill()
                worker.popen.wait()


def worker_argv(service: str, host: str, port: int) -> list[str]:
    """The command line that starts one worker of ``service`` (the supervisor adds its number)."""
    return [sys.executable, "-m", "hotline", service, "--host", host, "--port", str(port)]
