"""What the intake does with a citizen's request: it checks it, records it, and asks the
router for a unit, links it to the open ticket about the same thing, or closes it at once
when the call-taker answered it; each in one ledger transaction.

The ticket, its event and the outbox rows that announce it are written
together, or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.intake.refusals import Invalid
from hotline.intake.schemas import NewRequest
from hotline.shared.domain.events import EventType
from hotline.shared.domain.routing import Rules
from hotline.shared.domain.ticket import Action, State
from hotline.shared.ledger import history
from hotline.shared.ledger import requests as ledger_requests
from hotline.shared.ledger.outbox import Publisher, enqueue
from hotline.shared.ledger.schema import Ticket
from hotline.shared.ledger.tickets import move
from hotline.shared.messaging.names import requests_topic
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import top_category

#: The intake's relay publishes what its commands write.
RELAY = Publisher.INTAKE


def route_message(ticket: Ticket) -> dict[str, object]:
    """What the router is told: which ticket, at which attempt; it reads the rest from the ledger.

    Keeping the caller's name and phone off the stream keeps them off every
    broker that does not need them.
    """
    return {"ticket_id": ticket.id, "attempt": ticket.attempt, "district": ticket.district}


def ask_router(session: Session, ticket: Ticket, now: datetime) -> None:
    """Owe the ticket a routing decision at its current attempt (new, returned, reopened)."""
    enqueue(
        session,
        relay=RELAY,
        transport="kafka",
        target=requests_topic(ticket.district),
        key=ticket.id,
        message_id=f"{ticket.id}:{ticket.attempt}",
        payload=route_message(ticket),
        now=now,
    )


def check_request(rules: Rules, request: NewRequest) -> None:
    """Refuse what the schema cannot know is wrong: another district, an unknown category,
    an area code that is neither ours nor a peer district's (which would be transferred)."""
    config = rules.config
    if request.district != config.district:
        raise Invalid(("district",), f"this intake serves district {config.district!r}")
    if not config.category_known(request.category):
        raise Invalid(("category",), f"unknown category {request.category!r}")
    code = request.location.area_code
    areas = rules.areas
    if code is not None and config.areas and not (areas.known(code) or areas.peer_of_code(code)):
        raise Invalid(("location", "area_code"), f"unknown area code {code!r}")


@dataclass(frozen=True)
class Submitted:
    """The ticket for a request, and whether this call created it (not a repeat)."""

    ticket: Ticket
    created: bool


def submit(
    session: Session,
    rules: Rules,
    request: NewRequest,
    now: datetime,
    idempotency_key: str | None = None,
) -> Submitted:
    """Write a new ticket, its first event and its message to the router.

    A request posted again with the same idempotency key (a client that
    retried after a timeout, a peer district re-sending a transfer) gets
    the ticket the first call made.
    """
    check_request(rules, request)
    if idempotency_key is not None:
        earlier = ledger_requests.by_idempotency_key(session, idempotency_key)
        if earlier is not None:
            return Submitted(earlier, created=False)
    loc = request.location
    located = rules.areas.locate(loc.area_code, loc.lat, loc.lon)
    ticket = Ticket(
        id=str(uuid.uuid4()),
        district=request.district,
        channel=request.channel.value,
        caller_name=request.caller.name,
        caller_phone=request.caller.phone,
        area_code=loc.area_code,
        lat=loc.lat,
        lon=loc.lon,
        address=loc.address,
        category=request.category,
        description=request.description,
        urgency=request.urgency.value,
        state=State.RECEIVED,
        unit_id=None,
        attempt=0,
        escalation_level=0,
        created_at=now,
        updated_at=now,
        idempotency_key=idempotency_key,
        resolved_at_intake=False,
        place=rules.areas.community(located),
    )
    session.add(ticket)
    # The most specific area the request was located in, by its code or its map point:
    # what the notifier counts hot spots by, at whatever level a rule watches.
    received = {"area": located.area}
    history.record(session, ticket, EventType.RECEIVED, relay=RELAY, now=now, data=received)
    if request.resolved_at_intake:
        _resolve_at_intake(session, ticket, request.answer or "", now)
        return Submitted(ticket, created=True)
    window = rules.config.duplicates.window
    open_one = _open_ticket_about(session, ticket, now - window) if window else None
    if open_one is None:
        ask_router(session, ticket, now)
    else:
        _link(session, ticket, open_one, now)
    return Submitted(ticket, created=True)


def count_received(ticket: Ticket) -> None:
    """Count a new request, and a first-contact resolution besides (once it is committed)."""
    category = top_category(ticket.category)
    metrics.REQUESTS_RECEIVED.labels(
        ticket.district, category, ticket.channel, ticket.urgency
    ).inc()
    if ticket.resolved_at_intake:
        metrics.REQUESTS_RESOLVED_AT_INTAKE.labels(ticket.district, category, ticket.channel).inc()


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _open_ticket_about(session: Session, ticket: Ticket, since: datetime) -> Ticket | None:
    """The oldest open ticket of the same category and place since ``since``, preferring one
    from the same caller: the ticket a new request is linked to instead of being routed."""
    if ticket.place is None:
        return None
    candidates = ledger_requests.open_about(session, ticket, since)
    phone = _digits(ticket.caller_phone)
    same_caller = [t for t in candidates if _digits(t.caller_phone) == phone]
    found = same_caller or candidates
    return found[0] if found else None


def _link(session: Session, ticket: Ticket, open_one: Ticket, now: datetime) -> None:
    """Link a request to the open ticket about the same thing; it is shown there, not routed."""
    same = _digits(open_one.caller_phone) == _digits(ticket.caller_phone)
    kind = "duplicate" if same else "also-reported"
    ticket.duplicate_of = open_one.id
    ticket.link_kind = kind
    move(
        session, ticket, Action.LINK_DUPLICATE, EventType.LINKED_AS_DUPLICATE,
        relay=RELAY, now=now, data={"of": open_one.id, "kind": kind},
    )  # fmt: skip
    # Not a move: the open ticket stays where it is, and shows the report from now on.
    open_one.updated_at = now
    history.record(
        session, open_one, EventType.DUPLICATE_REPORTED, relay=RELAY, now=now,
        data={"ticket_id": ticket.id, "kind": kind},
    )  # fmt: skip


def _resolve_at_intake(session: Session, ticket: Ticket, answer: str, now: datetime) -> None:
    """First-contact resolution: the call-taker answered it; no unit is asked, no clock runs."""
    ticket.resolved_at_intake = True
    ticket.intake_answer = answer
    move(
        session, ticket, Action.RESOLVE_AT_INTAKE, EventType.RESOLVED_AT_INTAKE,
        relay=RELAY, now=now, data={"answer": answer},
    )  # fmt: skip
