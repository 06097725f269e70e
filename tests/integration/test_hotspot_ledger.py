"""A hot spot in the ledger: raised once per area and window, whatever replays the count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.hotspots import raise_hotspot
from hotline.shared.ledger.schema import OutboxMessage
from tests.unit.test_hotspots import CONFIG

AT = datetime(2026, 11, 24, 9, 41, tzinfo=UTC)


def test_once_per_window_to_the_stream_and_the_supervision_group(ledger: Engine) -> None:
    sessions = make_sessions(ledger)
    area = "130202001001"
    with sessions.begin() as s:
        assert raise_hotspot(s, CONFIG, 0, area, 3, AT, AT)
    with sessions.begin() as s:  # the count replayed after a restart, same window
        assert not raise_hotspot(s, CONFIG, 0, area, 3, AT + timedelta(minutes=5), AT)
    with sessions.begin() as s:  # the next hour is a new window
        assert raise_hotspot(s, CONFIG, 0, area, 3, AT + timedelta(hours=1), AT)
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    stream = [r for r in rows if r.transport == "kafka"]
    told = [r for r in rows if r.transport == "amqp"]
    assert [r.target for r in stream] == ["lunan.events", "lunan.events"]
    assert {r.payload["window_start"] for r in stream} == {
        "2026-11-24T09:00:00+00:00",
        "2026-11-24T10:00:00+00:00",
    }
    assert [(r.target, r.payload["address"]) for r in told] == [
        ("notify.sms", "+86-315-6312358"),  # the supervision group's desk
        ("notify.phone", "+86-315-6312300"),  # and its leader: a hot spot is for the whole unit
    ] * 2
