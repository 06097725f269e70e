"""Routing-engine outcomes in the ledger: idempotent intake, triage by hand, transfers,
observer copies, recorded decisions; and migrations that match the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import submit
from hotline.intake.schemas import Assign, Return
from hotline.intake.triage import assign_by_hand
from hotline.intake.unit_tasks import return_task
from hotline.router.decisions import RouteCommand, route
from hotline.shared.ledger.dispatch import confirm_transfer
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Assignment, Base, OutboxMessage, Ticket
from tests.integration.test_ledger_flow import ROUTER, _request
from tests.integration.test_sla_api import BASE, _client

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _ticket_id(engine: Engine, **overrides: object) -> str:
    with make_sessions(engine).begin() as s:
        return submit(s, ROUTER, _request(**overrides), T0).ticket.id


def test_the_same_idempotency_key_gives_the_same_ticket(ledger: Engine) -> None:
    with make_sessions(ledger).begin() as s:
        first = submit(s, ROUTER, _request(), T0, "peer:42")
        first_id = first.ticket.id
    with make_sessions(ledger).begin() as s:
        again = submit(s, ROUTER, _request(), T0, "peer:42")
        assert (again.ticket.id, again.created) == (first_id, False)
        assert len(s.scalars(select(Ticket)).all()) == 1


def test_decision_and_copies_are_recorded(ledger: Engine) -> None:
    ticket_id = _ticket_id(ledger, category="medical.emergency", urgency="critical")
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), T0)
    with make_sessions(ledger)() as s:
        assignment = s.scalars(select(Assignment)).one()
        assert assignment.unit_id == "health-bureau"
        assert assignment.decision is not None
        assert assignment.decision["location"]["chain"][0] == "130202001001"
        assert [t["rule"] for t in assignment.decision["tried"]][-1] == assignment.rule
        amqp = {
            o.target: o.payload for o in s.scalars(select(OutboxMessage)) if o.transport == "amqp"
        }
        assert amqp["unit.health-bureau"]["role"] == "handler"
        assert amqp["unit.service-office"]["role"] == "observer"


def test_get_shows_the_rule_and_every_rule_tried(ledger: Engine) -> None:
    """The explanation of a past ticket is in the ledger, and GET shows it: a dispatcher asked
    "why did the health bureau get this?" reads the answer off the ticket."""
    client = _client(ledger)
    body = _request(category="medical.dialysis").model_dump(mode="json")
    created = client.post(BASE, json=body)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), T0)

    shown = client.get(f"{BASE}/{ticket_id}")
    assert shown.status_code == 200, shown.text
    assignment = shown.json()["assignment"]
    assert (assignment["unit_id"], assignment["rule"]) == (
        "health-bureau",
        "medical to the health bureau",
    )
    assert assignment["decision"]["rule"] == assignment["rule"]
    assert assignment["decision"]["location"]["chain"][0] == "130202001001"
    assert assignment["decision"]["tried"] == [
        {
            "rule": "emergencies watched by the service office",
            "failed": "category medical.dialysis not under medical.emergency",
            "observed_by": [],
        },
        {"rule": "medical to the health bureau", "failed": None, "observed_by": []},
    ]
    explanation = assignment["explanation"]
    assert explanation.startswith("unit health-bureau by rule 'medical to the health bureau'")
    assert (
        "skipped emergencies watched by the service office: "
        "category medical.dialysis not under medical.emergency"
    ) in explanation
    assert shown.json()["assignments"] == [assignment]


def test_triage_then_assignment_by_hand(ledger: Engine) -> None:
    ticket_id = _ticket_id(ledger, location={"lat": 39.6, "lon": 118.2}, category="consult")
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), T0)
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state == "triage"
        triage = [o for o in s.scalars(select(OutboxMessage)) if o.target == "triage"]
        assert len(triage) == 1 and "manual triage" in triage[0].payload["reason"]
    body = Assign(unit_id="wenhua-street", dispatcher="Dispatcher Wang", note="caller is there")
    with pytest.raises(Invalid), make_sessions(ledger).begin() as s:
        assign_by_hand(s, ROUTER.config, ticket_id, body.model_copy(update={"unit_id": "x"}), T0)
    with make_sessions(ledger).begin() as s:
        ticket = assign_by_hand(s, ROUTER.config, ticket_id, body, T0)
        assert (ticket.state, ticket.unit_id) == ("assigned", "wenhua-street")
    with pytest.raises(Conflict), make_sessions(ledger).begin() as s:
        assign_by_hand(s, ROUTER.config, ticket_id, body, T0)


def test_two_returns_send_the_task_to_triage_never_back_to_a_returner(ledger: Engine) -> None:
    ticket_id = _ticket_id(ledger, category="medical.dialysis")
    returned: list[str] = []
    for attempt in range(2):
        with make_sessions(ledger).begin() as s:
            route(s, ROUTER, RouteCommand(ticket_id, attempt), T0)
            ticket = s.get(Ticket, ticket_id)
            assert ticket is not None and ticket.state == "assigned"
            assert ticket.unit_id is not None and ticket.unit_id not in returned
            unit = ticket.unit_id
        with make_sessions(ledger).begin() as s:
            return_task(s, ticket_id, Return(unit_id=unit, reason="not ours"), T0)
        returned.append(unit)
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 2), T0)
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and (ticket.state, ticket.unit_id) == ("triage", None)
        triage = [o for o in s.scalars(select(OutboxMessage)) if o.target == "triage"]
        assert len(triage) == 1 and "returned 2 times" in triage[0].payload["reason"]


def test_request_in_a_peer_district_waits_for_transfer_then_is_closed(ledger: Engine) -> None:
    ticket_id = _ticket_id(ledger, location={"area_code": "130203001"})
    with make_sessions(ledger).begin() as s:
        route(s, ROUTER, RouteCommand(ticket_id, 0), T0)
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.state, ticket.transfer_to) == ("transfer-pending", "lubei")
        confirm_transfer(s, ticket, "their-id", T0)
        assert (ticket.state, ticket.peer_ticket_id) == ("transferred", "their-id")


def test_an_unknown_area_code_is_refused_but_a_peer_code_is_taken(ledger: Engine) -> None:
    with pytest.raises(Invalid) as caught, make_sessions(ledger).begin() as s:
        submit(s, ROUTER, _request(location={"area_code": "999"}), T0)
    assert caught.value.field == ("location", "area_code")
    assert _ticket_id(ledger, location={"area_code": "130203"})


def test_migrations_build_exactly_the_models(ledger: Engine) -> None:
    with ledger.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
