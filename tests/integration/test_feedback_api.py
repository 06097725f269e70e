"""The feedback group's routes over HTTP on a real ledger: satisfaction recorded once per
result, only on a resolved ticket; a dissatisfied result reopens the ticket and the router
routes it again with fresh clocks; a clear 4xx for every bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select

from hotline.router.decisions import RouteCommand, route, stale
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Event, SlaClock
from tests.integration.test_ledger_flow import ROUTER, _request
from tests.integration.test_sla_api import BASE, UNIT, _client, _field_errors, _post


def _resolved(client: Any, engine: Engine) -> str:
    ticket_id: str = _post(client, "", _request().model_dump(mode="json"), 201)["id"]
    _routed(engine, ticket_id, 0)
    _post(client, f"/{ticket_id}/ack", {"unit_id": UNIT}, 200)
    _post(client, f"/{ticket_id}/resolve", {"unit_id": UNIT, "result": "fed and housed"}, 200)
    return ticket_id


def _routed(engine: Engine, ticket_id: str, attempt: int) -> None:
    with make_sessions(engine).begin() as s:
        assert route(s, ROUTER, RouteCommand(ticket_id, attempt), datetime.now(UTC)) is not None


def _feedback_count(result: str) -> float:
    labels = {"district": "lunan", "result": result}
    return REGISTRY.get_sample_value("hotline_feedback_total", labels) or 0.0


def test_feedback_only_on_a_resolved_ticket_and_once(ledger: Engine) -> None:
    client = _client(ledger)
    open_id = _post(client, "", _request().model_dump(mode="json"), 201)["id"]
    refused = _post(client, f"/{open_id}/feedback", {"result": "satisfied"}, 409)
    assert refused["state"] == "received" and "only a resolved ticket" in refused["detail"]
    _post(client, "/nope/feedback", {"result": "satisfied"}, 404)

    ticket_id = _resolved(client, ledger)
    bad = _post(client, f"/{ticket_id}/feedback", {"result": "happy"}, 422)
    assert _field_errors(bad) == [("body", "result")]
    contradictory = {"result": "satisfied", "reopen": True}
    bad = _post(client, f"/{ticket_id}/feedback", contradictory, 422)
    assert _field_errors(bad) == [("body", "reopen")]
    with make_sessions(ledger)() as s:
        assert not s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "feedback-recorded")
        )

    before = _feedback_count("basically-satisfied")
    body = {"result": "basically-satisfied", "comment": "slow, but fine", "by": "Operator Zhao"}
    recorded = _post(client, f"/{ticket_id}/feedback", body, 201)
    assert (recorded["result"], recorded["reopened"], recorded["attempt"]) == (
        "basically-satisfied", False, 1,
    )  # fmt: skip
    assert _feedback_count("basically-satisfied") == before + 1
    again = _post(client, f"/{ticket_id}/feedback", {"result": "dissatisfied"}, 409)
    assert "already recorded" in again["detail"]

    shown = client.get(f"{BASE}/{ticket_id}/feedback").json()
    assert [(f["result"], f["comment"], f["by"]) for f in shown] == [
        ("basically-satisfied", "slow, but fine", "Operator Zhao")
    ]
    ticket = client.get(f"{BASE}/{ticket_id}").json()
    assert ticket["state"] == "resolved"
    assert [e["type"] for e in ticket["events"]][-1] == "feedback-recorded"
    told = client.get(f"{BASE}/{ticket_id}/notifications").json()
    assert [(n["kind"], n["channel"], n["address"]) for n in told] == [
        ("resolved", "sms", "+86 138 0000 0000")
    ]
    assert client.get(f"{BASE}/nope/notifications").status_code == 404


def test_dissatisfied_reopens_and_the_router_routes_it_again(ledger: Engine) -> None:
    client = _client(ledger)
    ticket_id = _resolved(client, ledger)
    recorded = _post(
        client, f"/{ticket_id}/feedback", {"result": "dissatisfied", "comment": "still hungry"}, 201
    )
    assert recorded["reopened"] is True
    ticket = client.get(f"{BASE}/{ticket_id}").json()
    assert ticket["state"] == "reopened"
    # both at the same moment: their order in the history is not told apart
    assert {e["type"] for e in ticket["events"][-2:]} == {"feedback-recorded", "reopened"}
    # The ledger owes the router a decision: the stream message, or the re-drive.
    with make_sessions(ledger)() as s:
        owed = stale(s, datetime.now(UTC).replace(year=2100))
    assert [(c.ticket_id, c.attempt) for c in owed] == [(ticket_id, 1)]
    _post(client, f"/{ticket_id}/feedback", {"result": "dissatisfied"}, 409)

    _routed(ledger, ticket_id, 1)
    ticket = client.get(f"{BASE}/{ticket_id}").json()
    assert (ticket["state"], ticket["unit_id"], ticket["assignment"]["attempt"]) == (
        "assigned", UNIT, 2,
    )  # fmt: skip
    with make_sessions(ledger)() as s:
        fresh = s.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.attempt == 2)
        ).all()
    assert sorted(c.clock for c in fresh) == ["first-response", "resolution", "sign-for"]
    assert all(c.stopped_at is None and c.outcome is None for c in fresh)

    # Resolved again: the caller is told again (a new attempt), and may be satisfied now.
    _post(client, f"/{ticket_id}/ack", {"unit_id": UNIT}, 200)
    _post(client, f"/{ticket_id}/resolve", {"unit_id": UNIT, "result": "meals delivered"}, 200)
    told = client.get(f"{BASE}/{ticket_id}/notifications").json()
    assert [n["id"].rsplit(":", 1)[1] for n in told if n["kind"] == "resolved"] == ["1", "2"]
    _post(client, f"/{ticket_id}/feedback", {"result": "satisfied"}, 201)
    shown = client.get(f"{BASE}/{ticket_id}/feedback").json()
    assert [(f["result"], f["attempt"]) for f in shown] == [("dissatisfied", 1), ("satisfied", 2)]


def test_dissatisfied_may_be_kept_closed(ledger: Engine) -> None:
    client = _client(ledger)
    ticket_id = _resolved(client, ledger)
    body = {"result": "dissatisfied", "comment": "wants money, not food", "reopen": False}
    assert _post(client, f"/{ticket_id}/feedback", body, 201)["reopened"] is False
    assert client.get(f"{BASE}/{ticket_id}").json()["state"] == "resolved"
