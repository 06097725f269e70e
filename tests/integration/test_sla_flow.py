"""SLA clocks on a real ledger: three clocks per task, stops, extensions, repeats, late steps,
the race between a stop and a firing, and outcomes counted once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select

from hotline.intake.extensions import NoSuchExtension, decide_extension, request_extension
from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.requests import submit
from hotline.intake.schemas import Resolve, Return, SignFor
from hotline.intake.sla_schemas import ExtensionAsked, ExtensionDecided, Progress
from hotline.intake.unit_tasks import report_progress, resolve, return_task, sign_for
from hotline.notifier.escalations import fire_due
from hotline.notifier.worker import NotifierWorker
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Deadline, Event, OutboxMessage, SlaClock, Ticket
from tests.integration.test_ledger_flow import CONFIG, ROUTER, _request, _route

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
UNIT = "friendship-street"  # where the example request (urgent, supplies.food) goes


def _assigned(engine: Engine, **overrides: object) -> str:
    with make_sessions(engine).begin() as s:
        ticket_id = submit(s, ROUTER, _request(**overrides), T0).ticket.id
    _route(engine, ticket_id, 0, T0)
    return ticket_id


def _clocks(engine: Engine, ticket_id: str, attempt: int = 1) -> dict[str, SlaClock]:
    with make_sessions(engine)() as s:
        rows = s.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.attempt == attempt)
        ).all()
        return {r.clock: r for r in rows}


def _fire(engine: Engine, at: datetime) -> list[tuple[str, int]]:
    with make_sessions(engine).begin() as s:
        return [(f.clock, f.level) for f in fire_due(s, at, CONFIG)]


def _stops(clock: str, outcome: str, unit: str = UNIT) -> float:
    labels = {"district": "lunan", "unit": unit, "category": "supplies", "urgency": "urgent"}
    value = REGISTRY.get_sample_value(
        "hotline_sla_clock_stops_total", labels | {"clock": clock, "outcome": outcome}
    )
    return value or 0.0


def _escalations(engine: Engine, ticket_id: str) -> list[dict[str, object]]:
    with make_sessions(engine)() as s:
        events = s.scalars(
            select(Event).where(Event.ticket_id == ticket_id, Event.type == "escalated")
        ).all()
        return sorted((e.data for e in events), key=lambda d: (str(d["due_at"]), str(d["clock"])))


def test_assignment_starts_three_clocks_with_their_ladders(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    clocks = _clocks(ledger, ticket_id)
    assert {c: r.due_at - T0 for c, r in clocks.items()} == {
        "sign-for": timedelta(minutes=30),
        "first-response": timedelta(hours=1),
        "resolution": timedelta(hours=8),
    }
    assert {r.unit_id for r in clocks.values()} == {UNIT}
    with make_sessions(ledger)() as s:
        steps = s.scalars(select(Deadline).where(Deadline.ticket_id == ticket_id)).all()
        assert sorted((d.clock, d.level) for d in steps) == [
            ("first-response", 1), ("first-response", 2),
            ("resolution", 1), ("resolution", 2), ("resolution", 3),
            ("sign-for", 1), ("sign-for", 2), ("sign-for", 3), ("sign-for", 4),
        ]  # fmt: skip


def test_sign_for_progress_and_resolution_stop_their_clocks_met(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    before = {c: _stops(c, "met") for c in ("sign-for", "first-response", "resolution")}
    minute = timedelta(minutes=1)
    with make_sessions(ledger).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), T0 + minute)
    with pytest.raises(Conflict, match="assigned to"), make_sessions(ledger).begin() as s:
        report_progress(s, ticket_id, Progress(unit_id="health-bureau", note="x"), T0)
    with make_sessions(ledger).begin() as s:
        report_progress(s, ticket_id, Progress(unit_id=UNIT, note="called"), T0 + 2 * minute)
    with make_sessions(ledger).begin() as s:
        report_progress(s, ticket_id, Progress(unit_id=UNIT, note="again"), T0 + 3 * minute)
    clocks = _clocks(ledger, ticket_id)
    assert clocks["sign-for"].outcome == clocks["first-response"].outcome == "met"
    assert clocks["first-response"].stopped_at == T0 + 2 * minute
    assert clocks["resolution"].stopped_at is None
    # A day later only the resolution clock is still running and escalates.
    assert {c for c, _ in _fire(ledger, T0 + timedelta(days=1))} == {"resolution"}
    with make_sessions(ledger).begin() as s:
        done = Resolve(unit_id=UNIT, result="done")
        resolve(s, ticket_id, done, T0 + timedelta(days=1), CONFIG)
    assert _clocks(ledger, ticket_id)["resolution"].outcome == "missed"
    assert {c: _stops(c, "met") - before[c] for c in before} == {
        "sign-for": 1, "first-response": 1, "resolution": 0,
    }  # fmt: skip
    with make_sessions(ledger)() as s:
        progress = s.scalars(
            select(Event.data).where(
                Event.ticket_id == ticket_id, Event.type == "progress-reported"
            )
        ).all()
        assert [p["first_response"] for p in progress] == [True, False]


def test_a_missed_deadline_is_counted_once_whoever_sees_it_first(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    missed = _stops("sign-for", "missed")
    _fire(ledger, T0 + timedelta(minutes=31))  # the notifier sees the deadline pass
    _fire(ledger, T0 + timedelta(minutes=32))
    with make_sessions(ledger).begin() as s:  # the late sign-for must not count it again
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), T0 + timedelta(minutes=33))
    assert _clocks(ledger, ticket_id)["sign-for"].outcome == "missed"
    assert _stops("sign-for", "missed") - missed == 1


def test_late_steps_fire_in_order_marked_late_with_who_was_told(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    back = T0 + timedelta(hours=3)  # the notifier was down for three hours
    fired = _fire(ledger, back)
    assert fired == [
        ("sign-for", 1), ("sign-for", 2), ("sign-for", 3),
        ("first-response", 1), ("first-response", 2), ("sign-for", 4),
    ]  # fmt: skip
    steps = _escalations(ledger, ticket_id)
    assert [s["late"] for s in steps] == [True] * 6
    first = steps[0]
    assert first["late_seconds"] == (back - T0 - timedelta(minutes=15)).total_seconds()
    assert first["told"] == [{"role": "unit", "unit_id": UNIT}]
    supervision = next(s for s in steps if s["clock"] == "sign-for" and s["level"] == 3)
    assert supervision["told"] == [
        {"role": "supervision-group", "unit_id": "service-office"},
        {"role": "supervisor-unit", "unit_id": "service-office"},
    ]
    leadership = next(s for s in steps if s["level"] == 4)
    assert leadership["told"] == [{"role": "district-leadership", "unit_id": "district-leaders"}]
    assert {"ticket_id", "clock", "level", "name", "due_at", "fired_at"} <= set(first)
    with make_sessions(ledger)() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.escalation_level == 4


def test_the_last_step_repeats_one_row_at_a_time_until_the_clock_stops(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    leadership_due = T0 + timedelta(minutes=30) + timedelta(hours=2)
    _fire(ledger, leadership_due)
    with make_sessions(ledger)() as s:
        pending = s.scalars(
            select(Deadline).where(
                Deadline.clock == "sign-for",
                Deadline.fired_at.is_(None),
                Deadline.stopped_at.is_(None),
            )
        ).all()
        assert [(d.level, d.repeat, d.due_at) for d in pending] == [
            (4, 1, leadership_due + timedelta(hours=1))
        ]
    assert ("sign-for", 4) in _fire(ledger, leadership_due + timedelta(hours=1))
    with make_sessions(ledger).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), leadership_due + timedelta(hours=1))
    assert ("sign-for", 4) not in _fire(ledger, leadership_due + timedelta(days=2))
    repeats = [s["repeat"] for s in _escalations(ledger, ticket_id) if s["level"] == 4]
    assert repeats == [0, 1]


def test_a_returned_task_starts_fresh_clocks_for_the_next_unit(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    later = T0 + timedelta(minutes=10)
    with make_sessions(ledger).begin() as s:
        return_task(s, ticket_id, Return(unit_id=UNIT, reason="not ours"), later)
    _route(ledger, ticket_id, 1, later)
    old, new = _clocks(ledger, ticket_id, 1), _clocks(ledger, ticket_id, 2)
    assert all(c.stopped_at == later and c.outcome is None for c in old.values())
    assert new["sign-for"].started_at == later and new["sign-for"].unit_id == "service-office"
    assert new["sign-for"].due_at == later + timedelta(minutes=30)
    # nothing of the first unit's ladder fires any more
    _fire(ledger, T0 + timedelta(days=1))
    assert {str(s["unit_id"]) for s in _escalations(ledger, ticket_id)} == {"service-office"}


def _first_response_sum() -> float:
    labels = {"district": "lunan", "unit": UNIT, "category": "supplies", "urgency": "urgent"}
    return REGISTRY.get_sample_value("hotline_time_to_first_response_seconds_sum", labels) or 0.0


def _announced(engine: Engine, ticket_id: str) -> list[dict[str, Any]]:
    """The ticket's events as the events stream carries them (the outbox's payloads)."""
    with make_sessions(engine)() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.key == ticket_id).order_by(OutboxMessage.id)
        ).all()
        return [r.payload for r in rows if r.target == "lunan.events"]


def test_a_result_with_no_progress_before_it_is_the_first_response(ledger: Engine) -> None:
    """Resolving stops the first-response clock; the notifier measures the response from it
    too, unless a progress report came first (then that was the response, measured once)."""
    worker = NotifierWorker(make_sessions(ledger), lambda: CONFIG, lambda: None)
    straight, reported = _assigned(ledger), _assigned(ledger)
    for ticket_id in (straight, reported):
        with make_sessions(ledger).begin() as s:
            sign_for(s, ticket_id, SignFor(unit_id=UNIT), T0 + timedelta(minutes=5))
    with make_sessions(ledger).begin() as s:
        note = Progress(unit_id=UNIT, note="on the way")
        report_progress(s, reported, note, T0 + timedelta(minutes=10))
    for ticket_id in (straight, reported):
        with make_sessions(ledger).begin() as s:
            done = Resolve(unit_id=UNIT, result="delivered")
            resolve(s, ticket_id, done, T0 + timedelta(minutes=25), CONFIG)
    assert _clocks(ledger, straight)["first-response"].outcome == "met"

    resolved = {
        t: next(e for e in _announced(ledger, t) if e["type"] == "resolved")
        for t in (straight, reported)
    }
    assert resolved[straight]["data"]["first_response"] is True
    assert resolved[straight]["data"]["assigned_at"] == T0.isoformat()
    assert resolved[reported]["data"]["first_response"] is False
    before = _first_response_sum()
    worker.observe(_announced(ledger, straight) + _announced(ledger, reported))
    # 25 minutes for the one resolved straight away, 10 for the one that reported progress
    assert _first_response_sum() - before == (25 + 10) * 60


def test_an_approved_extension_moves_the_resolution_deadline_and_its_steps(
    ledger: Engine,
) -> None:
    ticket_id = _assigned(ledger)
    with make_sessions(ledger).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), T0)
    ask = ExtensionAsked(unit_id=UNIT, reason="waiting for a supplier", extra="2h")  # type: ignore[arg-type]
    with make_sessions(ledger).begin() as s:
        extension_id = request_extension(s, ticket_id, ask, T0).id
    with pytest.raises(Conflict, match="still waiting"), make_sessions(ledger).begin() as s:
        request_extension(s, ticket_id, ask, T0)
    with make_sessions(ledger)() as s:
        before = {
            d.level: d.due_at
            for d in s.scalars(select(Deadline).where(Deadline.clock == "resolution"))
        }
    by = ExtensionDecided(by="Supervisor Li", note="ok")
    with make_sessions(ledger).begin() as s:
        done = decide_extension(s, CONFIG, ticket_id, extension_id, by, True, T0)
        assert (done.state, done.decided_by) == ("approved", "Supervisor Li")
    assert _clocks(ledger, ticket_id)["resolution"].due_at == T0 + timedelta(hours=10)
    with make_sessions(ledger)() as s:
        after = {
            d.level: d.due_at
            for d in s.scalars(select(Deadline).where(Deadline.clock == "resolution"))
        }
        assert {lvl: after[lvl] - before[lvl] for lvl in after} == {
            1: timedelta(hours=2), 2: timedelta(hours=2), 3: timedelta(hours=2),
        }  # fmt: skip
        kinds = s.scalars(
            select(Event.type).where(Event.ticket_id == ticket_id).order_by(Event.at)
        ).all()
        assert {"extension-requested", "extension-approved"} <= set(kinds)
    with (
        pytest.raises(Conflict, match="already approved"),
        make_sessions(ledger).begin() as s,
    ):
        decide_extension(s, CONFIG, ticket_id, extension_id, by, False, T0)
    # the old deadline passes quietly; the new one does not
    assert ("resolution", 2) not in _fire(ledger, T0 + timedelta(hours=9))
    assert ("resolution", 2) in _fire(ledger, T0 + timedelta(hours=10))


def test_refused_and_bad_extension_requests_change_nothing(ledger: Engine) -> None:
    ticket_id = _assigned(ledger)
    deadline = T0 + timedelta(hours=8)
    too_early = ExtensionAsked(unit_id=UNIT, reason="r", until=deadline - timedelta(hours=1))
    with pytest.raises(Invalid) as caught, make_sessions(ledger).begin() as s:
        request_extension(s, ticket_id, too_early, T0)
    assert caught.value.field == ("until",)
    other = ExtensionAsked(unit_id="health-bureau", reason="r", until=deadline + timedelta(days=1))
    with pytest.raises(Conflict), make_sessions(ledger).begin() as s:
        request_extension(s, ticket_id, other, T0)
    ask = other.model_copy(update={"unit_id": UNIT})
    with make_sessions(ledger).begin() as s:
        extension_id = request_extension(s, ticket_id, ask, T0).id
    with pytest.raises(NoSuchExtension), make_sessions(ledger).begin() as s:
        decide_extension(s, CONFIG, ticket_id, extension_id + 1, ExtensionDecided(by="x"), True, T0)
    with make_sessions(ledger).begin() as s:
        done = decide_extension(
            s, CONFIG, ticket_id, extension_id, ExtensionDecided(by="Li"), False, T0
        )
        assert done.state == "refused"
    assert _clocks(ledger, ticket_id)["resolution"].due_at == deadline


def test_a_stop_that_holds_the_lock_first_wins_over_the_firing(ledger: Engine) -> None:
    """The sign-for and the notifier race at the deadline: the sign-for takes the ticket first.

    On PostgreSQL the notifier skips the locked ticket; on SQLite it waits for the
    write lock. Either way, once the sign-for commits, its rung never fires.
    """
    ticket_id = _assigned(ledger)
    deadline = T0 + timedelta(minutes=30)
    fired: list[tuple[str, int]] = []
    stopping = make_sessions(ledger)()
    try:
        stopping.begin()
        sign_for(stopping, ticket_id, SignFor(unit_id=UNIT), deadline)
        stopping.flush()
        notifier = threading.Thread(target=lambda: fired.extend(_fire(ledger, deadline)))
        notifier.start()
        time.sleep(0.5)  # let the notifier reach the lock the stop holds
        stopping.commit()
    finally:
        stopping.close()
    notifier.join(timeout=60)
    fired += _fire(ledger, deadline + timedelta(minutes=1))
    assert [f for f in fired if f[0] == "sign-for" and f[1] >= 2] == []
    assert _clocks(ledger, ticket_id)["sign-for"].outcome == "met"


def test_a_firing_that_holds_the_lock_first_is_not_undone_by_a_stop(ledger: Engine) -> None:
    """The other order: the rung fired first; the stop that follows stops only the rest."""
    ticket_id = _assigned(ledger)
    deadline = T0 + timedelta(minutes=30)
    firing = make_sessions(ledger)()
    done = threading.Event()
    try:
        firing.begin()
        assert ("sign-for", 2) in [(f.clock, f.level) for f in fire_due(firing, deadline, CONFIG)]

        def sign() -> None:
            with make_sessions(ledger).begin() as s:
                sign_for(s, ticket_id, SignFor(unit_id=UNIT), deadline)
            done.set()

        signer = threading.Thread(target=sign)
        signer.start()
        time.sleep(0.5)
        assert not done.is_set(), "the sign-for waits for the firing's lock"
        firing.commit()
    finally:
        firing.close()
    signer.join(timeout=60)
    with make_sessions(ledger)() as s:
        steps = s.scalars(select(Deadline).where(Deadline.clock == "sign-for")).all()
        assert not [d for d in steps if d.fired_at and d.stopped_at]
        assert sorted(d.level for d in steps if d.fired_at) == [1, 2]
        assert sorted(d.level for d in steps if d.stopped_at) == [3, 4]


def test_a_stop_waiting_on_a_claimed_rung_still_wins(ledger: Engine) -> None:
    """PostgreSQL: the notifier has claimed the rung when the sign-for locks the ticket.

    The sign-for then waits for the rung's row; the notifier, finding the ticket
    locked, leaves the rung unfired, and the sign-for stops it.
    """
    if ledger.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the write lock orders them (tests above)")
    ticket_id = _assigned(ledger)
    deadline = T0 + timedelta(minutes=30)
    firing = make_sessions(ledger)()
    try:
        firing.begin()
        claimed = firing.scalars(
            select(Deadline)
            .where(Deadline.ticket_id == ticket_id, Deadline.due_at <= deadline)
            .with_for_update(skip_locked=True)
        ).all()
        assert len(claimed) == 2
        signer = threading.Thread(
            target=lambda: _sign(ledger, ticket_id, deadline), name="sign-for"
        )
        signer.start()
        time.sleep(0.5)  # the sign-for now holds the ticket and waits for the claimed rows
        assert fire_due(firing, deadline, CONFIG) == []
        firing.commit()
    finally:
        firing.close()
    signer.join(timeout=60)
    assert _fire(ledger, deadline + timedelta(minutes=1)) == []
    assert _clocks(ledger, ticket_id)["sign-for"].outcome == "met"


def _sign(engine: Engine, ticket_id: str, at: datetime) -> None:
    with make_sessions(engine).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), at)
