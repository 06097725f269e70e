"""The district file's ``sla``: the clocks' limits, how they count, and their ladders."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import Field, model_validator

from hotline.shared.domain.config.checks import Names, Problem
from hotline.shared.domain.config.escalation import Ladder, check_ladder, default_ladder
from hotline.shared.domain.config.fields import Duration, FileModel
from hotline.shared.domain.config.hours import WorkingTime
from hotline.shared.domain.ticket import Urgency


class Clock(StrEnum):
    """The three SLA clocks that run for every task a unit holds."""

    SIGN_FOR = "sign-for"
    FIRST_RESPONSE = "first-response"
    RESOLUTION = "resolution"


class Counting(StrEnum):
    """How a clock counts: every second, or only the district's working time."""

    AROUND_THE_CLOCK = "around-the-clock"
    WORKING_TIME = "working-time"


Limits = dict[Urgency, Duration]


class SlaOverride(FileModel):
    """What differs for one category and everything under it (most specific wins)."""

    category: str
    limits: dict[Clock, Limits] = {}
    counting: dict[Clock, Counting] = {}
    ladders: dict[Clock, Ladder] = {}


class SlaPolicy(FileModel):
    """Limits, counting and escalation ladders for the three clocks.

    ``limits`` and ``ladders`` here are the district default; ``categories``
    override any part of them for a category and its sub-categories.
    """

    limits: dict[Clock, Limits] = {
        Clock.SIGN_FOR: {
            Urgency.NORMAL: timedelta(hours=2),
            Urgency.URGENT: timedelta(minutes=30),
            Urgency.CRITICAL: timedelta(minutes=10),
        },
        Clock.FIRST_RESPONSE: {
            Urgency.NORMAL: timedelta(hours=4),
            Urgency.URGENT: timedelta(hours=1),
            Urgency.CRITICAL: timedelta(minutes=30),
        },
        Clock.RESOLUTION: {
            Urgency.NORMAL: timedelta(hours=24),
            Urgency.URGENT: timedelta(hours=8),
            Urgency.CRITICAL: timedelta(hours=2),
        },
    }
    counting: dict[Clock, Counting] = {}
    ladders: dict[Clock, Ladder] = {clock: default_ladder() for clock in Clock}
    categories: tuple[SlaOverride, ...] = ()
    working_time: WorkingTime = WorkingTime()
    supervision_group: str | None = Field(
        default=None, description="unit id of the supervision group"
    )
    leadership: str | None = Field(default=None, description="unit id of the district leadership")

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        for clock in Clock:
            missing = [u.value for u in Urgency if u not in self.limits.get(clock, {})]
            if missing:
                raise ValueError(f"sla.limits.{clock} has no limit for {', '.join(missing)}")
            if not self.ladders.get(clock):
                raise ValueError(f"sla.ladders.{clock} needs at least one step")
        for clock, ladder in self.ladders.items():
            check_ladder(f"sla.ladders.{clock}", ladder)
        for override in self.categories:
            for clock, ladder in override.ladders.items():
                check_ladder(f"sla.categories {override.category!r} ladders.{clock}", ladder)
        return self

    def _overrides(self, category: str) -> list[SlaOverride]:
        """The overrides that apply to ``category``, most specific first."""
        fits = [
            o
            for o in self.categories
            if category == o.category or category.startswith(f"{o.category}.")
        ]
        return sorted(fits, key=lambda o: -len(o.category))

    def limit(self, clock: Clock, category: str, urgency: Urgency) -> timedelta:
        """The clock's limit for a task of this category and urgency."""
        for override in self._overrides(category):
            if urgency in override.limits.get(clock, {}):
                return override.limits[clock][urgency]
        return self.limits[clock][urgency]

    def counting_of(self, clock: Clock, category: str) -> Counting:
        """Whether the clock counts every second or working time only, for this category."""
        for override in self._overrides(category):
            if clock in override.counting:
                return override.counting[clock]
        return self.counting.get(clock, Counting.AROUND_THE_CLOCK)

    def ladder(self, clock: Clock, category: str) -> Ladder:
        """The escalation ladder of the clock, for this category."""
        for override in self._overrides(category):
            if clock in override.ladders:
                return override.ladders[clock]
        return self.ladders[clock]


def sla_problems(sla: SlaPolicy, names: Names) -> list[Problem]:
    """Each category override that repeats or names no category, and each unknown unit named."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, override in enumerate(sla.categories):
        loc = ("sla", "categories", index, "category")
        if override.category in seen:
            problems.append((loc, f"sla override for {override.category!r} appears twice"))
        seen.add(override.category)
        problems += names.unknown_categories(loc, "sla override", (override.category,))
    for setting in ("supervision_group", "leadership"):
        unit_id = getattr(sla, setting)
        if unit_id is not None and unit_id not in names.units:
            problems.append((("sla", setting), f"sla.{setting} names unknown unit {unit_id!r}"))
    return problems
