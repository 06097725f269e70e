"""The intake API's request and response bodies.

Field limits are checked here, at the edge, so a malformed request is refused
with the field and the reason before anything touches the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.intake.sla_schemas import SlaOut
from hotline.shared.domain.ticket import Channel, State, Urgency


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Caller(_Body):
    """Who called, so the unit can call back."""

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^\+?[0-9][0-9 ()-]*$")


class Location(_Body):
    """Where help is needed: an area code, a map point, or both; the address is for people."""

    area_code: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Za-z]+$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _somewhere(self) -> Location:
        """A request nobody can place cannot be routed."""
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.area_code is None and self.lat is None:
            raise ValueError("give an area_code or lat and lon")
        return self


class NewRequest(_Body):
    """A request as a call-taker records it."""

    district: str = Field(min_length=1, max_length=64)
    channel: Channel = Channel.PHONE
    caller: Caller
    location: Location
    category: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=5000)
    urgency: Urgency = Urgency.NORMAL
    resolved_at_intake: bool = Field(
        default=False,
        description="answered on the spot by the call-taker: recorded, counted, never routed",
    )
    answer: str | None = Field(
        default=None, max_length=5000, description="what the citizen was told on the spot"
    )

    @model_validator(mode="after")
    def _answered(self) -> NewRequest:
        """An answer belongs to a request resolved at intake, and such a request has one."""
        if self.resolved_at_intake and not self.answer:
            raise ValueError("answer: say what the citizen was told when resolved_at_intake")
        if self.answer and not self.resolved_at_intake:
            raise ValueError("answer is given only with resolved_at_intake: true")
        return self


#: A unit's token acts for its own unit and may leave ``unit_id`` out; staff name the unit.
_UNIT_ID = Field(
    default=None,
    min_length=1,
    max_length=64,
    description="the acting unit; a unit's own token may leave it out",
)


class SignFor(_Body):
    """A unit signs for the task it was given."""

    unit_id: str | None = _UNIT_ID


class Progress(_Body):
    """A unit says how far it has got with a task it signed for."""

    unit_id: str | None = _UNIT_ID
    note: str = Field(min_length=1, max_length=5000)


class Resolve(_Body):
    """A unit finishes a task with the result the citizen will be told."""

    unit_id: str | None = _UNIT_ID
    result: str = Field(min_length=1, max_length=5000)


class Return(_Body):
    """A unit hands back a task that is not its own, saying why."""

    unit_id: str | None = _UNIT_ID
    reason: str = Field(min_length=1, max_length=2000)


class Assign(_Body):
    """A dispatcher's assignment of a ticket waiting in manual triage."""

    unit_id: str = Field(min_length=1, max_length=64)
    dispatcher: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="who decided (default: the name the token was made for)",
    )
    note: str | None = Field(default=None, max_length=2000)


class Created(BaseModel):
    """The answer to a new request: the id the citizen is given."""

    id: str
    state: State
    duplicate_of: str | None = Field(
        default=None, description="the open ticket this request was linked to, not routed"
    )


class EventOut(BaseModel):
    """One line of a ticket's history."""

    type: str
    at: datetime
    attempt: int
    unit_id: str | None
    data: dict[str, object]


class AssignmentOut(BaseModel):
    """A task given to a unit, with the rule that chose it."""

    attempt: int
    unit_id: str
    rule: str
    explanation: str
    decision: dict[str, object] | None = Field(
        default=None, description="the routing decision: areas, every rule tried and why"
    )
    assigned_at: datetime
    signed_for_at: datetime | None
    returned_at: datetime | None
    return_reason: str | None
    resolved_at: datetime | None
    result: str | None


class TaskOut(BaseModel):
    """A ticket in a list: enough to pick it and act on it."""

    id: str
    state: State
    category: str
    urgency: str
    description: str
    area_code: str | None
    address: str | None
    caller: Caller
    unit_id: str | None
    attempt: int
    escalation_level: int
    created_at: datetime
    updated_at: datetime


class TicketOut(BaseModel):
    """A ticket as the API shows it."""

    id: str
    district: str
    state: State
    channel: str
    category: str
    urgency: str
    description: str
    area_code: str | None
    lat: float | None
    lon: float | None
    address: str | None
    caller: Caller
    unit_id: str | None
    escalation_level: int
    transfer_to: str | None = None
    peer_ticket_id: str | None = None
    resolved_at_intake: bool = False
    intake_answer: str | None = None
    duplicate_of: str | None = Field(
        default=None, description="the open ticket this one is linked to (see link_kind)"
    )
    link_kind: str | None = Field(
        default=None, description="duplicate (same caller again) or also-reported (someone else)"
    )
    duplicates: list[str] = Field(
        default_factory=list, description="requests by the same caller linked to this ticket"
    )
    also_reported_by: int = Field(
        default=0, description="how many other people reported the same thing"
    )
    created_at: datetime
    updated_at: datetime
    assignment: AssignmentOut | None
    assignments: list[AssignmentOut]
    events: list[EventOut]
    sla: SlaOut | None = Field(default=None, description="end-to-end and current SLA clocks")


class Problem(BaseModel):
    """Why a call was refused: no token (401), a role that may not (403), no such ticket (404)."""

    detail: str


class StateConflict(BaseModel):
    """A move the ticket's state does not allow, with the state it is in (409)."""

    detail: str
    state: State


class FieldError(BaseModel):
    """One bad field: where it is, what is wrong, and the kind of error."""

    loc: list[str | int]
    msg: str
    type: str


class Invalid(BaseModel):
    """A request that names a bad field, each with its place and reason (422)."""

    detail: list[FieldError]


#: The refusals every route of the native API may answer, for its OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body is not JSON"},
    401: {"model": Problem, "description": "no token, or an unknown one"},
    403: {"model": Problem, "description": "the token's role may not do this"},
    404: {"model": Problem, "description": "no such ticket"},
    409: {"model": StateConflict, "description": "the ticket's state does not allow this"},
    422: {"model": Invalid, "description": "a field is missing or wrong"},
}
