"""First-contact resolution and duplicate linking on a real ledger: what is never routed
writes no message to the router, and what is linked shows on both tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select

from hotline.intake.requests import submit
from hotline.router.decisions import RouteCommand, route
from hotline.shared.domain.config import DuplicatePolicy
from hotline.shared.domain.routing import Rules
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Event, OutboxMessage, Ticket
from tests.integration.test_ledger_flow import CONFIG, _request

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WATCHFUL = Rules(CONFIG.model_copy(update={"duplicates": DuplicatePolicy(window="2h")}))


def _submit(
    engine: Engine, at: datetime = T0, rules: Rules = WATCHFUL, **overrides: object
) -> Ticket:
    with make_sessions(engine).begin() as s:
        return submit(s, rules, _request(**overrides), at).ticket


def _asks_router(engine: Engine, ticket_id: str) -> bool:
    with make_sessions(engine)() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.key == ticket_id)).all()
        return any(o.target.endswith(".requests") for o in rows)


def test_answered_at_first_contact_is_resolved_and_never_routed(ledger: Engine) -> None:
    ticket = _submit(ledger, resolved_at_intake=True, answer="Told where the shelter is")
    assert (ticket.state, ticket.resolved_at_intake) == ("resolved", True)
    assert not _asks_router(ledger, ticket.id)
    with make_sessions(ledger)() as s:
        types = s.scalars(select(Event.type).where(Event.ticket_id == ticket.id)).all()
        assert sorted(types) == ["received", "resolved-at-intake"]
    with pytest.raises(ValidationError, match="answer"):
        _request(resolved_at_intake=True)


def test_same_caller_is_a_duplicate_and_another_caller_is_counted(ledger: Engine) -> None:
    first = _submit(ledger)
    with make_sessions(ledger).begin() as s:
        route(s, WATCHFUL, RouteCommand(first.id, 0), T0)
    again = _submit(
        ledger, T0 + timedelta(minutes=5), caller={"name": "Xiao Lu", "phone": "+8613800000000"}
    )
    other = _submit(
        ledger, T0 + timedelta(minutes=6), caller={"name": "Neighbour", "phone": "139 1111 2222"}
    )
    assert (again.state, again.duplicate_of, again.link_kind) == (
        "duplicate",
        first.id,
        "duplicate",
    )
    assert (other.duplicate_of, other.link_kind) == (first.id, "also-reported")
    assert not _asks_router(ledger, again.id) and not _asks_router(ledger, other.id)
    with make_sessions(ledger)() as s:
        types = s.scalars(select(Event.type).where(Event.ticket_id == first.id)).all()
        assert types.count("duplicate-reported") == 2

    # another category, another community, or past the window: a ticket of its own
    for overrides, at in [
        ({"category": "supplies.medicine"}, T0),
        ({"location": {"area_code": "130202002"}}, T0),
        ({}, T0 + timedelta(hours=3)),
    ]:
        fresh = _submit(ledger, at, **overrides)
        assert fresh.duplicate_of is None and _asks_router(ledger, fresh.id)


def test_repeats_in_one_transaction_link_to_the_ticket_not_yet_written(ledger: Engine) -> None:
    """Group commit runs many calls in one transaction: a repeat of a call earlier in the
    same batch (its ticket still only in the session) is linked all the same."""
    neighbour = {"name": "Neighbour", "phone": "139 1111 2222"}
    with make_sessions(ledger).begin() as s:
        first = submit(s, WATCHFUL, _request(), T0).ticket
        other = submit(s, WATCHFUL, _request(caller=neighbour), T0).ticket
        again = submit(s, WATCHFUL, _request(), T0 + timedelta(seconds=1)).ticket
        elsewhere = submit(s, WATCHFUL, _request(location={"area_code": "130202002"}), T0).ticket
    assert (other.duplicate_of, other.link_kind) == (first.id, "also-reported")
    assert (again.duplicate_of, again.link_kind) == (first.id, "duplicate")
    assert elsewhere.duplicate_of is None
    assert _asks_router(ledger, first.id) and _asks_router(ledger, elsewhere.id)
    assert not _asks_router(ledger, other.id) and not _asks_router(ledger, again.id)
    with make_sessions(ledger)() as s:
        types = s.scalars(select(Event.type).where(Event.ticket_id == first.id)).all()
        assert types.count("duplicate-reported") == 2


def test_no_link_when_the_window_is_off_or_the_ticket_is_closed(ledger: Engine) -> None:
    plain = Rules(CONFIG)
    first = _submit(ledger, rules=plain)
    assert _submit(ledger, rules=plain).duplicate_of is None
    done = _submit(ledger, resolved_at_intake=True, answer="answered", category="consult")
    assert _submit(ledger, category="consult").duplicate_of is None
    assert first.id != done.id


def test_observer_copies_carry_the_caller_masked(ledger: Engine) -> None:
    ticket = _submit(ledger, rules=Rules(CONFIG), category="medical.emergency", urgency="critical")
    with make_sessions(ledger).begin() as s:
        route(s, Rules(CONFIG), RouteCommand(ticket.id, 0), T0)
    with make_sessions(ledger)() as s:
        amqp = {
            o.target: o.payload for o in s.scalars(select(OutboxMessage)) if o.transport == "amqp"
        }
    handler, observer = amqp["unit.health-bureau"], amqp["unit.service-office"]
    assert handler["caller"] == {"name": "Xiao Lu", "phone": "+86 138 0000 0000"}
    assert observer["caller"] == {"name": "X**", "phone": "*********0000"}
    assert observer["caller_masked"] is True
