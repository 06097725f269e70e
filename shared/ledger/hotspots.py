"""Raising a hot spot: once per area and window start, on the events stream and to the
supervision group, in one ledger transaction; quiet while an overlapping window was told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain import hotspots
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.ledger import notifications
from hotline.shared.ledger.outbox import enqueue_once
from hotline.shared.ledger.schema import OutboxMessage
from hotline.shared.messaging.names import events_topic


def raise_hotspot(
    session: Session,
    config: DistrictConfig,
    index: int,
    area: str,
    count: int,
    start: datetime,
    now: datetime,
) -> bool:
    """Record the hot spot of rule ``index`` in ``area`` for the window that starts at ``start``.

    The outbox row's unique key makes it once per window: a count that crosses
    the threshold again (a replayed stream after a restart) adds nothing. A window
    that overlaps one already raised for the rule and area adds nothing either:
    that burst was told (see ``hotline.shared.domain.hotspots``). The events stream
    has one partition, read by one notifier at a time, so raises do not race.
    Returns whether this call raised it.
    """
    near = hotspots.overlapping(start, config.hotspots[index])
    told = [hotspots.dedup_key(config.district, index, area, s) for s in near]
    earlier = select(OutboxMessage.id).where(OutboxMessage.dedup_key.in_(told)).limit(1)
    if session.scalar(earlier) is not None:
        return False
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
