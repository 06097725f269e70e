"""``hotline unit listen --interactive``, driven through the real process's stdin and stdout:
a task shows up as it arrives, and the operator signs for, reports on and resolves it."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_pipeline import submit, ticket
from tests.harness import HOTLINE, System, start_embedded


class Operator:
    """Types commands into the console and reads what it prints."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        out = self.proc.stdout
        threading.Thread(target=lambda: [self.lines.put(x) for x in out], daemon=True).start()

    def expect(self, text: str, within: float = 15) -> str:
        deadline = time.monotonic() + within
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; got {seen}")

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[System]:
    system = start_embedded(tmp_path)
    yield system
    system.stop()


def test_operator_acts_on_tasks_as_they_arrive(running: System) -> None:
    config = running.procs["up"].args[2]
    unit = running.token("unit:friendship-street", "Friendship Street desk")
    base = [HOTLINE, "unit", "listen", "--unit", "friendship-street", "--interactive"]
    base += ["--config", config, "--amqp-url", running.amqp_url, "--api", running.api]

    stranger = Operator([*base, "--token", running.token("unit:xueyuan-street")])
    assert stranger.proc.wait(timeout=30) == 1  # another unit's token is refused at start

    operator = Operator([*base, "--token", unit])
    try:
        operator.expect("listening to")
        ticket_id = submit(running)
        operator.expect(f"[1] task {ticket_id}")
        operator.type("resolve 1 done already")
        assert "(now assigned)" in operator.expect("refused: 409")
        operator.type("sign 1")
        operator.expect("ok: [1] signed-for")
        operator.type("progress 1 an officer is on the way")
        operator.expect("ok: [1] signed-for")
        operator.type("resolve 1 Housed and fed")
        operator.expect("ok: [1] resolved")
        operator.type("quit")
        assert operator.proc.wait(timeout=30) == 0
    finally:
        if operator.proc.poll() is None:
            operator.proc.kill()
    shown = ticket(running, ticket_id)
    notes = [e["data"].get("note") for e in shown["events"] if e["type"] == "progress-reported"]
    assert notes == ["an officer is on the way"]
    assert shown["assignment"]["result"] == "Housed and fed"
