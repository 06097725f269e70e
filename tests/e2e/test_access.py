"""Tokens and roles on the running system: 401 without a token, 403 for the wrong role or
another unit's ticket, 409 with the current state for a move the state machine refuses;
and none of them changes anything."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.test_pipeline import REQUEST, take, ticket
from tests.harness import System


def _call(
    system: System, method: str, path: str, token: str | None, body: Any = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.request(
        method, f"{system.api}/api/v1/requests{path}", json=body, headers=headers, timeout=10
    )


def test_roles_and_states_guard_every_move(system: System) -> None:
    taker = system.token("call-taker", "Call-taker Li")
    mine = system.token("unit:friendship-street", "Friendship Street")
    other = system.token("unit:xueyuan-street", "Xueyuan Street")
    dispatcher = system.token("dispatcher", "Dispatcher Wang")
    body = REQUEST | {"district": system.district}

    document = httpx.get(f"{system.api}/openapi.json").json()  # served without a token
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert "/open311/v2/requests.{fmt}" in document["paths"]
    assert _call(system, "POST", "", None, body).status_code == 401
    assert _call(system, "POST", "", "hl_not-a-token", body).status_code == 401
    assert _call(system, "POST", "", mine, body).status_code == 403
    created = _call(system, "POST", "", taker, body)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    assert len(take(system, "friendship-street", 1, within=10)) == 1

    # a unit lists and reads only what it holds now; another unit gets 403
    listed = _call(system, "GET", "", mine)
    assert [t["id"] for t in listed.json()] == [ticket_id], listed.text
    assert _call(system, "GET", "", other).json() == []
    assert _call(system, "GET", "?unit=friendship-street", other).status_code == 403
    assert _call(system, "GET", f"/{ticket_id}", other).status_code == 403
    assert _call(system, "GET", f"/{ticket_id}", mine).status_code == 200

    # wrong role, or acting in another unit's name: 403; the state machine says no: 409
    assert _call(system, "POST", f"/{ticket_id}/ack", taker, {}).status_code == 403
    named = {"unit_id": "friendship-street"}
    assert _call(system, "POST", f"/{ticket_id}/ack", other, named).status_code == 403
    assigned_elsewhere = _call(system, "POST", f"/{ticket_id}/ack", other, {})
    assert assigned_elsewhere.status_code == 409
    assert assigned_elsewhere.json()["state"] == "assigned"
    early = _call(system, "POST", f"/{ticket_id}/resolve", mine, {"result": "done"})
    assert (early.status_code, early.json()["state"]) == (409, "assigned")
    not_triage = _call(
        system, "POST", f"/{ticket_id}/assign", dispatcher, {"unit_id": "x", "dispatcher": "Wang"}
    )
    assert (not_triage.status_code, not_triage.json()["state"]) == (409, "assigned")
    assert _call(system, "POST", f"/{ticket_id}/assign", mine, {"unit_id": "x"}).status_code == 403
    assert [e["type"] for e in ticket(system, ticket_id)["events"]] == ["received", "assigned"]

    # the unit's own token signs for and resolves without naming itself
    assert _call(system, "POST", f"/{ticket_id}/ack", mine, {}).status_code == 200
    done = _call(system, "POST", f"/{ticket_id}/resolve", mine, {"result": "housed"})
    assert done.status_code == 200, done.text
    closed = _call(system, "POST", f"/{ticket_id}/return", mine, {"reason": "late"})
    assert (closed.status_code, closed.json()["state"]) == (409, "resolved")
    assert _call(system, "GET", "", mine).json() == []
    shown = ticket(system, ticket_id)
    types = [e["type"] for e in shown["events"]]
    assert types == ["received", "assigned", "signed-for", "resolved"]
    assert shown["assignment"]["result"] == "housed"


def test_a_dispatcher_lists_triage_and_assigns_by_hand(system: System) -> None:
    taker = system.token("call-taker", "Call-taker Li")
    dispatcher = system.token("dispatcher", "Dispatcher Wang")
    body = REQUEST | {
        "district": system.district,
        "category": "consult",
        "location": {"lat": 39.6, "lon": 118.2},  # no area, no rule: manual triage
    }
    ticket_id = _call(system, "POST", "", taker, body).json()["id"]
    deadline = time.monotonic() + 15
    while ticket(system, ticket_id)["state"] != "triage" and time.monotonic() < deadline:
        time.sleep(0.2)
    waiting = _call(system, "GET", "?state=triage", dispatcher).json()
    assert [t["id"] for t in waiting] == [ticket_id]
    unit = system.token("unit:wenhua-street")
    assert _call(system, "GET", "?state=triage", unit).json() == []  # a unit sees its own only
    assign = {"unit_id": "wenhua-street"}
    assert _call(system, "POST", f"/{ticket_id}/assign", taker, assign).status_code == 403
    done = _call(system, "POST", f"/{ticket_id}/assign", dispatcher, assign)
    assert done.status_code == 200, done.text
    assert done.json()["assignment"]["rule"] == "manual: Dispatcher Wang"
    assert [t["id"] for t in _call(system, "GET", "", unit).json()] == [ticket_id]
