"""Nothing lost: brokers and services die mid-flow, and every request still reaches
exactly one unit, once as new."""

from __future__ import annotations

import collections
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from hotline.shared.messaging.amqp import DeliveredTask
from tests.e2e.test_pipeline import REQUEST, take, ticket
from tests.harness import System, start_embedded, start_production

#: Areas of the example district and the unit each one routes to.
AREAS = {
    "130202001": "friendship-street",
    "130202002": "xueyuan-street",
    "130202003": "wenhua-street",
}


class Caller(threading.Thread):
    """Keeps submitting requests, one every ``gap`` seconds, recording what was accepted."""

    def __init__(self, system: System, gap: float) -> None:
        super().__init__(daemon=True)
        self.system = system
        self.gap = gap
        self.accepted: dict[str, str] = {}  # ticket id -> expected unit
        self.refused: list[str] = []
        self.unanswered = 0  # sent, but the process died before answering: may exist
        self.halt = threading.Event()

    def run(self) -> None:
        areas = list(AREAS.items())
        n = 0
        with httpx.Client(timeout=10) as client:
            while not self.halt.is_set():
                code, unit = areas[n % len(areas)]
                n += 1
                body = REQUEST | {
                    "district": self.system.district,
                    "location": {"area_code": code},
                }
                try:
                    answer = client.post(
                        f"{self.system.api}/api/v1/requests", json=body, headers=self.system.headers
                    )
                except httpx.HTTPError:
                    self.unanswered += 1
                    continue
                if answer.status_code == 201:
                    self.accepted[answer.json()["id"]] = unit
                else:
                    self.refused.append(answer.text)
                time.sleep(self.gap)


def _collect(system: System, expected: dict[str, str], within: float) -> list[DeliveredTask]:
    """Read every unit's queue until each expected ticket has shown up (or time runs out).

    Waits for ids, not counts: a redelivered copy must not stand in for a task
    still on its way (one the router re-drives from the ledger, say).
    """
    got: list[DeliveredTask] = []
    units = sorted(set(AREAS.values()) | {"service-office"})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for unit in units:
            got += take(system, unit, 10_000, within=0.3)
        if set(expected) <= {t.payload["ticket_id"] for t in got}:
            break
    # anything more (a duplicate, or a task in the wrong queue) shows up here
    for unit in units:
        got += take(system, unit, 10_000, within=0.5)
    return got


def _assert_each_once(
    expected: dict[str, str], got: list[DeliveredTask], unanswered: int = 0
) -> None:
    seen: dict[str, list[DeliveredTask]] = collections.defaultdict(list)
    for task in got:
        seen[task.payload["ticket_id"]].append(task)
    missing = set(expected) - set(seen)
    assert not missing, f"{len(missing)} accepted requests never reached a unit"
    assert len(set(seen) - set(expected)) <= unanswered
    for ticket_id, copies in seen.items():
        units = {c.payload["unit_id"] for c in copies}
        assert len(units) == 1, f"{ticket_id} reached {units}"
        assert ticket_id not in expected or units == {expected[ticket_id]}
        new = [c for c in copies if not c.redelivered]
        assert len(new) <= 1, f"{ticket_id} reached its unit {len(new)} times as new"


@pytest.mark.timeout(240)
def test_broker_restart_and_router_crash_lose_nothing(tmp_path: Path, pg_database: str) -> None:
    system = start_production(tmp_path, pg_database, redrive_after="3s")
    assert system.tansu is not None
    caller = Caller(system, gap=0.02)
    try:
        caller.start()
        time.sleep(2)
        system.tansu.stop()  # Kafka down: Tansu forgets every stream it held
        time.sleep(3)
        system.procs["router"].stop(signal.SIGKILL)  # and the router crashes
        time.sleep(1)
        system.tansu.restart()
        system.procs["router"].start()
        time.sleep(3)
        caller.halt.set()
        caller.join()
        assert not caller.refused, caller.refused[:3]
        assert len(caller.accepted) > 100
        _assert_each_once(caller.accepted, _collect(system, caller.accepted, within=60))
    finally:
        caller.halt.set()
        system.stop()
        system.tansu.stop()


@pytest.mark.timeout(180)
def test_embedded_restart_loses_nothing(tmp_path: Path) -> None:
    system = start_embedded(tmp_path)
    caller = Caller(system, gap=0.05)
    try:
        caller.start()
        time.sleep(2)
        system.procs["up"].stop(signal.SIGKILL)  # the whole process, Tansu's memory with it
        time.sleep(0.5)
        caller.halt.set()
        caller.join()
        system.procs["up"].start()
        accepted = {k: v for k, v in caller.accepted.items()}
        assert len(accepted) > 10
        got = _collect(system, accepted, within=60)
        _assert_each_once(accepted, got, caller.unanswered)
        for ticket_id in list(accepted)[:3]:
            assert ticket(system, ticket_id)["state"] == "assigned"
    finally:
        caller.halt.set()
        system.stop()
