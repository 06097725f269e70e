"""SLA clocks: when each clock's deadline and each rung of its ladder falls due.

A task's three clocks (sign-for, first response, resolution) start when it
is assigned to a unit. Each has a limit by category and urgency, counts
around the clock or in working time, and climbs its own ladder. The rungs
are computed up front so the ledger holds every due time, indexed, and no
timer lives only in memory; a repeating last rung is the exception: the
scheduler writes the next repeat when it fires one, so the list stays finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.shared.domain.calendar import Timekeeper, timekeeper
from hotline.shared.domain.config import Clock, Counting, LadderStep, Recipient, SlaPolicy
from hotline.shared.domain.ticket import Urgency

SIGN_FOR = Clock.SIGN_FOR.value


@dataclass(frozen=True)
class DueStep:
    """One rung that falls due at ``due_at`` unless the clock stops first."""

    clock: str
    level: int
    name: str
    due_at: datetime
    tell: tuple[Recipient, ...] = (Recipient.UNIT_LEADER,)
    repeat_every: timedelta | None = None
    repeat: int = 0


@dataclass(frozen=True)
class ClockPlan:
    """One clock of a task: how it counts, its deadline, and its ladder's rungs in order."""

    clock: Clock
    counting: Counting
    started_at: datetime
    limit: timedelta
    due_at: datetime
    steps: tuple[DueStep, ...]


def keeper_for(policy: SlaPolicy, counting: Counting, zone: ZoneInfo) -> Timekeeper:
    """The timekeeper of a clock that counts the way ``counting`` says, in the district's zone."""
    return timekeeper(counting, policy.working_time, zone)


def step_due(
    step: LadderStep, keeper: Timekeeper, started_at: datetime, limit: timedelta, due_at: datetime
) -> datetime:
    """When a rung falls due: a fraction of the limit in, or a delay past the deadline."""
    if step.at is not None:
        return keeper.add(started_at, limit * step.at)
    return keeper.add(due_at, step.after or timedelta(0))


def plan_clock(
    policy: SlaPolicy,
    zone: ZoneInfo,
    clock: Clock,
    category: str,
    urgency: Urgency,
    started_at: datetime,
) -> ClockPlan:
    """One clock of a task assigned at ``started_at``, with its ladder."""
    counting = policy.counting_of(clock, category)
    keeper = keeper_for(policy, counting, zone)
    limit = policy.limit(clock, category, urgency)
    due_at = keeper.add(started_at, limit)
    steps = [
        DueStep(
            clock=clock.value,
            level=step.level,
            name=step.name,
            due_at=step_due(step, keeper, started_at, limit, due_at),
            tell=step.tell,
            repeat_every=step.repeat_every,
        )
        for step in policy.ladder(clock, category)
    ]
    steps.sort(key=lambda s: (s.due_at, s.level))
    return ClockPlan(clock, counting, started_at, limit, due_at, tuple(steps))


def plan_clocks(
    policy: SlaPolicy, zone: ZoneInfo, category: str, urgency: Urgency, started_at: datetime
) -> list[ClockPlan]:
    """All three clocks of a task assigned at ``started_at``."""
    return [plan_clock(policy, zone, c, category, urgency, started_at) for c in Clock]


def next_repeat(keeper: Timekeeper, due_at: datetime, every: timedelta, now: datetime) -> datetime:
    """When a repeating rung that was due at ``due_at`` and fired at ``now`` repeats.

    Repeats keep their rhythm from the first due time; repeats missed while
    the scheduler was down are not replayed one by one: the next counts from now.
    """
    following = keeper.add(due_at, every)
    return following if following > now else keeper.add(now, every)


def sign_for_deadline(
    policy: SlaPolicy, zone: ZoneInfo, category: str, urgency: Urgency, assigned_at: datetime
) -> datetime:
    """The moment by which the unit must sign for the task."""
    return plan_clock(policy, zone, Clock.SIGN_FOR, category, urgency, assigned_at).due_at


def extended(
    keeper: Timekeeper,
    deadline: datetime,
    *,
    extra: timedelta | None = None,
    until: datetime | None = None,
) -> tuple[datetime, timedelta]:
    """The deadline after an extension, and the counted time it adds (to move the rungs by).

    An extension says either how much more time (``extra``, counted the way
    the clock counts) or until when (``until``).
    """
    if until is not None:
        return until, keeper.between(deadline, until)
    if extra is None:
        raise ValueError("an extension needs extra or until")
    return keeper.add(deadline, extra), extra
