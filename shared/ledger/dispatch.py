"""Giving a ticket to a unit, to manual triage, or to another district, in the ledger.

The router does it by its rules and a dispatcher by hand through the API;
both write the same rows: the assignment with its SLA deadlines, the event,
and the outbox rows that deliver the task. The router's relay publishes the
AMQP rows whoever wrote them, so they are enqueued under its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.shared.domain.config import Clock, DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.privacy import mask_caller
from hotline.shared.domain.routing import RouteRequest
from hotline.shared.domain.ticket import Action, Channel, Urgency
from hotline.shared.ledger import clocks, history
from hotline.shared.ledger.held_rows import hold
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Assignment, Ticket
from hotline.shared.ledger.tickets import move
from hotline.shared.messaging.names import TRIAGE_ROUTING_KEY, unit_routing_key

#: The relay that publishes tasks, copies and triage items to AMQP.
RELAY = Publisher.ROUTER


@dataclass(frozen=True)
class Why:
    """Why a ticket goes where it goes: the rule, a one-line explanation, the whole decision."""

    rule: str
    explanation: str
    decision: dict[str, Any] | None = None


def ticket_message(ticket: Ticket) -> dict[str, Any]:
    """What a unit or a dispatcher needs to act on a ticket without another lookup."""
    return {
        "ticket_id": ticket.id,
        "attempt": ticket.attempt,
        "district": ticket.district,
        "channel": ticket.channel,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "description": ticket.description,
        "caller": {"name": ticket.caller_name, "phone": ticket.caller_phone},
        "location": {
            "area_code": ticket.area_code,
            "lat": ticket.lat,
            "lon": ticket.lon,
            "address": ticket.address,
        },
        "created_at": ticket.created_at.isoformat(),
    }


def route_request(ticket: Ticket) -> RouteRequest:
    """The parts of a ticket the rules look at."""
    return RouteRequest(
        category=ticket.category,
        urgency=Urgency(ticket.urgency),
        channel=Channel(ticket.channel),
        area_code=ticket.area_code,
        lat=ticket.lat,
        lon=ticket.lon,
    )


def for_unit(
    config: DistrictConfig, message: dict[str, Any], unit_id: str, *, handling: bool
) -> dict[str, Any]:
    """The message as a unit may see it: the caller masked unless its ``caller_details`` allow."""
    if config.sees_caller(unit_id, handling):
        return message
    return message | {"caller": mask_caller(message["caller"]), "caller_masked": True}


def assign(
    session: Session,
    config: DistrictConfig,
    ticket: Ticket,
    unit_id: str,
    why: Why,
    now: datetime,
    observers: tuple[str, ...] = (),
) -> None:
    """Give the ticket to ``unit_id`` at a new attempt, start its clocks, deliver the task.

    ``observers`` get a copy marked as such; they owe nothing and no clock runs for them.
    """
    ticket.attempt += 1
    ticket.unit_id = unit_id
    ticket.escalation_level = 0
    assignment = {
        "ticket_id": ticket.id,
        "attempt": ticket.attempt,
        "unit_id": unit_id,
        "rule": why.rule,
        "explanation": why.explanation,
        "decision": why.decision,
        "assigned_at": now,
    }
    hold(session, Assignment, assignment)
    plans = {plan.clock: plan for plan in clocks.start(session, config, ticket, unit_id, now)}
    deadline = plans[Clock.SIGN_FOR].due_at
    data = {
        "rule": why.rule,
        "explanation": why.explanation,
        "sign_for_by": deadline.isoformat(),
        "respond_by": plans[Clock.FIRST_RESPONSE].due_at.isoformat(),
        "resolve_by": plans[Clock.RESOLUTION].due_at.isoformat(),
    }
    # The move comes once the attempt and its deadlines are known: the event carries both.
    move(
        session, ticket, Action.ASSIGN, EventType.ASSIGNED,
        relay=RELAY, now=now, unit_id=unit_id, data=data,
    )  # fmt: skip
    task = for_unit(config, ticket_message(ticket), unit_id, handling=True) | {
        "unit_id": unit_id,
        "role": "handler",
        "assigned_at": now.isoformat(),
        "sign_for_by": deadline.isoformat(),
        "respond_by": data["respond_by"],
        "resolve_by": data["resolve_by"],
        "rule": why.rule,
    }
    _deliver(session, ticket, unit_routing_key(unit_id), f"{ticket.id}:{ticket.attempt}", task, now)
    for observer in observers:
        copy = for_unit(config, ticket_message(ticket), observer, handling=False) | {
            "unit_id": observer,
            "role": "observer",
            "handled_by": unit_id,
            "rule": why.rule,
        }
        message_id = f"{ticket.id}:{ticket.attempt}:copy:{observer}"
        _deliver(session, ticket, unit_routing_key(observer), message_id, copy, now)
        history.record(session, ticket, EventType.OBSERVED, relay=RELAY, now=now, unit_id=observer)


def send_to_triage(session: Session, ticket: Ticket, reason: str, now: datetime) -> None:
    """Put the ticket in the district's manual-triage queue, where a dispatcher assigns it."""
    ticket.unit_id = None
    move(
        session, ticket, Action.SEND_TO_TRIAGE, EventType.SENT_TO_TRIAGE,
        relay=RELAY, now=now, data={"reason": reason},
    )  # fmt: skip
    item = ticket_message(ticket) | {"reason": reason}
    message_id = f"{ticket.id}:triage:{now.isoformat()}"
    _deliver(session, ticket, TRIAGE_ROUTING_KEY, message_id, item, now)


def request_transfer(session: Session, ticket: Ticket, peer: str, why: str, now: datetime) -> None:
    """Mark the ticket as owed to district ``peer``; the router's transfer loop delivers it."""
    ticket.unit_id = None
    ticket.transfer_to = peer
    move(
        session, ticket, Action.TRANSFER, EventType.TRANSFER_REQUESTED,
        relay=RELAY, now=now, data={"district": peer, "explanation": why},
    )  # fmt: skip


def confirm_transfer(session: Session, ticket: Ticket, peer_ticket_id: str, now: datetime) -> None:
    """The peer district's intake has the request: the ticket is closed here."""
    ticket.peer_ticket_id = peer_ticket_id
    move(
        session, ticket, Action.CONFIRM_TRANSFER, EventType.TRANSFERRED,
        relay=RELAY, now=now,
        data={"district": ticket.transfer_to, "peer_ticket_id": peer_ticket_id},
    )  # fmt: skip


def _deliver(
    session: Session,
    ticket: Ticket,
    routing_key: str,
    message_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    enqueue(
        session,
        relay=RELAY,
        transport="amqp",
        target=routing_key,
        key=ticket.id,
        message_id=message_id,
        payload=payload,
        now=now,
    )
