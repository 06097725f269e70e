"""SLA clocks: when a step of the escalation ladder falls due.

A task's sign-for clock starts when it is assigned; the ladder's rungs are
counted from the deadline. Computing the whole ladder up front lets the
ledger hold every due time, indexed, so no timer lives only in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.shared.domain.config import SlaPolicy
from hotline.shared.domain.ticket import Urgency

SIGN_FOR = "sign-for"


@dataclass(frozen=True)
class DueStep:
    """One rung that falls due at ``due_at`` unless the clock stops first."""

    clock: str
    level: int
    name: str
    due_at: datetime


def sign_for_deadline(policy: SlaPolicy, urgency: Urgency, assigned_at: datetime) -> datetime:
    """The moment by which the unit must sign for the task."""
    return assigned_at + policy.sign_for[urgency]


def sign_for_steps(policy: SlaPolicy, urgency: Urgency, assigned_at: datetime) -> list[DueStep]:
    """Every escalation step of the sign-for clock, in the order they fall due."""
    deadline = sign_for_deadline(policy, urgency, assigned_at)
    steps = [DueStep(SIGN_FOR, s.level, s.name, deadline + s.after) for s in policy.escalation]
    return sorted(steps, key=lambda s: (s.due_at, s.level))
