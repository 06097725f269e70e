"""Escalation ladders: the steps that tell people when an SLA clock runs late, and whom."""

from __future__ import annotations

import itertools
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from hotline.shared.domain.config.fields import Duration, FileModel, OneOrManyOf


class Recipient(StrEnum):
    """Who an escalation step tells; the notification side resolves each to contacts.

    ``unit`` and ``unit-leader`` are the task's unit: its desk contacts and its leader
    contacts (all its contacts when it names none of that kind);
    ``supervisor-unit`` is the unit named as its ``supervisor``;
    ``supervision-group`` and ``district-leadership`` are the units named by
    ``sla.supervision_group`` and ``sla.leadership`` (or nobody in particular).
    """

    UNIT = "unit"
    UNIT_LEADER = "unit-leader"
    SUPERVISOR_UNIT = "supervisor-unit"
    SUPERVISION_GROUP = "supervision-group"
    DISTRICT_LEADERSHIP = "district-leadership"


def _fraction(value: Any) -> Any:
    """Let a file say ``at: 50%`` as well as ``at: 0.5``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"not a percentage: {value!r}") from None
    return value


Fraction = Annotated[
    float,
    BeforeValidator(_fraction),
    Field(gt=0, le=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"},
            ]
        }
    ),
]


class LadderStep(FileModel):
    """A rung of an escalation ladder.

    It falls due at a fraction of the clock's limit (``at: 50%``) or a time
    after the deadline (``after: 30m``), both counted the way the clock counts.
    ``repeat_every`` (last rung only) repeats it until the clock stops.
    """

    level: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=100)
    at: Fraction | None = None
    after: Duration | None = None
    tell: OneOrManyOf[Recipient] = Field(min_length=1)
    repeat_every: Duration | None = None

    @model_validator(mode="after")
    def _one_moment(self) -> LadderStep:
        if (self.at is None) == (self.after is None):
            raise ValueError(f"step {self.name!r} needs exactly one of at and after")
        if self.repeat_every is not None and self.repeat_every <= timedelta(0):
            raise ValueError(f"step {self.name!r}: repeat_every must be longer than 0s")
        return self


Ladder = tuple[LadderStep, ...]


def check_ladder(where: str, ladder: Ladder) -> None:
    """A ladder climbs: levels rise, moments come in order, only the last rung repeats."""
    for earlier, later in itertools.pairwise(ladder):
        if later.level <= earlier.level:
            raise ValueError(f"{where}: level {later.level} does not rise above {earlier.level}")
        if earlier.after is not None and later.at is not None:
            raise ValueError(
                f"{where}: step {later.name!r} at a fraction comes after a deadline step"
            )
        if (earlier.at or 0) > (later.at or 1) or (earlier.after or timedelta(0)) > (
            later.after or timedelta.max
        ):
            raise ValueError(f"{where}: step {later.name!r} falls due before {earlier.name!r}")
    if any(step.repeat_every is not None for step in ladder[:-1]):
        raise ValueError(f"{where}: only the last step may repeat")


def default_ladder() -> Ladder:
    """The ladder of a clock the file gives none: remind the desk halfway, then its leader."""
    return (
        LadderStep(level=1, name="remind-unit", at=0.5, tell=(Recipient.UNIT,)),
        LadderStep(level=2, name="unit-leader", after=timedelta(0), tell=(Recipient.UNIT_LEADER,)),
    )
