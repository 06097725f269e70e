"""The bodies of the SLA routes: progress, extensions, and a ticket's clocks as shown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hotline.shared.domain.durations import parse_duration


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Progress(_Body):
    """A unit reports progress, or that it contacted the citizen: the first one is its response.

    ``unit_id`` may be left out by a unit's token (it acts for its own unit).
    """

    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    note: str = Field(min_length=1, max_length=5000)


class ExtensionAsked(_Body):
    """A unit asks for more time to resolve its task: ``extra`` (``2h``, ``1d``) or ``until``.

    ``unit_id`` may be left out by a unit's token (it acts for its own unit).
    """

    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    extra: Annotated[timedelta, BeforeValidator(parse_duration)] | None = Field(
        default=None, description="more time, counted as the resolution clock counts: 2h, 1d, 90m"
    )
    until: datetime | None = Field(default=None, description="the new deadline, with its offset")

    @model_validator(mode="after")
    def _one_of(self) -> ExtensionAsked:
        if (self.extra is None) == (self.until is None):
            raise ValueError("give exactly one of extra and until")
        if self.extra is not None and self.extra <= timedelta(0):
            raise ValueError("extra must be longer than 0s")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("until needs a UTC offset, e.g. 2026-11-24T18:00:00+08:00")
        return self


class ExtensionDecided(_Body):
    """The district's answer to an extension request, and who gave it.

    ``by`` may be left out: the history then names the supervisor the token was made for,
    as feedback and a dispatcher's assignment do, so no decision is recorded as nobody's.
    """

    by: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the supervisor who decided (default: the name the token was made for)",
    )
    note: str | None = Field(default=None, max_length=2000)


class ExtensionOut(BaseModel):
    """An extension request and what became of it."""

    id: int
    ticket_id: str
    attempt: int
    unit_id: str
    clock: str
    reason: str
    extra_seconds: float | None
    until: datetime | None
    state: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    old_due_at: datetime | None
    new_due_at: datetime | None


class ClockOut(BaseModel):
    """One SLA clock of a task."""

    clock: str
    attempt: int
    unit_id: str
    counting: str
    started_at: datetime
    limit_seconds: float
    due_at: datetime
    stopped_at: datetime | None
    outcome: str | None = Field(description="met, missed, or null while it runs or if abandoned")


class EndToEndOut(BaseModel):
    """The ticket's own clock: from intake to its result, whatever unit holds it."""

    started_at: datetime
    stopped_at: datetime | None
    elapsed_seconds: float


class SlaOut(BaseModel):
    """Where a ticket stands against its SLA."""

    end_to_end: EndToEndOut
    escalation_level: int
    clocks: list[ClockOut] = Field(description="the clocks of the current task (attempt)")
    extensions: list[ExtensionOut]
