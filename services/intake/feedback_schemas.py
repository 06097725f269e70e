"""The bodies of the feedback group's routes: a citizen's satisfaction, a ticket's notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Satisfaction(StrEnum):
    """What the citizen said of the result."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically-satisfied"
    DISSATISFIED = "dissatisfied"


class Feedback(BaseModel):
    """The feedback group records what the citizen said; ``reopen`` left out follows the district.

    By default (``notifications.reopen_on_dissatisfied`` in the district file)
    a dissatisfied result reopens the ticket and the router routes it again.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    result: Satisfaction
    comment: str = Field(default="", max_length=5000)
    reopen: bool | None = Field(
        default=None, description="send the ticket back to routing (dissatisfied only)"
    )
    by: str | None = Field(default=None, max_length=100, description="who recorded it")


class FeedbackOut(BaseModel):
    """Feedback as recorded, and whether it reopened the ticket."""

    ticket_id: str
    attempt: int = Field(description="the attempt (task) whose result the citizen judged")
    result: Satisfaction
    comment: str
    reopened: bool
    by: str | None
    at: datetime


class NotificationOut(BaseModel):
    """One notification of a ticket and how its delivery went."""

    id: str = Field(description="its dedup key: ticket, attempt, clock, level, repeat, contact")
    kind: str = Field(description="escalation or resolved")
    channel: str
    address: str
    transport: str = Field(description="amqp (a gateway), webhook or smtp")
    tries: int
    created_at: datetime
    sent_at: datetime | None
    dead_lettered_at: datetime | None = Field(description="set once it was refused too often")
    last_error: str | None
