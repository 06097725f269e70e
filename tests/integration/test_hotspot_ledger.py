"""A hot spot in the ledger: raised once per area and window, whatever replays the count,
and quiet while it overlaps a window already told; the notifier's hopping windows over a
real Tansu; and the area a received request counts in, even one located by its map point."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import pytest
from sqlalchemy import Engine, select

from hotline.intake.requests import submit
from hotline.intake.schemas import NewRequest
from hotline.notifier.hotspots import HotspotWatch
from hotline.shared.configuration.file import load_config
from hotline.shared.domain import hotspots
from hotline.shared.domain.routing import Rules
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from hotline.shared.ledger.hotspots import raise_hotspot
from hotline.shared.ledger.schema import OutboxMessage
from hotline.shared.messaging.names import events_topic
from hotline.shared.messaging.streams.app import StreamRunner
from hotline.shared.messaging.streams.publisher import KafkaPublisher
from hotline.shared.messaging.streams.tansu import TansuBroker
from tests.harness import district_file
from tests.unit.test_hotspots import CONFIG, IN_XINHUA, MAPPED

AT = datetime(2026, 11, 24, 9, 41, tzinfo=UTC)
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a window of rule 0 (1h, one every 10m)


def test_once_per_window_quiet_while_it_overlaps_a_told_one(ledger: Engine) -> None:
    """Each window has its key; a window that shares time with one already told for the
    same rule and area is the same burst, and tells nobody again."""
    sessions = make_sessions(ledger)
    area = "130202001001"
    with sessions.begin() as s:
        assert raise_hotspot(s, CONFIG, 0, area, 3, START, AT)
    with sessions.begin() as s:  # the count replayed after a restart: the same window
        assert not raise_hotspot(s, CONFIG, 0, area, 3, START, AT)
    for minutes in (-50, -10, 10, 50):  # the windows that overlap [09:00, 10:00)
        with sessions.begin() as s:
            assert not raise_hotspot(s, CONFIG, 0, area, 3, START + timedelta(minutes=minutes), AT)
    with sessions.begin() as s:  # another rule (per street, 30m windows): its own windows
        assert raise_hotspot(s, CONFIG, 1, "130202001", 5, START + timedelta(minutes=10), AT)
    with sessions.begin() as s:  # from 10:00 the windows no longer overlap: told again
        assert raise_hotspot(s, CONFIG, 0, area, 3, START + timedelta(hours=1), AT)
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    stream = [r for r in rows if r.transport == "kafka"]
    told = [r for r in rows if r.transport == "amqp"]
    assert [r.target for r in stream] == ["lunan.events"] * 3
    assert [
        (r.payload["area"], r.payload["window_start"], r.payload["window_end"]) for r in stream
    ] == [
        (area, "2026-11-24T09:00:00+00:00", "2026-11-24T10:00:00+00:00"),
        ("130202001", "2026-11-24T09:10:00+00:00", "2026-11-24T09:40:00+00:00"),
        (area, "2026-11-24T10:00:00+00:00", "2026-11-24T11:00:00+00:00"),
    ]
    assert [(r.target, r.payload["address"]) for r in told] == [
        ("notify.sms", "+86-315-6312358"),  # the supervision group's desk
        ("notify.phone", "+86-315-6312300"),  # and its leader: a hot spot is for the whole unit
    ] * 3


def test_a_request_with_only_a_map_point_carries_where_it_was_located(ledger: Engine) -> None:
    """The received event says the area the intake located the request in, so the notifier
    counts a caller who gave only coordinates (no area code) where they are."""
    request = NewRequest.model_validate(
        {
            "district": "lunan",
            "caller": {"name": "Xiao Lu", "phone": "+86 138 0000 0000"},
            "location": {"lat": IN_XINHUA[0], "lon": IN_XINHUA[1]},
            "category": "supplies.food",
            "description": "No food left in the building",
            "urgency": "urgent",
        }
    )
    with make_sessions(ledger).begin() as s:
        ticket = submit(s, Rules(MAPPED), request, AT).ticket
        assert (ticket.area_code, ticket.place) == (None, "130202001001")
    with make_sessions(ledger)() as s:
        received = next(
            r.payload
            for r in s.scalars(select(OutboxMessage).where(OutboxMessage.key == ticket.id))
            if r.target == "lunan.events" and r.payload["type"] == "received"
        )
    assert received["area_code"] is None
    assert received["data"] == {"area": "130202001001"}
    assert hotspots.located(received) == "130202001001"


BURST = "\nhotspots:\n  - {category: supplies.food, level: community, threshold: 10, window: 1h}\n"


def _received(district: str, at: datetime) -> dict[str, Any]:
    """A received event as the intake announces it (see ``history.event_message``)."""
    ticket_id = str(uuid.uuid4())
    return {
        "event_id": str(uuid.uuid4()), "type": "received", "at": at.isoformat(),
        "ticket_id": ticket_id, "district": district, "attempt": 0, "unit_id": None,
        "category": "supplies.food", "urgency": "urgent", "area_code": None,
        "created_at": at.isoformat(), "data": {"area": "130202001001"},
    }  # fmt: skip


@pytest.mark.timeout(180)
def test_a_burst_across_an_hour_raises_once_in_the_stream_table(tmp_path: Path) -> None:
    """The notifier's real watch over Tansu: five requests ten minutes before an hour and
    five ten minutes after count together (fixed clock hours would see five and five);
    the windows that share them raise one hot spot, not four. Counted by the time each
    request was received, though the notifier reads them all hours later."""
    district, path = district_file(tmp_path, lambda text: text + BURST)
    config = load_config(path)
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    migrate(engine)
    sessions = make_sessions(engine)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    times = [hour - timedelta(minutes=10, seconds=i) for i in range(5)]
    times += [hour + timedelta(minutes=10, seconds=i) for i in range(5)]
    times += [hour + timedelta(minutes=70, seconds=i) for i in range(10)]  # an hour on: again

    def raised() -> list[dict[str, Any]]:
        with sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.transport == "kafka"))
            return [r.payload for r in rows if r.payload.get("type") == "hotspot"]

    async def scenario(broker: str) -> None:
        def define(app: faust.App) -> None:
            topic = app.topic(events_topic(district), value_serializer="json")
            HotspotWatch(sessions, lambda: config, lambda: None).define(app, topic)

        notifier = StreamRunner(f"hotline-{district}-notifier", broker, tmp_path, define)
        intake = StreamRunner(f"hotline-{district}-intake", broker, tmp_path, producer_only=True)
        await notifier.start()
        await intake.start()
        try:
            assert await notifier.wait_ready(60) and await intake.wait_ready(60)
            batch = [(events_topic(district), "k", _received(district, at)) for at in times]
            await KafkaPublisher(intake).publish(batch)
            deadline = asyncio.get_running_loop().time() + 60
            while len(raised()) < 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # time for a wrong third one to show
        finally:
            await intake.stop()
            await notifier.stop()

    with TansuBroker(log_path=tmp_path / "tansu.log") as tansu:
        asyncio.run(scenario(tansu.url))

    def window(first: int, last: int) -> tuple[int, str, str]:
        edges = (hour + timedelta(minutes=first), hour + timedelta(minutes=last))
        return (10, *(edge.isoformat() for edge in edges))

    assert [(s["count"], s["window_start"], s["window_end"]) for s in raised()] == [
        window(-40, 20),  # the earliest window holding all ten; the three after it stay quiet
        window(20, 80),  # the first window that does not overlap it
    ]
    engine.dispose()
