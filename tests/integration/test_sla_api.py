"""The SLA routes over HTTP on a real ledger: progress, extensions, a ticket's clocks,
and a clear 4xx for every bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from hotline.intake.app import install
from hotline.intake.auth import Authenticator
from hotline.intake.context import IntakeContext
from hotline.router.decisions import RouteCommand, route
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.domain.access import Principal, Role, hash_token, new_token
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Extension
from tests.integration.test_ledger_flow import ROUTER, _request

UNIT = "friendship-street"
BASE = "/api/v1/requests"


def _client(engine: Engine) -> TestClient:
    """The intake's routes on a real ledger, called with an admin's token (it may act for units)."""
    app = FastAPI()
    sessions = make_sessions(engine)
    token = new_token()
    admin = Principal("Test admin", Role.ADMIN)
    context = IntakeContext(sessions, ConfigSource(None), lambda: None)
    install(app, context, Authenticator(sessions, {hash_token(token): admin}))
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _post(client: TestClient, path: str, body: dict[str, Any], status: int) -> Any:
    answer = client.post(f"{BASE}{path}", json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


def _field_errors(answer: Any) -> list[tuple[str, ...]]:
    return [tuple(map(str, d["loc"])) for d in answer["detail"]]


def test_progress_extensions_and_the_clocks_shown(ledger: Engine) -> None:
    client = _client(ledger)
    ticket_id = _post(client, "", _request().model_dump(mode="json"), 201)["id"]
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), datetime.now(UTC))
    _post(client, f"/{ticket_id}/ack", {"unit_id": UNIT}, 200)

    missing = _post(client, f"/{ticket_id}/progress", {"unit_id": UNIT}, 422)
    assert _field_errors(missing) == [("body", "note")]
    _post(client, "/nope/progress", {"unit_id": UNIT, "note": "x"}, 404)
    shown = _post(client, f"/{ticket_id}/progress", {"unit_id": UNIT, "note": "called back"}, 200)
    outcomes = {c["clock"]: c["outcome"] for c in shown["sla"]["clocks"]}
    assert outcomes == {"sign-for": "met", "first-response": "met", "resolution": None}

    both = {"unit_id": UNIT, "reason": "r", "extra": "2h", "until": "2030-01-01T00:00:00Z"}
    assert "exactly one of extra and until" in str(
        _post(client, f"/{ticket_id}/extensions", both, 422)
    )
    vague = {"unit_id": UNIT, "reason": "r", "extra": "soon"}
    assert ("body", "extra") in _field_errors(_post(client, f"/{ticket_id}/extensions", vague, 422))
    naive = {"unit_id": UNIT, "reason": "r", "until": "2030-01-01T00:00:00"}
    assert "UTC offset" in str(_post(client, f"/{ticket_id}/extensions", naive, 422))
    with make_sessions(ledger)() as s:
        assert s.scalar(select(func.count()).select_from(Extension)) == 0

    asked = _post(
        client, f"/{ticket_id}/extensions", {"unit_id": UNIT, "reason": "parts", "extra": "2h"}, 201
    )
    assert (asked["state"], asked["extra_seconds"]) == ("requested", 7200.0)
    decide = f"/{ticket_id}/extensions/{asked['id']}"
    assert ("body", "by") in _field_errors(_post(client, f"{decide}/approve", {"by": ""}, 422))
    _post(client, f"/{ticket_id}/extensions/{asked['id'] + 1}/approve", {"by": "Li"}, 404)
    approved = _post(client, f"{decide}/approve", {}, 200)  # who decided: the token's name
    assert (approved["state"], approved["decided_by"]) == ("approved", "Test admin")
    old, new = (datetime.fromisoformat(approved[k]) for k in ("old_due_at", "new_due_at"))
    assert new - old == timedelta(hours=2)
    again = _post(client, f"{decide}/refuse", {"by": "Supervisor Li"}, 409)
    assert "already approved" in again["detail"]

    ticket = client.get(f"{BASE}/{ticket_id}").json()
    sla = ticket["sla"]
    assert sla["end_to_end"]["started_at"] == ticket["created_at"]
    assert sla["end_to_end"]["stopped_at"] is None
    resolution = next(c for c in sla["clocks"] if c["clock"] == "resolution")
    assert datetime.fromisoformat(resolution["due_at"]) == new
    assert [e["state"] for e in sla["extensions"]] == ["approved"]
    assert client.get(f"{BASE}/{ticket_id}/sla").json()["clocks"] == sla["clocks"]
    assert client.get(f"{BASE}/nope/sla").status_code == 404

    _post(client, f"/{ticket_id}/resolve", {"unit_id": UNIT, "result": "delivered"}, 200)
    closed = client.get(f"{BASE}/{ticket_id}/sla").json()
    assert closed["end_to_end"]["stopped_at"] is not None
    asked_late = {"unit_id": UNIT, "reason": "r", "extra": "1h"}
    assert _post(client, f"/{ticket_id}/extensions", asked_late, 409)["state"] == "resolved"


def test_the_end_to_end_clock_runs_from_intake_across_a_return(ledger: Engine) -> None:
    """A returned task gets fresh clocks for the next unit; the ticket's own clock does not
    start again: it counts from intake, through both units, to the second one's result."""
    client = _client(ledger)
    ticket_id = _post(client, "", _request().model_dump(mode="json"), 201)["id"]
    created = datetime.fromisoformat(client.get(f"{BASE}/{ticket_id}").json()["created_at"])
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), datetime.now(UTC))
    first = client.get(f"{BASE}/{ticket_id}/sla").json()
    assert {c["unit_id"] for c in first["clocks"]} == {UNIT}
    _post(client, f"/{ticket_id}/return", {"unit_id": UNIT, "reason": "not ours"}, 200)
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 1), datetime.now(UTC))

    moved = client.get(f"{BASE}/{ticket_id}/sla").json()
    assert {(c["attempt"], c["unit_id"]) for c in moved["clocks"]} == {(2, "service-office")}
    fresh = min(datetime.fromisoformat(c["started_at"]) for c in moved["clocks"])
    assert fresh > min(datetime.fromisoformat(c["started_at"]) for c in first["clocks"])
    end_to_end = moved["end_to_end"]
    assert datetime.fromisoformat(end_to_end["started_at"]) == created  # not the new task's start
    assert end_to_end["stopped_at"] is None
    assert end_to_end["elapsed_seconds"] >= round((fresh - created).total_seconds(), 3)
    assert end_to_end["elapsed_seconds"] > first["end_to_end"]["elapsed_seconds"]

    _post(client, f"/{ticket_id}/ack", {"unit_id": "service-office"}, 200)
    _post(client, f"/{ticket_id}/resolve", {"unit_id": "service-office", "result": "fed"}, 200)
    done = client.get(f"{BASE}/{ticket_id}/sla").json()["end_to_end"]
    stopped = datetime.fromisoformat(done["stopped_at"])
    assert datetime.fromisoformat(done["started_at"]) == created
    assert done["elapsed_seconds"] == round((stopped - created).total_seconds(), 3)
    assert client.get(f"{BASE}/{ticket_id}/sla").json()["end_to_end"] == done  # it stopped


def test_sla_and_feedback_routes_let_in_only_their_roles(ledger: Engine) -> None:
    admin = _client(ledger)
    ticket_id = _post(admin, "", _request().model_dump(mode="json"), 201)["id"]
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), datetime.now(UTC))
    tokens = {role: new_token() for role in ("unit", "other", "taker", "supervisor")}
    who = {
        hash_token(tokens["unit"]): Principal("Unit", Role.UNIT, UNIT),
        hash_token(tokens["other"]): Principal("Other", Role.UNIT, "wenhua-street"),
        hash_token(tokens["taker"]): Principal("Taker", Role.CALL_TAKER),
        hash_token(tokens["supervisor"]): Principal("Boss", Role.SUPERVISOR),
    }
    app = FastAPI()
    sessions = make_sessions(ledger)
    context = IntakeContext(sessions, ConfigSource(None), lambda: None)
    install(app, context, Authenticator(sessions, who))
    client = TestClient(app)

    def call(token: str, path: str, body: dict[str, Any]) -> int:
        headers = {"Authorization": f"Bearer {tokens[token]}"}
        return client.post(f"{BASE}/{ticket_id}{path}", json=body, headers=headers).status_code

    assert call("unit", "/ack", {}) == 200
    asked = {"reason": "Waiting for the supplier", "extra": "4h"}
    assert call("other", "/extensions", asked) == 409  # not its task: as for signing for it
    assert call("taker", "/extensions", asked) == 403  # not a unit
    assert call("unit", "/extensions", asked) == 201  # its own: unit_id from the token
    extension = admin.get(f"{BASE}/{ticket_id}/sla").json()["extensions"][0]["id"]
    decision = f"/extensions/{extension}/approve"
    assert call("unit", decision, {"by": "Unit"}) == 403
    assert call("supervisor", decision, {"by": "Supervisor Li"}) == 200
    assert call("unit", "/resolve", {"result": "Delivered"}) == 200
    assert call("unit", "/feedback", {"result": "satisfied"}) == 403
    assert client.get(f"{BASE}/{ticket_id}/sla").status_code == 401
