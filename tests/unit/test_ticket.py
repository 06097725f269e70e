"""The ticket state machine: every legal move, and the illegal ones the API must refuse."""

import pytest

from hotline.shared.domain.ticket import Action, IllegalMove, State, is_legal, next_state


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (State.RECEIVED, Action.ASSIGN, State.ASSIGNED),
        (State.RECEIVED, Action.SEND_TO_TRIAGE, State.TRIAGE),
        (State.ASSIGNED, Action.SIGN_FOR, State.SIGNED_FOR),
        (State.ASSIGNED, Action.RETURN, State.RETURNED),
        (State.SIGNED_FOR, Action.RESOLVE, State.RESOLVED),
        (State.SIGNED_FOR, Action.RETURN, State.RETURNED),
        (State.RETURNED, Action.ASSIGN, State.ASSIGNED),
        (State.TRIAGE, Action.ASSIGN, State.ASSIGNED),
        (State.RESOLVED, Action.RECORD_FEEDBACK, State.RESOLVED),
        (State.RESOLVED, Action.REOPEN, State.REOPENED),
        (State.REOPENED, Action.ASSIGN, State.ASSIGNED),
    ],
)
def test_legal_moves(state: State, action: Action, after: State) -> None:
    assert next_state(state, action) is after


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.ASSIGNED, Action.RESOLVE),  # never signed for
        (State.RESOLVED, Action.SIGN_FOR),  # closed
        (State.RESOLVED, Action.RETURN),
        (State.RECEIVED, Action.SIGN_FOR),  # nobody holds it yet
        (State.SIGNED_FOR, Action.SIGN_FOR),
        (State.SIGNED_FOR, Action.RECORD_FEEDBACK),  # not resolved yet
        (State.SIGNED_FOR, Action.REOPEN),
        (State.REOPENED, Action.RECORD_FEEDBACK),
        (State.ASSIGNED, Action.RESOLVE_AT_INTAKE),  # a unit has it: too late for the call-taker
        (State.DUPLICATE, Action.ASSIGN),  # a linked duplicate is never routed
    ],
)
def test_illegal_moves_name_the_state(state: State, action: Action) -> None:
    assert not is_legal(state, action)
    with pytest.raises(IllegalMove) as caught:
        next_state(state, action)
    assert caught.value.state is state
    assert state.value in str(caught.value)


def test_resolved_only_takes_feedback_or_reopens() -> None:
    legal = {a for a in Action if is_legal(State.RESOLVED, a)}
    assert legal == {Action.RECORD_FEEDBACK, Action.REOPEN}
