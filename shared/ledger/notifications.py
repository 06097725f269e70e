"""Who is told, written as notifications in the transaction of the event that causes them.

One notification per contact: an escalation step tells the contacts of the
units its roles stand for, a resolved ticket tells the caller. Each row is an
outbox row with a unique dedup key, so a step fired again or a restart adds
nothing; the notifier's relay delivers them (AMQP gateways, webhooks, e-mail).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.shared.domain.config import EMAIL, WEBHOOK, Contact, DistrictConfig, Recipient
from hotline.shared.ledger.outbox import Publisher, Transport, enqueue_once
from hotline.shared.ledger.schema import Ticket
from hotline.shared.messaging.names import notify_routing_key

#: The relay that delivers every notification, whoever wrote it: the notifier's.
RELAY = Publisher.NOTIFIER


def route(contact: Contact) -> tuple[Transport, str]:
    """The outbox transport and target that reach a contact."""
    if contact.channel == WEBHOOK:
        return "webhook", contact.address
    if contact.channel == EMAIL:
        return "smtp", contact.address
    return "amqp", notify_routing_key(contact.channel)


def unreachable(config: DistrictConfig, transports: set[str]) -> str | None:
    """Name the contacts no sender can reach (a webhook with no secret, e-mail with no server).

    Their notifications would only be dead-lettered after every retry; the
    health check says so at start instead, so the IT team hears it first.
    """
    missing: dict[str, list[str]] = {}
    for unit in config.units:
        for contact in unit.contacts:
            transport, _ = route(contact)
            if transport != "amqp" and transport not in transports:
                missing.setdefault(transport, []).append(unit.id)
    if not missing:
        return None
    needs = {"webhook": "HOTLINE_WEBHOOK_SECRET", "smtp": "HOTLINE_SMTP_URL"}
    return "; ".join(
        f"{needs[t]} is not set: the {t} contacts of {', '.join(sorted(set(units)))} get nothing"
        for t, units in sorted(missing.items())
    )


def _contact_key(contact: Contact) -> str:
    """A short, stable name for a contact in a dedup key (the address may be a long URL)."""
    digest = hashlib.sha256(f"{contact.channel}\n{contact.address}".encode()).hexdigest()
    return f"{contact.channel}:{digest[:16]}"


def _notify(
    session: Session,
    key: str,
    contact: Contact,
    dedup_key: str,
    message: dict[str, Any],
    now: datetime,
) -> bool:
    transport, target = route(contact)
    payload = message | {
        "notification_id": dedup_key,
        "channel": contact.channel,
        "address": contact.address,
    }
    return enqueue_once(
        session, relay=RELAY, transport=transport, target=target, key=key,
        dedup_key=dedup_key, payload=payload, now=now,
    )  # fmt: skip


def tell_escalation(
    session: Session, config: DistrictConfig, ticket: Ticket, message: dict[str, Any]
) -> int:
    """Enqueue the escalation ``message`` to the contacts its ``told`` roles reach.

    Each role reaches contacts of its unit as ``Unit.contacts_for`` says (``unit`` the
    desk, ``unit-leader`` the leader). A contact reached by several roles is told
    once, with all of them; a role with no unit in the district file tells nobody.
    Returns how many were added.
    """
    step = ":".join(str(message[k]) for k in ("attempt", "clock", "level", "repeat"))
    reached: dict[str, tuple[str, Contact, list[str]]] = {}
    for told in message["told"]:
        unit = config.unit(told["unit_id"]) if told.get("unit_id") is not None else None
        for contact in unit.contacts_for(Recipient(told["role"])) if unit is not None else ():
            key = f"{ticket.id}:{step}:{_contact_key(contact)}"
            reached.setdefault(key, (told["unit_id"], contact, []))[2].append(told["role"])
    now = datetime.fromisoformat(message["fired_at"])
    added = 0
    for key, (unit_id, contact, roles) in reached.items():
        body = message | {"kind": "escalation", "to_unit": unit_id, "roles": roles}
        added += _notify(session, ticket.id, contact, key, body, now)
    return added


def tell_citizen(
    session: Session, config: DistrictConfig, ticket: Ticket, result: str, now: datetime
) -> bool:
    """Enqueue the caller's "your request is resolved" message, once per attempt."""
    contact = Contact(channel=config.notifications.citizen_channel, address=ticket.caller_phone)
    message = {
        "kind": "resolved",
        "ticket_id": ticket.id,
        "district": ticket.district,
        "attempt": ticket.attempt,
        "unit_id": ticket.unit_id,
        "category": ticket.category,
        "caller_name": ticket.caller_name,
        "result": result,
        "resolved_at": now.isoformat(),
    }
    key = f"{ticket.id}:resolved:{ticket.attempt}"
    return _notify(session, ticket.id, contact, key, message, now)


def tell_supervision_group(
    session: Session, config: DistrictConfig, message: dict[str, Any], dedup_key: str
) -> int:
    """Enqueue a district-wide warning (a hot spot) to every contact of the supervision group."""
    group = config.unit(config.sla.supervision_group) if config.sla.supervision_group else None
    now = datetime.fromisoformat(message["at"])
    added = 0
    for contact in group.contacts if group is not None else ():
        key = f"{dedup_key}:{_contact_key(contact)}"
        added += _notify(session, config.district, contact, key, message, now)
    return added
