"""A hot spot in the ledger: raised once per area and window, whatever replays the count;
and the area a received request counts in, even one located by its map point alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from hotline.intake import handlers as intake
from hotline.intake.schemas import NewRequest
from hotline.shared.domain import hotspots
from hotline.shared.domain.routing import Router
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.hotspots import raise_hotspot
from hotline.shared.ledger.schema import OutboxMessage
from tests.unit.test_hotspots import CONFIG, IN_XINHUA, MAPPED

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
        ticket = intake.submit(s, Router(MAPPED), request, AT).ticket
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
