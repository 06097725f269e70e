"""The gauges computed from a real ledger: outbox backlog per relay, open tickets by state,
each unit's tasks, overdue tasks; and the sign-for SLA outcome the notifier counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hotline.intake.schemas import SignFor
from hotline.intake.unit_tasks import sign_for
from hotline.notifier.escalations import fire_due
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.observability import metrics
from hotline.shared.observability.gauges import business_hours, outbox_backlog, ticket_gauges
from tests.integration.test_ledger_flow import CONFIG, T0, _route, _submit


def _values(samples: list[metrics.Sample], spec: metrics.Scraped) -> dict[tuple[str, ...], float]:
    return {labels: value for s, labels, value in samples if s is spec}


def test_outbox_backlog_counts_unpublished_rows_and_ages_the_oldest(ledger: Engine) -> None:
    sessions = make_sessions(ledger)
    empty = outbox_backlog(sessions, "lunan", "intake", lambda: T0)
    assert _values(empty, metrics.OUTBOX_PENDING) == {("lunan", "intake"): 0.0}
    assert _values(empty, metrics.OUTBOX_OLDEST_AGE) == {("lunan", "intake"): 0.0}
    _submit(ledger, T0)
    _submit(ledger, T0 + timedelta(seconds=30))
    later = outbox_backlog(sessions, "lunan", "intake", lambda: T0 + timedelta(seconds=90))
    assert _values(later, metrics.OUTBOX_PENDING) == {
        ("lunan", "intake"): 4.0
    }  # 2 x (request, event)
    assert _values(later, metrics.OUTBOX_OLDEST_AGE) == {("lunan", "intake"): 90.0}
    rules = outbox_backlog(sessions, "lunan", "router", lambda: T0)
    assert _values(rules, metrics.OUTBOX_PENDING) == {("lunan", "router"): 0.0}


def test_ticket_gauges_follow_a_task_from_assignment_to_overdue_to_signed_for(
    ledger: Engine,
) -> None:
    sessions = make_sessions(ledger)
    ticket_id = _submit(ledger, T0)
    gauges = ticket_gauges(sessions, CONFIG)
    assert _values(gauges, metrics.TICKETS_OPEN)[("lunan", "received")] == 1.0
    assert _values(gauges, metrics.TASKS_OPEN)[("lunan", "friendship-street", "assigned")] == 0.0

    _route(ledger, ticket_id, 0, T0)
    gauges = ticket_gauges(sessions, CONFIG, T0)
    assert _values(gauges, metrics.TICKETS_OPEN)[("lunan", "received")] == 0.0
    assert _values(gauges, metrics.TICKETS_OPEN)[("lunan", "assigned")] == 1.0
    assert _values(gauges, metrics.TASKS_OPEN)[("lunan", "friendship-street", "assigned")] == 1.0
    assert _values(gauges, metrics.TASKS_OVERDUE)[("lunan", "friendship-street", "sign-for")] == 0.0

    halfway = T0 + timedelta(minutes=20)  # the urgent sign-for limit is 30 min
    overdue = _values(ticket_gauges(sessions, CONFIG, halfway), metrics.TASKS_OVERDUE)
    assert overdue[("lunan", "friendship-street", "sign-for")] == 0.0  # reminded, not late
    late = T0 + timedelta(minutes=31)
    with sessions.begin() as s:
        fired = fire_due(s, late, CONFIG)
    assert ("sign-for", 2) in [(f.clock, f.level) for f in fired]
    overdue = _values(ticket_gauges(sessions, CONFIG, late), metrics.TASKS_OVERDUE)
    assert overdue[("lunan", "friendship-street", "sign-for")] == 1.0
    assert overdue[("lunan", "friendship-street", "resolution")] == 0.0
    levels = _values(ticket_gauges(sessions, CONFIG, late), metrics.TASKS_BY_ESCALATION)
    assert levels[("lunan", "friendship-street", "2")] == 1.0  # the step at the deadline
    assert levels[("lunan", "xueyuan-street", "0")] == 0.0  # every unit is reported

    with sessions.begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id="friendship-street"), T0 + timedelta(hours=1))
    gauges = ticket_gauges(sessions, CONFIG, T0 + timedelta(hours=1))
    assert _values(gauges, metrics.TASKS_OVERDUE)[("lunan", "friendship-street", "sign-for")] == 0.0
    assert _values(gauges, metrics.TASKS_OPEN)[("lunan", "friendship-street", "signed-for")] == 1.0


def test_business_hours_gauge_uses_the_district_zone() -> None:
    # 09:00 on a Friday in Shanghai is 01:00 UTC; 20:00 there is 12:00 UTC.
    friday_morning = datetime(2026, 3, 27, 1, 0, tzinfo=UTC)
    assert business_hours(CONFIG, friday_morning)[2] == 1.0
    assert business_hours(CONFIG, friday_morning + timedelta(hours=11))[2] == 0.0
