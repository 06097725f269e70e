"""Raising a hot spot: once per area and window, on the events stream and to the supervision
group, in one ledger transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.shared.domain import hotspots
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.ledger import notifications
from hotline.shared.ledger.outbox import enqueue_once
from hotline.shared.names import events_topic


def raise_hotspot(
    session: Session,
    config: DistrictConfig,
    index: int,
    area: str,
    count: int,
    at: datetime,
    now: datetime,
) -> bool:
    """Record the hot spot of rule ``index`` in ``area`` for the window ``at`` falls in.

    The outbox row's unique key makes it once per window: a count that crosses
    the threshold again (a replayed stream after a restart) adds nothing.
    Returns whether this call raised it.
    """
    rule = config.hotspots[index]
    start = hotspots.window_start(at, rule.window)
    key = hotspots.dedup_key(config.district, index, area, start)
    message = hotspots.hotspot_message(config, index, area, count, start, now)
    added = enqueue_once(
        session,
        relay=notifications.RELAY,
        transport="kafka",
        target=events_topic(config.district),
        key=area,
        dedup_key=key,
        payload=message | {"event_id": key},
        now=now,
    )
    if added:
        notifications.tell_supervision_group(session, config, message, key)
    return added
