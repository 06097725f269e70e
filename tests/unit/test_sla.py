"""SLA clocks: deadlines by urgency and the ladder counted from the deadline."""

from datetime import UTC, datetime, timedelta

from hotline.shared.config_file import load_config
from hotline.shared.domain.sla import sign_for_deadline, sign_for_steps
from hotline.shared.domain.ticket import Urgency

POLICY = load_config(None).sla
T0 = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)


def test_deadline_by_urgency() -> None:
    assert sign_for_deadline(POLICY, Urgency.CRITICAL, T0) == T0 + timedelta(minutes=10)
    assert sign_for_deadline(POLICY, Urgency.NORMAL, T0) == T0 + timedelta(hours=2)


def test_ladder_counts_from_the_deadline_in_order() -> None:
    steps = sign_for_steps(POLICY, Urgency.URGENT, T0)
    deadline = T0 + timedelta(minutes=30)
    assert [(s.level, s.due_at) for s in steps] == [
        (1, deadline),
        (2, deadline + timedelta(minutes=30)),
        (3, deadline + timedelta(hours=2)),
    ]
    assert {s.clock for s in steps} == {"sign-for"}
