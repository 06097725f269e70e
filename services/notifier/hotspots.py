"""The notifier's hot-spot watch: a faust hopping-windowed table per rule counts received
requests by area, in the windows of the time each was received; a window whose count
reaches the rule's threshold raises the hot spot in the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import faust
from faust.tables.wrappers import WindowWrapper
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.domain import hotspots
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.location import AreaMap
from hotline.shared.ledger.hotspots import raise_hotspot
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import top_category

log = logging.getLogger(__name__)


class HotspotWatch:
    """Counts requests into hopping windowed tables; raises each burst once per area.

    The rules are read when the stream app is built: a changed ``hotspots`` list
    takes effect when the notifier restarts (its tables are made for the rules).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: Callable[[], DistrictConfig],
        wake_relay: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._wake_relay = wake_relay

    def define(self, app: faust.App, topic: Any) -> None:
        """Add one hopping windowed table per rule and the agent that counts into them.

        A table is read and written relative to a timestamp we give it (``relative_to``):
        the request's ``at``, or a window's start to read that window, never the Kafka
        message's time, so a backlog read after an outage counts where it belongs.
        (faust's ``relative_to_field`` wants a faust model; our events are plain JSON.)
        """
        config = self._config()
        if not config.hotspots:
            return
        areas = AreaMap(config)
        # Each watched category's counter exists from the start, at 0: the dashboard's hot spot
        # panel shows "none raised" rather than nothing, and the first one raised counts in
        # increase() (a series born at 1 would show an increase of 0).
        for rule in config.hotspots:
            metrics.HOTSPOTS.labels(config.district, top_category(rule.category))
        # faust's WindowWrapperT leaves out relative_to, which its WindowWrapper has.
        tables = [
            cast(
                WindowWrapper,
                app.Table(f"{config.district}-hotspot-{index}", default=int).hopping(
                    rule.window, rule.hop, expires=rule.window + hotspots.KEPT
                ),
            )
            for index, rule in enumerate(config.hotspots)
        ]

        async def watch(stream: Any) -> None:
            async for value in stream:
                if not isinstance(value, dict) or value.get("type") != EventType.RECEIVED:
                    continue
                code, category = hotspots.located(value), value.get("category")
                if code is None or not isinstance(category, str):
                    continue
                try:
                    at = datetime.fromisoformat(value["at"])
                except (KeyError, TypeError, ValueError):
                    continue  # unreadable: the events reader sets it aside and counts it
                for index, area in hotspots.counted_in(config, category, areas.chain(code)):
                    rule = config.hotspots[index]
                    if hotspots.too_old(at, rule, datetime.now(UTC)):
                        continue
                    tables[index].relative_to(at.timestamp())[area] += 1
                    for start in hotspots.window_starts(at, rule):  # earliest first
                        count = tables[index].relative_to(start.timestamp())[area].value()
                        if count == rule.threshold:
                            await self.raise_(config, index, area, count, start)

        app.agent(topic, name=f"{config.district}-hotspots")(watch)

    async def raise_(
        self, config: DistrictConfig, index: int, area: str, count: int, start: datetime
    ) -> None:
        """Record the hot spot of the window at ``start`` (unless told already) and count it."""

        def work() -> bool:
            with self._sessions.begin() as session:
                return raise_hotspot(session, config, index, area, count, start, datetime.now(UTC))

        if await asyncio.to_thread(work):
            rule = config.hotspots[index]
            metrics.HOTSPOTS.labels(config.district, top_category(rule.category)).inc()
            log.warning(
                "notifier: hot spot: %d requests of %s from %s within %s from %s",
                count, rule.category, area, rule.window, start.isoformat(),
            )  # fmt: skip
            self._wake_relay()
