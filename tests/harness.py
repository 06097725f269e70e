"""Running the real system as real processes, on the embedded default and on
RabbitMQ + PostgreSQL + Tansu, with a district of its own: for the end-to-end
tests and the benchmarks alike."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from hotline.shared.configuration.file import EXAMPLE, load_config
from hotline.shared.domain.access import hash_token, new_token
from hotline.shared.messaging.streams.tansu import TansuBroker

PG_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("HOTLINE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
HOTLINE = str(Path(sys.executable).with_name("hotline"))


def wait_for(ok: Callable[[], object], what: str, within: float = 30) -> None:
    """Wait until ``ok()`` is true; fail the test, naming ``what``, when ``within`` s pass."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports nobody listens on right now."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    return free_ports(1)[0]


def district_file(
    tmp_path: Path,
    edit: Callable[[str], str] = lambda t: t,
    example: Path = EXAMPLE,
    district: str | None = None,
) -> tuple[str, Path]:
    """An example district under a fresh id, so RabbitMQ names never collide between tests."""
    district = district or f"t{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{district}.yaml"
    text = example.read_text(encoding="utf-8")
    path.write_text(edit(text.replace(load_config(example).district, district)))
    return district, path


@dataclass
class Proc:
    """A hotline process, its log, and how to reach its HTTP side."""

    name: str
    args: list[str]
    env: dict[str, str]
    port: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_within: float = 60) -> None:
        """Launch the process and wait until it is healthy."""
        self.launch()
        self.wait_healthy(ready_within)

    def launch(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [HOTLINE, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_healthy(self, ready_within: float = 60) -> None:
        """Wait until /healthz says "ok"; raise with the log's tail if it dies or takes too long."""
        assert self.popen is not None
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                # "ok", not merely 200: a "degraded" process still waits for Kafka
                if httpx.get(f"{self.base}/healthz", timeout=1).json()["status"] == "ok":
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy in {ready_within}s: {self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the process; SIGKILL models a crash at any moment."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise


@dataclass
class System:
    """A running district: its API, its AMQP URL, an admin token and its processes."""

    district: str
    amqp_url: str
    api: str
    procs: dict[str, Proc] = field(default_factory=dict)
    tansu: TansuBroker | None = None
    admin_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        """What an admin's request carries."""
        return {"authorization": f"Bearer {self.admin_token}"}

    def token(self, role: str, name: str = "test") -> str:
        """A new token for ``role``, made by the real ``hotline token create``."""
        env = self.procs[next(iter(self.procs))].env
        args = [HOTLINE, "token", "create", "--role", role, "--name", name]
        if "up" in self.procs:
            args += ["--data-dir", self.procs["up"].args[-1]]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.popen is not None and proc.popen.poll() is None:
                proc.stop()


def create_database() -> str:
    """A fresh PostgreSQL database; returns its URL."""
    name = f"hotline_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    """Drop a database made by create_database."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_production(
    tmp_path: Path,
    database_url: str,
    edit: Callable[[str], str] = lambda t: t,
    redrive_after: str = "3s",
    names: tuple[str, ...] = ("intake", "router", "notifier"),
    intake_workers: int = 1,
) -> System:
    """intake, router and notifier (or those ``names`` says) as processes on RabbitMQ,
    PostgreSQL and Tansu; the intake with ``intake_workers`` worker processes."""
    district, config = district_file(tmp_path, edit)
    tansu = TansuBroker(log_path=tmp_path / "tansu.log")
    tansu.start()
    admin = new_token()
    env = _base_env() | {
        "HOTLINE_TOKENS": f"e2e-admin:admin:{hash_token(admin)}",
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_KAFKA_URL": f"kafka://{tansu.bootstrap}",
        "HOTLINE_AMQP_URL": AMQP_URL,
        "HOTLINE_CONFIG": str(config),
        "HOTLINE_REDRIVE_AFTER": redrive_after,
    }
    workers = ["--workers", str(intake_workers)] if intake_workers > 1 else []
    procs = {
        name: Proc(
            name,
            [name, "--host", "127.0.0.1", "--port", str(port)]
            + (workers if name == "intake" else []),
            env,
            port,
            tmp_path / f"{name}.log",
        )
        for name, port in zip(names, free_ports(len(names)), strict=True)
    }
    system = System(district, AMQP_URL, procs["intake"].base, procs, tansu, admin)
    try:
        for proc in procs.values():
            proc.launch()  # all at once: each spends seconds joining its Kafka group
        for proc in procs.values():
            proc.wait_healthy()
    except Exception:
        system.stop()
        tansu.stop()
        raise
    return system


def start_embedded(
    tmp_path: Path,
    edit: Callable[[str], str] = lambda t: t,
    *,
    example: Path = EXAMPLE,
    district: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> System:
    """``hotline up`` as one process, its data under ``tmp_path``, its web on ``port`` (any);
    ``env`` adds settings (``HOTLINE_WEBHOOK_SECRET``...)."""
    district, config = district_file(tmp_path, edit, example, district)
    port = port or free_port()
    data = tmp_path / "var"
    proc = Proc(
        "up",
        ["up", "--config", str(config), "--port", str(port), "--data-dir", str(data)],
        _base_env() | (env or {}),
        port,
        tmp_path / "up.log",
    )
    proc.start()
    amqp_url = f"sqla+sqlite:///{(data / 'queues.sqlite').resolve()}"
    admin = (data / "admin.token").read_text().strip()  # the one `hotline up` made
    return System(district, amqp_url, proc.base, {"up": proc}, admin_token=admin)
