"""What a dispatcher does with a ticket no rule could place: give it to a unit by hand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.schemas import Assign
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.ticket import State
from hotline.shared.ledger import dispatch, tickets
from hotline.shared.ledger.schema import Ticket


def assign_by_hand(
    session: Session, config: DistrictConfig, ticket_id: str, body: Assign, now: datetime
) -> Ticket:
    """A dispatcher gives a ticket waiting in manual triage to a unit.

    Only from triage, though the state machine would let a new or returned
    ticket be assigned too: those are the router's to place.
    """
    ticket = tickets.lock(session, ticket_id)
    if ticket.state is not State.TRIAGE:
        raise Conflict(
            f"only a ticket in triage is assigned by hand; this one is {ticket.state}", ticket.state
        )
    if config.unit(body.unit_id) is None:
        raise Invalid(("unit_id",), f"unknown unit {body.unit_id!r}")
    note = f": {body.note}" if body.note else ""
    by = body.dispatcher or "a dispatcher"
    why = dispatch.Why(f"manual: {by}", f"assigned by hand by {by}{note}")
    dispatch.assign(session, config, ticket, body.unit_id, why, now)
    return ticket
