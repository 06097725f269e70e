"""Running a process's parts in one event loop, and stopping them cleanly.

A service is a web app (health, metrics, maybe an API), zero or more stream
apps, and background loops (relays, schedulers). ``hotline up`` runs all three
services' parts in one process; ``hotline <service>`` runs one service's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn
import uvloop
from fastapi import FastAPI

from hotline.shared.runtime.web import Check, make_web_app

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

#: The collector's thresholds while serving. Each call leaves thousands of short-lived
#: objects (ORM rows, pydantic models, JSON); at Python's default (700, 10, 10) the
#: collector's scans stalled every request in flight: bench/intake's p99 at 16 clients
#: went from 160 ms to 56 ms with these (and start-up's objects frozen).
GC_THRESHOLDS = (50_000, 50, 100)

#: How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).
#: Every ledger call runs in a worker thread and every broker call on the event loop, and a
#: message passes between them several times on its way: at 5 ms a turn, the waits added
#: up to most of bench/pipeline's latency at 200 requests/s (p50 370 ms; 190 ms with this).
SWITCH_INTERVAL = 0.0005


class Stream(Protocol):
    """A stream app that starts in the background (retrying while Kafka is down) and stops."""

    @property
    def ready(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Service:
    """One service's parts, assembled by its composition root."""

    name: str
    routes: Callable[[FastAPI], None] | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    critical: set[str] = field(default_factory=set)
    streams: list[Stream] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the host owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def build_app(title: str, services: Sequence[Service]) -> FastAPI:
    """One web app carrying every service's routes and health checks."""
    checks: dict[str, Check] = {}
    critical: set[str] = set()
    for service in services:
        checks.update(service.checks)
        critical |= service.critical
    app = make_web_app(title, checks, critical=critical)
    for service in services:
        if service.routes is not None:
            service.routes(app)
    return app


async def run(
    services: Sequence[Service],
    *,
    listener: socket.socket,
    title: str,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (or ``stop``), then stop every part in reverse order."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = build_app(title, services)
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off", http="httptools"))
    web = asyncio.create_task(server.serve(sockets=[listener]), name="web")
    streams = [s for service in services for s in service.streams]
    for stream in streams:
        await stream.start()
    tasks = [
        asyncio.create_task(part(stop), name=f"{service.name}:{getattr(part, '__name__', 'loop')}")
        for service in services
        for part in service.loops
    ]
    while not server.started and not web.done():
        await asyncio.sleep(0.02)
    if web.done():
        stop.set()
    elif on_ready is not None:
        on_ready()
    watch = asyncio.create_task(stop.wait())
    await asyncio.wait([watch, web, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
    log.info("stopping")
    server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    for stream in reversed(streams):
        await stream.stop()
    with contextlib.suppress(Exception):
        await web
    for service in reversed(services):
        for close in service.closers:
            close()
    if web.done() and not server.started:
        raise RuntimeError(f"could not serve HTTP on {listener.getsockname()}")


def serve(
    services: Sequence[Service],
    *,
    listener: socket.socket,
    title: str,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run ``services`` (see ``run``) on uvloop until they stop.

    uvloop and httptools do in C what asyncio and h11 do in Python: the event
    loop and the HTTP parsing were most of what a call cost outside our own code.
    """
    gc.freeze()  # what start-up built lives as long as the process: never scan it again
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run(services, listener=listener, title=title, on_ready=on_ready))
