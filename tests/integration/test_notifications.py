"""Notification delivery on the real engines: escalation steps told to each unit's contacts
through the machine's RabbitMQ (a gateway's ``notify.<channel>`` queue), a real HTTP
receiver that checks the HMAC signature, and a real SMTP server; retries with backoff,
dead-lettering after the limit, and deduplication across a re-fire and a relay restart."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select

from hotline.intake.requests import submit
from hotline.intake.schemas import NewRequest, Resolve, SignFor
from hotline.intake.unit_tasks import resolve, sign_for
from hotline.notifier.escalations import fire_due
from hotline.router.decisions import RouteCommand, route
from hotline.shared.configuration.file import EXAMPLE, load_config
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.routing import Rules
from hotline.shared.ledger import notifications
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import Event, OutboxMessage, Ticket
from hotline.shared.messaging.amqp import AmqpPublisher, connect, drain_queue, notify_queue
from hotline.shared.messaging.delivery import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    SmtpSender,
    SmtpSettings,
    WebhookSender,
    verify,
)
from hotline.shared.messaging.relay import Relay
from tests.harness import AMQP_URL

SECRET = "test-secret-not-for-production"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
UNIT = "friendship-street"
FAST = RetryPolicy(
    max_tries=3, first_backoff=timedelta(milliseconds=300), max_backoff=timedelta(seconds=1)
)


@dataclass
class Receiver:
    """An HTTP server in a thread: it refuses the first ``fail_first`` POSTs of each
    notification (every one when ``always_fail``), and checks each signature."""

    fail_first: int = 0
    always_fail: bool = False
    hits: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                signed = verify(SECRET, body, self.headers.get(SIGNATURE_HEADER, ""))
                if not signed:
                    receiver.bad_signatures += 1
                payload = json.loads(body)
                assert self.headers[TIMESTAMP_HEADER] == payload["sent_at"]
                key = self.headers[ID_HEADER]
                seen = sum(1 for h in receiver.hits if h["notification_id"] == key)
                receiver.hits.append(payload)
                refuse = receiver.always_fail or seen < receiver.fail_first or not signed
                self.send_response(500 if refuse else 204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class Mailbox:
    """What the real SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    flaky, broken = Receiver(fail_first=1).start(), Receiver(always_fail=True).start()
    yield flaky, broken
    flaky.stop()
    broken.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it cannot take port 0
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def district_config(flaky: str, broken: str) -> DistrictConfig:
    """The example district under a fresh id (its own queues on the shared RabbitMQ),
    the unit's desk reached by SMS gateway, two webhooks and e-mail."""
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["district"] = f"nt{uuid.uuid4().hex[:8]}"
    raw["peers"] = []
    for unit in raw["units"]:
        if unit["id"] == UNIT:
            unit["contacts"] = [
                {"channel": "sms", "address": "+86-315-2861001"},
                {"channel": "webhook", "address": flaky},
                {"channel": "webhook", "address": broken},
                {"channel": "email", "address": "desk@friendship.example"},
            ]
    return DistrictConfig.model_validate(raw)


def _request(config: DistrictConfig) -> NewRequest:
    return NewRequest.model_validate(
        {
            "district": config.district,
            "caller": {"name": "Xiao Lu", "phone": "+86 138 0000 0000"},
            "location": {"area_code": "130202001001", "address": "Seven Days Hotel"},
            "category": "supplies.food",
            "description": "Stranded, no money for food or room",
            "urgency": "urgent",
        }
    )


def _assigned(engine: Engine, config: DistrictConfig) -> str:
    rules = Rules(config)
    with make_sessions(engine).begin() as s:
        ticket_id = submit(s, rules, _request(config), T0).ticket.id
    with make_sessions(engine).begin() as s:
        route(s, rules, RouteCommand(ticket_id, 0), T0)
    return ticket_id


def _relay(engine: Engine, config: DistrictConfig, smtp_port: int) -> Relay:
    senders = {
        "webhook": WebhookSender(SECRET, timeout=5),
        "smtp": SmtpSender(SmtpSettings(f"smtp://127.0.0.1:{smtp_port}", "hotline@lunan.example")),
    }
    amqp = AmqpPublisher(AMQP_URL, config.district, config.unit_ids, config.gateway_channels)
    return Relay(
        "notifier", config.district, make_sessions(engine), None, amqp,
        senders=senders, retry=FAST,
    )  # fmt: skip


def _drain(relay: Relay) -> None:
    """One pass of the relay; the events stream rows wait (no Kafka here), the rest go."""
    try:
        asyncio.run(relay.drain_once())
    except RuntimeError as exc:
        assert "no Kafka publisher" in str(exc)


def _rows(engine: Engine) -> list[OutboxMessage]:
    with make_sessions(engine)() as s:
        return list(
            s.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.is_not(None))).all()
        )


def _count(district: str, channel: str, outcome: str) -> float:
    labels = {"district": district, "channel": channel, "outcome": outcome}
    return REGISTRY.get_sample_value("hotline_notifications_total", labels) or 0.0


def _purge(config: DistrictConfig) -> None:
    connection = connect(AMQP_URL)
    try:
        channel = connection.channel()
        for name in config.gateway_channels:
            notify_queue(config.district, name)(channel).delete()
        for unit_id in config.unit_ids:
            channel.queue_delete(f"{config.district}.unit.{unit_id}")
        channel.queue_delete(f"{config.district}.triage")
        channel.queue_delete(f"{config.district}.dead-letter")
        channel.exchange_delete(f"hotline.{config.district}")
        channel.exchange_delete(f"hotline.{config.district}.dlx")
    finally:
        connection.release()


def test_escalation_reaches_every_contact_once_with_retries_and_dead_letters(
    ledger: Engine, receivers: tuple[Receiver, Receiver], mailbox: tuple[Mailbox, int]
) -> None:
    flaky, broken = receivers
    box, smtp_port = mailbox
    config = district_config(flaky.url, broken.url)
    district = config.district
    ticket_id = _assigned(ledger, config)
    late = T0 + timedelta(minutes=31)  # sign-for: the reminder (unit) and the unit leader
    with make_sessions(ledger).begin() as s:
        assert [(f.clock, f.level) for f in fire_due(s, late, config)] == [
            ("sign-for", 1),
            ("sign-for", 2),
        ]
    rows = _rows(ledger)
    assert len(rows) == 2 * 4, "two steps, four contacts each"
    assert {(r.transport, r.target) for r in rows} == {
        ("amqp", "notify.sms"), ("smtp", "desk@friendship.example"),
        ("webhook", broken.url), ("webhook", flaky.url),
    }  # fmt: skip

    # A step fired again (the same message) or a second pass adds nothing.
    with make_sessions(ledger).begin() as s:
        assert fire_due(s, late, config) == []
        message = next(
            e.data for e in s.scalars(select(Event).where(Event.type == "escalated")).all()
        )
        ticket = s.get_one(Ticket, ticket_id)
        assert notifications.tell_escalation(s, config, ticket, message) == 0
    assert len(_rows(ledger)) == 8

    before = {o: _count(district, "webhook", o) for o in ("sent", "failed-try", "dead-lettered")}
    relay = _relay(ledger, config, smtp_port)
    _drain(relay)
    # Each webhook was refused once; both now wait out their backoff: no second POST yet.
    assert len(flaky.hits) == 2 and len(broken.hits) == 2
    _drain(relay)
    assert len(flaky.hits) == 2 and len(broken.hits) == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        r.published_at is None and r.dead_at is None for r in _rows(ledger)
    ):
        time.sleep(0.1)
        _drain(relay)
    # A restarted relay finds nothing left to send.
    _drain(_relay(ledger, config, smtp_port))

    assert flaky.bad_signatures == broken.bad_signatures == 0
    assert len(flaky.hits) == 4, "each of two notifications: refused once, then taken"
    assert len(broken.hits) == 2 * FAST.max_tries, "each tried up to the limit, then no more"
    by_target = {(r.target, r.payload["level"]): r for r in _rows(ledger)}
    for level in (1, 2):
        dead = by_target[(broken.url, level)]
        assert dead.dead_at is not None and dead.published_at is None
        assert dead.tries == FAST.max_tries and "HTTP 500" in (dead.last_error or "")
        sent = by_target[(flaky.url, level)]
        assert sent.published_at is not None and sent.dead_at is None and sent.tries == 2
    assert {h["level"] for h in flaky.hits} == {1, 2}
    assert {h["roles"][0] for h in flaky.hits} == {"unit", "unit-leader"}
    after = {o: _count(district, "webhook", o) for o in before}
    assert {o: after[o] - before[o] for o in before} == {
        "sent": 2,
        "failed-try": 2 + 2 * (FAST.max_tries - 1),
        "dead-lettered": 2,
    }

    assert sorted(rcpt for rcpts, _ in box.mails for rcpt in rcpts) == [
        "desk@friendship.example",
        "desk@friendship.example",
    ]
    subjects = sorted(str(message_from_bytes(raw)["Subject"]) for _, raw in box.mails)
    assert "escalation level 1" in subjects[0] and "escalation level 2" in subjects[1]

    try:
        got = drain_queue(AMQP_URL, notify_queue(district, "sms"), timeout=1)
    finally:
        _purge(config)
    assert sorted(t.payload["level"] for t in got) == [1, 2]
    assert {t.payload["address"] for t in got} == {"+86-315-2861001"}
    assert len({t.message_id for t in got}) == 2
    assert _count(district, "sms", "sent") == 2


def test_unit_steps_reach_the_desk_and_leader_steps_the_leader(ledger: Engine) -> None:
    """The example's units list a desk and a leader: the reminder goes to the desk, the
    unit-leader step to the leader; a unit with no leader contact hears both at its desk;
    a unit told in two roles (supervision group and supervisor) hears each contact once."""
    config = load_config(None)
    street = _assigned(ledger, config)  # friendship-street
    rules = Rules(config)
    stranded = _request(config).model_copy(update={"category": "mobility.stranded"})
    with make_sessions(ledger).begin() as s:
        team = submit(s, rules, stranded, T0).ticket.id
    with make_sessions(ledger).begin() as s:
        route(s, rules, RouteCommand(team, 0), T0)
        assert s.get_one(Ticket, team).unit_id == "transport-team"  # lists no leader
    with make_sessions(ledger).begin() as s:  # sign-for: 15m, 30m, 60m (supervision group)
        fire_due(s, T0 + timedelta(hours=1), config)
    told: dict[tuple[str, int], list[tuple[str, str, list[str]]]] = {}
    for row in _rows(ledger):
        if row.payload["kind"] == "escalation" and row.payload["clock"] == "sign-for":
            where = (row.payload["ticket_id"], row.payload["level"])
            who = (row.payload["to_unit"], row.payload["address"], row.payload["roles"])
            told.setdefault(where, []).append(who)
    assert told[(street, 1)] == [(UNIT, "+86-315-2861001", ["unit"])]  # the desk
    assert told[(street, 2)] == [(UNIT, "+86-139-0315-1001", ["unit-leader"])]  # the leader
    assert told[(team, 1)] == [("transport-team", "+86-315-2863000", ["unit"])]
    assert told[(team, 2)] == [("transport-team", "+86-315-2863000", ["unit-leader"])]
    both = ["supervision-group", "supervisor-unit"]
    assert sorted(told[(street, 3)]) == [
        ("service-office", "+86-315-6312300", both),  # its leader
        ("service-office", "+86-315-6312358", both),  # its desk
    ]


def test_the_caller_is_told_when_resolved_through_the_sms_gateway(
    ledger: Engine, mailbox: tuple[Mailbox, int]
) -> None:
    config = district_config("http://127.0.0.1:9/unused", "http://127.0.0.1:9/unused")
    ticket_id = _assigned(ledger, config)
    with make_sessions(ledger).begin() as s:
        sign_for(s, ticket_id, SignFor(unit_id=UNIT), T0)
    with make_sessions(ledger).begin() as s:
        done = Resolve(unit_id=UNIT, result="Taken to the street office, fed and housed")
        resolve(s, ticket_id, done, T0 + timedelta(minutes=5), config)
    rows = [r for r in _rows(ledger) if r.payload["kind"] == "resolved"]
    assert [(r.transport, r.target, r.dedup_key) for r in rows] == [
        ("amqp", "notify.sms", f"{ticket_id}:resolved:1")
    ]
    try:
        relay = _relay(ledger, config, mailbox[1])
        _drain(relay)
        _drain(_relay(ledger, config, mailbox[1]))  # a restart sends nothing again
        got = drain_queue(AMQP_URL, notify_queue(config.district, "sms"), timeout=1)
    finally:
        _purge(config)
    assert [(t.payload["kind"], t.payload["address"]) for t in got] == [
        ("resolved", "+86 138 0000 0000")
    ]
    assert got[0].payload["result"] == "Taken to the street office, fed and housed"
    assert got[0].message_id == f"{ticket_id}:resolved:1"
