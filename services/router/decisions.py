"""Deciding where waiting tickets go: a unit, manual triage or a peer district.

Idempotent by construction: a request message names the ticket and the
attempt it was sent for; once that attempt is decided, the ticket has moved
on and a redelivered copy changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.shared.domain.routing import Rules
from hotline.shared.domain.ticket import MAX_RETURNS
from hotline.shared.ledger import dispatch, routing
from hotline.shared.ledger.schema import Ticket


class BadMessage(Exception):
    """A request message the router cannot read; it is set aside, never retried forever."""


@dataclass(frozen=True)
class Outcome:
    """What the router did with a ticket, for metrics after commit."""

    ticket_id: str
    category: str
    urgency: str
    unit: str | None
    waited: timedelta
    transfer: bool = False


@dataclass(frozen=True)
class RouteCommand:
    """Decide the ticket at this attempt (the attempt the message was sent for)."""

    ticket_id: str
    attempt: int

    @classmethod
    def from_message(cls, value: Any) -> RouteCommand:
        """Read a request message from the stream, or raise BadMessage."""
        try:
            ticket_id, attempt = value["ticket_id"], value["attempt"]
        except (TypeError, KeyError) as exc:
            raise BadMessage(f"not a request message: {value!r:.200}") from exc
        if not isinstance(ticket_id, str) or not isinstance(attempt, int):
            raise BadMessage(f"bad ticket_id or attempt: {value!r:.200}")
        return cls(ticket_id, attempt)


def route(session: Session, rules: Rules, command: RouteCommand, now: datetime) -> Outcome | None:
    """Decide one ticket (see :func:`route_batch`); None when there was nothing to do."""
    outcomes = route_batch(session, rules, [command], now)
    return outcomes[0] if outcomes else None


def route_batch(
    session: Session, rules: Rules, commands: list[RouteCommand], now: datetime
) -> list[Outcome]:
    """Decide a batch of tickets in the caller's transaction; skip those already decided.

    The tickets are locked and read in one query (in id order, so two routers
    never deadlock) and written in one flush: the ledger's cost per ticket
    stays low when requests arrive in bursts.
    """
    wanted = {c.ticket_id: c.attempt for c in commands}
    tickets = routing.lock_batch(session, wanted)
    due = [t for t in tickets if t.attempt == wanted[t.id] and t.state in routing.AWAITING]
    if not due:
        return []
    returned = routing.returned_by(session, [t.id for t in due])
    load = routing.open_tasks(session) if rules.uses_load else {}
    outcomes = []
    with session.no_autoflush:
        for ticket in due:
            unit = _decide_one(session, rules, ticket, returned.get(ticket.id, []), load, now)
            waited, transfer = now - ticket.created_at, ticket.transfer_to is not None
            outcomes.append(
                Outcome(ticket.id, ticket.category, ticket.urgency, unit, waited, transfer)
            )
    return outcomes


def _decide_one(
    session: Session,
    rules: Rules,
    ticket: Ticket,
    returned_by: list[str],
    load: dict[str, int],
    now: datetime,
) -> str | None:
    """Act on the decision for one ticket; return the unit it went to, if any."""
    if len(returned_by) >= MAX_RETURNS:
        reason = f"returned {len(returned_by)} times (by {', '.join(returned_by)})"
        dispatch.send_to_triage(session, ticket, reason, now)
        return None
    decision = rules.decide(
        dispatch.route_request(ticket), now=now, excluded=returned_by, load=load
    )
    if decision.transfer_to is not None:
        dispatch.request_transfer(session, ticket, decision.transfer_to, decision.explain(), now)
        return None
    if decision.unit is None:
        dispatch.send_to_triage(session, ticket, decision.explain(), now)
        return None
    why = dispatch.Why(decision.rule, decision.explain(), decision.as_dict())
    dispatch.assign(session, rules.config, ticket, decision.unit, why, now, decision.observers)
    load[decision.unit] = load.get(decision.unit, 0) + 1
    return decision.unit


def stale(session: Session, older_than: datetime, limit: int = 500) -> list[RouteCommand]:
    """Tickets still waiting for the router since before ``older_than``.

    Their request message was lost (a broker that forgot it, a relay that died)
    or is very late; the ledger says they are owed a decision either way.
    """
    waiting = routing.waiting_since(session, older_than, limit)
    return [RouteCommand(ticket_id, attempt) for ticket_id, attempt in waiting]
