"""The handlers on a real ledger: one transaction per move, idempotent, clocks that stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import submit
from hotline.intake.schemas import NewRequest, Resolve, Return, SignFor
from hotline.intake.unit_tasks import resolve, return_task, sign_for
from hotline.notifier.escalations import fire_due
from hotline.router.decisions import RouteCommand, route, stale
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.routing import Rules
from hotline.shared.domain.ticket import IllegalMove
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Assignment, Deadline, Event, OutboxMessage, Ticket
from hotline.shared.ledger.tickets import NotFound

CONFIG = load_config(None)
ROUTER = Rules(CONFIG)
T0 = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)


def _request(**overrides: object) -> NewRequest:
    body: dict[str, object] = {
        "district": "lunan",
        "caller": {"name": "Xiao Lu", "phone": "+86 138 0000 0000"},
        "location": {"area_code": "130202001001", "address": "Seven Days Hotel"},
        "category": "supplies.food",
        "description": "Stranded, no money for food or room",
        "urgency": "urgent",
    }
    body.update(overrides)
    return NewRequest.model_validate(body)


def _submit(engine: Engine, at: datetime = T0) -> str:
    with make_sessions(engine).begin() as s:
        return submit(s, ROUTER, _request(), at).ticket.id


def _route(engine: Engine, ticket_id: str, attempt: int, at: datetime) -> object:
    with make_sessions(engine).begin() as s:
        return route(s, ROUTER, RouteCommand(ticket_id, attempt), at)


def test_submit_writes_ticket_event_and_outbox_together(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    with make_sessions(ledger)() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state == "received"
        assert [e.type for e in s.scalars(select(Event))] == ["received"]
        targets = sorted(o.target for o in s.scalars(select(OutboxMessage)))
        assert targets == ["lunan.events", "lunan.requests"]


def test_rejected_request_writes_nothing(ledger: Engine) -> None:
    with pytest.raises(Invalid) as caught, make_sessions(ledger).begin() as s:
        submit(s, ROUTER, _request(category="pets.lost"), T0)
    assert caught.value.field == ("category",)
    with make_sessions(ledger)() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_route_assigns_once_even_when_the_message_comes_twice(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    first = _route(ledger, ticket_id, 0, T0 + timedelta(seconds=1))
    again = _route(ledger, ticket_id, 0, T0 + timedelta(seconds=2))
    assert first is not None and again is None
    with make_sessions(ledger)() as s:
        assignments = s.scalars(select(Assignment)).all()
        assert [(a.unit_id, a.attempt) for a in assignments] == [("friendship-street", 1)]
        tasks = s.scalars(select(OutboxMessage).where(OutboxMessage.transport == "amqp")).all()
        assert [(t.target, t.message_id) for t in tasks] == [
            ("unit.friendship-street", f"{ticket_id}:1")
        ]
        steps = s.scalars(
            select(Deadline).where(Deadline.clock == "sign-for").order_by(Deadline.level)
        ).all()
        assert steps[1].due_at == T0 + timedelta(seconds=1) + timedelta(minutes=30)


def test_sign_for_stops_the_clock_and_no_step_fires(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    _route(ledger, ticket_id, 0, T0)
    with make_sessions(ledger).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id="friendship-street"), T0)
    with make_sessions(ledger).begin() as s:
        fired = fire_due(s, T0 + timedelta(days=1), CONFIG)
    assert fired and "sign-for" not in {f.clock for f in fired}


def test_overdue_task_escalates_each_step_once(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    _route(ledger, ticket_id, 0, T0)
    late = T0 + timedelta(minutes=31)
    with make_sessions(ledger).begin() as s:
        fired = fire_due(s, late, CONFIG)
    # the reminder at 50% of the 30 min, 16 min ago; the unit leader at the deadline, 1 min ago
    assert [(f.clock, f.level, f.late_seconds) for f in fired] == [
        ("sign-for", 1, 960.0),
        ("sign-for", 2, 60.0),
    ]
    with make_sessions(ledger).begin() as s:
        assert fire_due(s, late, CONFIG) == []
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.escalation_level == 2
        keys = s.scalars(select(OutboxMessage.target).where(OutboxMessage.relay == "notifier"))
        # each step tells its contact once: the reminder the desk's phone, the leader by SMS
        assert sorted(keys) == [
            "escalation.1", "escalation.2", "lunan.events", "lunan.events",
            "notify.phone", "notify.sms",
        ]  # fmt: skip


def test_wrong_unit_and_illegal_moves_conflict(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    _route(ledger, ticket_id, 0, T0)
    wrong_unit = SignFor(unit_id="health-bureau")
    with (
        pytest.raises(Conflict, match="assigned to friendship-street"),
        make_sessions(ledger).begin() as s,
    ):
        sign_for(s, ticket_id, wrong_unit, T0)
    with pytest.raises(IllegalMove) as caught, make_sessions(ledger).begin() as s:
        resolve(s, ticket_id, Resolve(unit_id="friendship-street", result="done"), T0, CONFIG)
    assert caught.value.state.value == "assigned"
    with pytest.raises(NotFound), make_sessions(ledger).begin() as s:
        sign_for(s, "no-such-ticket", SignFor(unit_id="friendship-street"), T0)


def test_returned_task_goes_elsewhere_then_to_triage(ledger: Engine) -> None:
    ticket_id = _submit(ledger)
    _route(ledger, ticket_id, 0, T0)
    with make_sessions(ledger).begin() as s:
        return_task(s, ticket_id, Return(unit_id="friendship-street", reason="not ours"), T0)
    _route(ledger, ticket_id, 1, T0)
    with make_sessions(ledger)() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and (ticket.unit_id, ticket.attempt) == ("service-office", 2)
    with make_sessions(ledger).begin() as s:
        return_task(s, ticket_id, Return(unit_id="service-office", reason="no"), T0)
    _route(ledger, ticket_id, 2, T0)
    with make_sessions(ledger)() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state == "triage"


def test_stale_finds_tickets_the_router_never_heard_of(ledger: Engine) -> None:
    waiting = _submit(ledger, T0)
    routed = _submit(ledger, T0)
    _route(ledger, routed, 0, T0)
    with make_sessions(ledger)() as s:
        found = stale(s, T0 + timedelta(seconds=30))
    assert [c.ticket_id for c in found] == [waiting]
