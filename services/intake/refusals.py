"""How the intake's commands refuse a call, for the API to answer in its own form.

A ticket that does not exist is the ledger's ``NotFound``, and a move the
state machine does not allow is the domain's ``IllegalMove``: the refusals
here are the ones only the intake knows.
"""

from __future__ import annotations

from hotline.shared.domain.ticket import State


class Invalid(Exception):
    """A request that is well-formed but names something the district does not know."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Conflict(Exception):
    """A call the ticket's state (or its current unit) does not allow, besides the state
    machine's own refusals."""

    def __init__(self, message: str, state: State) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
