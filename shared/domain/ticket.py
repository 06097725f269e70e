"""The ticket and the moves its state machine allows.

A ticket is a citizen's request from the moment a call-taker records it until
the unit that handled it reports a result. The state machine is the one place
that says which move is legal from which state, so that the API, the router and
the notifier cannot disagree about it.
"""

from __future__ import annotations

from enum import StrEnum


class Urgency(StrEnum):
    """How fast the district promised to act; it picks the SLA limits."""

    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class Channel(StrEnum):
    """How the request reached the hotline."""

    PHONE = "phone"
    WEB = "web"
    APP = "app"
    SMS = "sms"
    EMAIL = "email"
    WALK_IN = "walk-in"
    OPEN311 = "open311"


class State(StrEnum):
    """Where a ticket stands.

    ``returned`` means a unit handed the task back and the router owes it a new
    unit; ``triage`` means no rule (or no remaining unit) fits and a dispatcher
    must assign it by hand; ``transfer-pending`` means the request belongs to
    another district whose intake has not yet confirmed it; ``transferred``
    means that district has it now; ``reopened`` means the citizen was
    dissatisfied with the result and the router owes it a unit again;
    ``duplicate`` means it was linked to an open ticket about the same thing
    and is not routed on its own.
    """

    RECEIVED = "received"
    ASSIGNED = "assigned"
    SIGNED_FOR = "signed-for"
    RETURNED = "returned"
    TRIAGE = "triage"
    TRANSFER_PENDING = "transfer-pending"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"


class Action(StrEnum):
    """A move on a ticket, named for what its actor does."""

    ASSIGN = "assign"
    SEND_TO_TRIAGE = "send-to-triage"
    SIGN_FOR = "sign-for"
    RETURN = "return"
    RESOLVE = "resolve"
    TRANSFER = "transfer"
    CONFIRM_TRANSFER = "confirm-transfer"
    REPORT_PROGRESS = "report-progress"
    RECORD_FEEDBACK = "record-feedback"
    REOPEN = "reopen"
    RESOLVE_AT_INTAKE = "resolve-at-intake"
    LINK_DUPLICATE = "link-duplicate"


_MOVES: dict[tuple[State, Action], State] = {
    (State.RECEIVED, Action.ASSIGN): State.ASSIGNED,
    (State.RECEIVED, Action.RESOLVE_AT_INTAKE): State.RESOLVED,
    (State.RECEIVED, Action.LINK_DUPLICATE): State.DUPLICATE,
    (State.RECEIVED, Action.SEND_TO_TRIAGE): State.TRIAGE,
    (State.RETURNED, Action.ASSIGN): State.ASSIGNED,
    (State.RETURNED, Action.SEND_TO_TRIAGE): State.TRIAGE,
    (State.TRIAGE, Action.ASSIGN): State.ASSIGNED,
    (State.RECEIVED, Action.TRANSFER): State.TRANSFER_PENDING,
    (State.RETURNED, Action.TRANSFER): State.TRANSFER_PENDING,
    (State.TRIAGE, Action.TRANSFER): State.TRANSFER_PENDING,
    (State.TRANSFER_PENDING, Action.CONFIRM_TRANSFER): State.TRANSFERRED,
    (State.TRANSFER_PENDING, Action.SEND_TO_TRIAGE): State.TRIAGE,
    (State.ASSIGNED, Action.SIGN_FOR): State.SIGNED_FOR,
    (State.ASSIGNED, Action.RETURN): State.RETURNED,
    (State.SIGNED_FOR, Action.RETURN): State.RETURNED,
    (State.SIGNED_FOR, Action.RESOLVE): State.RESOLVED,
    (State.SIGNED_FOR, Action.REPORT_PROGRESS): State.SIGNED_FOR,
    # The feedback group tells the citizen the result; a dissatisfied one may reopen it,
    # and the router routes it again (a new attempt, fresh clocks).
    (State.RESOLVED, Action.RECORD_FEEDBACK): State.RESOLVED,
    (State.RESOLVED, Action.REOPEN): State.REOPENED,
    (State.REOPENED, Action.ASSIGN): State.ASSIGNED,
    (State.REOPENED, Action.SEND_TO_TRIAGE): State.TRIAGE,
    (State.REOPENED, Action.TRANSFER): State.TRANSFER_PENDING,
}

#: States a ticket never leaves: nothing more is done on it.
CLOSED = frozenset({State.RESOLVED, State.TRANSFERRED, State.DUPLICATE})

#: States in which a unit holds the task and its clocks run.
WITH_UNIT = frozenset({State.ASSIGNED, State.SIGNED_FOR})

#: How many times a task may be handed back before a person must look at it.
MAX_RETURNS = 2


class IllegalMove(Exception):
    """A move the state machine does not allow from the ticket's current state."""

    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"cannot {action.value} a ticket that is {state.value}")
        self.state = state
        self.action = action


def next_state(state: State, action: Action) -> State:
    """Return the state after ``action``, or raise :class:`IllegalMove`."""
    try:
        return _MOVES[(state, action)]
    except KeyError:
        raise IllegalMove(state, action) from None


def is_legal(state: State, action: Action) -> bool:
    """Say whether ``action`` may be taken from ``state``."""
    return (state, action) in _MOVES
