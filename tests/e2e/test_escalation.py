"""A task nobody signs for escalates at its deadline, once per step, through AMQP."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from kombu.entity import Queue

from hotline.shared.messaging.amqp import district_exchange, drain_queue
from tests.e2e.test_pipeline import submit, take, ticket
from tests.harness import Proc, System, free_port, start_production


def _fast_sla(text: str) -> str:
    """Critical tasks must be signed for within 2 s; the supervision step comes 1 s later.

    The reminder at 50% goes, so the signed task cannot escalate before the test signs.
    """
    edits = [
        ("critical: 10m", "critical: 2s"),
        ("      - {level: 1, name: remind-unit, at: 50%, tell: unit}\n", ""),
        (
            "{level: 3, name: supervision-group, after: 30m,",
            "{level: 3, name: supervision-group, after: 1s,",
        ),
    ]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _escalation_watch(system: System) -> Queue:
    """A queue of the test's own on every ``escalation.*`` message of the district."""
    return Queue(
        f"{system.district}.test-escalations",
        exchange=district_exchange(system.district),
        routing_key="escalation.*",
        durable=False,
        auto_delete=False,
    )


@pytest.mark.timeout(120)
def test_unsigned_task_escalates_and_a_signed_one_does_not(
    tmp_path: Path, pg_database: str
) -> None:
    system = start_production(tmp_path, pg_database, edit=_fast_sla)
    assert system.tansu is not None
    watch = _escalation_watch(system)
    try:
        drain_queue(system.amqp_url, watch, timeout=0.1)  # declares and binds the watcher
        ignored = submit(system, urgency="critical")
        signed = submit(system, urgency="critical", location={"area_code": "130202002"})
        assert len(take(system, "xueyuan-street", 1, within=10)) == 1
        httpx.post(
            f"{system.api}/api/v1/requests/{signed}/ack",
            json={"unit_id": "xueyuan-street"},
            headers=system.headers,
        ).raise_for_status()
        time.sleep(4.5)  # past both steps of the ignored task
        got = drain_queue(system.amqp_url, watch, timeout=1)
        steps = sorted((m.payload["ticket_id"], m.payload["level"]) for m in got)
        assert steps == [(ignored, 2), (ignored, 3)]
        first = next(m.payload for m in got if m.payload["level"] == 2)
        assert first["unit_id"] == "friendship-street"
        assert first["told"] == [{"role": "unit-leader", "unit_id": "friendship-street"}]
        assert first["late_seconds"] < 1.0, "the scheduler fires within a second of the due time"
        shown = ticket(system, ignored)
        assert shown["escalation_level"] == 3
        assert [e["type"] for e in shown["events"]].count("escalated") == 2
        assert ticket(system, signed)["escalation_level"] == 0
    finally:
        system.stop()
        system.tansu.stop()


@pytest.mark.timeout(180)
def test_a_step_due_while_the_notifier_is_down_fires_after_restart_marked_late(
    tmp_path: Path, pg_database: str
) -> None:
    system = start_production(tmp_path, pg_database, edit=_fast_sla)
    assert system.tansu is not None
    notifier = system.procs["notifier"]
    try:
        ticket_id = submit(system, urgency="critical")
        assert len(take(system, "friendship-street", 1, within=15)) == 1
        notifier.stop(signal.SIGKILL)  # a crash, with the deadline 2 s away
        time.sleep(5)  # the sign-for deadline (2 s) and the next step (3 s) pass while it is down
        assert ticket(system, ticket_id)["escalation_level"] == 0
        notifier.start()
        deadline = time.monotonic() + 30
        fired: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(fired) < 2:
            events = ticket(system, ticket_id)["events"]
            fired = [e["data"] for e in events if e["type"] == "escalated"]
            time.sleep(0.2)
        assert [f["level"] for f in fired] == [2, 3], fired  # both, in order
        assert all(f["late"] is True for f in fired), fired
        assert all(float(str(f["late_seconds"])) > 1.0 for f in fired), fired
    finally:
        system.stop()
        system.tansu.stop()


@pytest.mark.timeout(240)
def test_two_notifier_processes_on_one_postgresql_fire_each_step_once(
    tmp_path: Path, pg_database: str
) -> None:
    """Two real ``hotline notifier`` processes share the ledger's due steps: none twice."""
    system = start_production(tmp_path, pg_database, edit=_fast_sla)
    assert system.tansu is not None
    port = free_port()
    args = ["notifier", "--host", "127.0.0.1", "--port", str(port)]
    second = Proc("notifier-2", args, system.procs["notifier"].env, port, tmp_path / "n2.log")
    watch = _escalation_watch(system)
    try:
        second.start()
        drain_queue(system.amqp_url, watch, timeout=0.1)  # declares and binds the watcher
        ignored = [submit(system, urgency="critical") for _ in range(20)]
        time.sleep(6)  # past both steps of every task
        got = drain_queue(system.amqp_url, watch, timeout=1)
        steps = Counter((m.payload["ticket_id"], m.payload["level"]) for m in got)
        assert set(steps) == {(t, level) for t in ignored for level in (2, 3)}
        assert set(steps.values()) == {1}, "a step fired twice"
        for ticket_id in ignored:
            events = [e["type"] for e in ticket(system, ticket_id)["events"]]
            assert events.count("escalated") == 2
    finally:
        if second.popen is not None:
            second.stop()
        system.stop()
        system.tansu.stop()
