"""The notifier's hot-spot watch: a faust windowed table per rule counts received requests by
area; the count that reaches the rule's threshold raises the hot spot in the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared import metrics
from hotline.shared.domain import hotspots
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.location import AreaMap
from hotline.shared.ledger.hotspots import raise_hotspot
from hotline.shared.metrics import top_category

log = logging.getLogger(__name__)


class HotspotWatch:
    """Counts requests into windowed tables; raises each hot spot once per area and window.

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
        """Add one windowed table per rule and the agent that counts into them."""
        config = self._config()
        if not config.hotspots:
            return
        areas = AreaMap(config)
        # Each watched category's counter exists from the start, at 0: the dashboard's hot spot
        # panel shows "none raised" rather than nothing, and the first one raised counts in
        # increase() (a series born at 1 would show an increase of 0).
        for rule in config.hotspots:
            metrics.HOTSPOTS.labels(config.district, top_category(rule.category))
        tables = [
            app.Table(f"{config.district}-hotspot-{index}", default=int)
            .tumbling(rule.window, expires=rule.window * 2)
            .relative_to_stream()
            for index, rule in enumerate(config.hotspots)
        ]

        async def watch(stream: Any) -> None:
            async for value in stream:
                if not isinstance(value, dict) or value.get("type") != EventType.RECEIVED:
                    continue
                code, category = hotspots.located(value), value.get("category")
                if code is None or not isinstance(category, str):
                    continue
                for index, area in hotspots.counted_in(config, category, areas.chain(code)):
                    tables[index][area] += 1
                    count = tables[index][area].current()
                    if count == config.hotspots[index].threshold:
                        at = datetime.fromisoformat(value["at"])
                        await self.raise_(config, index, area, count, at)

        app.agent(topic, name=f"{config.district}-hotspots")(watch)

    async def raise_(
        self, config: DistrictConfig, index: int, area: str, count: int, at: datetime
    ) -> None:
        """Record the hot spot (once per window) and count it."""

        def work() -> bool:
            with self._sessions.begin() as session:
                return raise_hotspot(session, config, index, area, count, at, datetime.now(UTC))

        if await asyncio.to_thread(work):
            rule = config.hotspots[index]
            metrics.HOTSPOTS.labels(config.district, top_category(rule.category)).inc()
            log.warning(
                "notifier: hot spot: %d requests of %s from %s within %s",
                count, rule.category, area, rule.window,
            )  # fmt: skip
            self._wake_relay()
