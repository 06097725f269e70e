"""A request travels the whole way through real processes and real brokers."""

from __future__ import annotations

import time
from typing import Any

import httpx

from hotline.shared.messaging.amqp import DeliveredTask, UnitQueueConsumer
from tests.harness import System

REQUEST: dict[str, Any] = {
    "channel": "phone",
    "caller": {"name": "Xiao Lu", "phone": "+86 138 0000 0000"},
    "location": {"area_code": "130202001001", "address": "Seven Days Hotel"},
    "category": "supplies.food",
    "description": "Stranded, cannot pay for room or meals",
    "urgency": "urgent",
}


def submit(system: System, **overrides: Any) -> str:
    body = REQUEST | {"district": system.district} | overrides
    answer = httpx.post(
        f"{system.api}/api/v1/requests", json=body, headers=system.headers, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def take(system: System, unit: str, count: int, within: float) -> list[DeliveredTask]:
    """Read up to ``count`` tasks from a unit's queue, waiting at most ``within`` seconds."""
    consumer = UnitQueueConsumer(system.amqp_url, system.district, unit)
    got: list[DeliveredTask] = []
    deadline = time.monotonic() + within
    try:
        while len(got) < count and time.monotonic() < deadline:
            got.extend(consumer.iterate(timeout=min(0.2, max(deadline - time.monotonic(), 0.01))))
    finally:
        consumer.close()
    return got


def ticket(system: System, ticket_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{system.api}/api/v1/requests/{ticket_id}", headers=system.headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_request_reaches_the_right_unit_then_is_signed_for_and_resolved(system: System) -> None:
    # How fast it gets there is bench/pipeline.py's to measure, not a test's.
    ticket_id = submit(system)
    tasks = take(system, "friendship-street", 1, within=10)
    assert [t.payload["ticket_id"] for t in tasks] == [ticket_id]
    assert not tasks[0].redelivered

    for action, body in [
        ("ack", {"unit_id": "friendship-street"}),
        ("resolve", {"unit_id": "friendship-street", "result": "housed and fed"}),
    ]:
        answer = httpx.post(
            f"{system.api}/api/v1/requests/{ticket_id}/{action}", json=body, headers=system.headers
        )
        assert answer.status_code == 200, answer.text
    shown = ticket(system, ticket_id)
    assert shown["state"] == "resolved"
    assert shown["assignment"]["rule"] == "Friendship Street"
    assert [e["type"] for e in shown["events"]] == [
        "received",
        "assigned",
        "signed-for",
        "resolved",
    ]


def test_returned_task_goes_to_another_unit_never_back(system: System) -> None:
    ticket_id = submit(system)
    assert len(take(system, "friendship-street", 1, within=10)) == 1
    answer = httpx.post(
        f"{system.api}/api/v1/requests/{ticket_id}/return",
        json={"unit_id": "friendship-street", "reason": "the hotel is in Xueyuan Street"},
        headers=system.headers,
    )
    assert answer.status_code == 200, answer.text
    again = take(system, "service-office", 1, within=10)
    assert [(t.payload["ticket_id"], t.payload["attempt"]) for t in again] == [(ticket_id, 2)]
    assert take(system, "friendship-street", 1, within=1) == []


def sample(name: str, **labels: str) -> str:
    """A metric sample line as prometheus-client writes it (labels sorted by name)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def scrape(system: System) -> str:
    return "\n".join(httpx.get(f"{p.base}/metrics").text for p in system.procs.values())


def test_bad_input_gets_the_field_and_reason_and_writes_nothing(system: System) -> None:
    body = REQUEST | {"district": system.district, "category": "pets.lost"}
    answer = httpx.post(f"{system.api}/api/v1/requests", json=body, headers=system.headers)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "category"]
    bad_phone = REQUEST | {"district": system.district, "caller": {"name": "x", "phone": "call me"}}
    answer = httpx.post(f"{system.api}/api/v1/requests", json=bad_phone, headers=system.headers)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "caller", "phone"]
    assert take(system, "friendship-street", 1, within=1) == []
    assert "hotline_requests_received_total{" not in scrape(system)


def test_metrics_and_health_on_every_service(system: System) -> None:
    ticket_id = submit(system)
    assert len(take(system, "friendship-street", 1, within=10)) == 1
    httpx.post(
        f"{system.api}/api/v1/requests/{ticket_id}/ack",
        json={"unit_id": "friendship-street"},
        headers=system.headers,
    ).raise_for_status()
    for proc in system.procs.values():
        health = httpx.get(f"{proc.base}/healthz").json()
        assert health["status"] == "ok", health
    d = system.district
    task = {"category": "supplies", "district": d, "unit": "friendship-street"}
    routed = task | {"urgency": "urgent"}
    received = {"category": "supplies", "channel": "phone", "district": d, "urgency": "urgent"}
    expected = [
        sample("hotline_requests_received_total", **received),
        sample("hotline_tasks_assigned_total", **routed),
        sample("hotline_tasks_signed_for_total", **task),
        sample("hotline_time_to_assignment_seconds_count", **routed),
    ]
    every = scrape(system)
    for line in expected:
        assert f"{line} 1.0" in every, line
    # the notifier measures sign-for from the events stream, and judges its clock
    measured = [
        sample("hotline_time_to_sign_for_seconds_count", **routed) + " 1.0",
        sample("hotline_sla_clock_stops_total", **routed, clock="sign-for", outcome="met") + " 1.0",
        sample("hotline_tasks_open", district=d, state="signed-for", unit="friendship-street")
        + " 1.0",
    ]
    deadline = time.monotonic() + 10
    while any(m not in every for m in measured) and time.monotonic() < deadline:
        time.sleep(0.2)
        every = scrape(system)
    for line in measured:
        assert line in every, line
    for relay in ("intake", "router", "notifier"):
        assert sample("hotline_outbox_pending_messages", district=d, relay=relay) in every
