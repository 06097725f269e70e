"""Hot spots: many requests of one kind from one place in a short time.

In an outbreak the first sign is often ten calls about food from one
community in an hour. These functions say which counters a request adds to and
which window it falls in; the notifier keeps the counts in a windowed stream
table and raises a hot spot once per area and window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.shared.domain.config import DistrictConfig, Hotspot
from hotline.shared.domain.routing import under


def located(received: dict[str, Any]) -> str | None:
    """The area a ``received`` event counts in: the most specific one the intake located the
    request in, by its area code or by its map point alone (``data.area``).

    Not the ticket's ``area_code``: a request that gave only coordinates has none, and
    would never count, though it is often the very caller an outbreak strands.
    """
    data = received.get("data")
    area = data.get("area") if isinstance(data, dict) else None
    return area if isinstance(area, str) else None


def counted_in(
    config: DistrictConfig, category: str, chain: tuple[str, ...]
) -> list[tuple[int, str]]:
    """The (hot-spot rule index, area) counters a request of ``category`` located in
    ``chain`` (its areas, most specific first) adds one to."""
    levels = {a.id: a.level for a in config.areas}
    counters = []
    for index, rule in enumerate(config.hotspots):
        if not under(category, rule.category):
            continue
        area = next((a for a in chain if levels.get(a) == rule.level), None)
        if area is not None:
            counters.append((index, area))
    return counters


def window_start(at: datetime, window: timedelta) -> datetime:
    """The start of the fixed window of length ``window`` that ``at`` falls in."""
    seconds = window.total_seconds()
    epoch = at.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def dedup_key(district: str, index: int, area: str, start: datetime) -> str:
    """The one key a hot spot is raised under: a second raise (a replay, a restart) adds nothing."""
    return f"hotspot:{district}:{index}:{area}:{start.isoformat()}"


def hotspot_message(
    config: DistrictConfig, index: int, area: str, count: int, start: datetime, now: datetime
) -> dict[str, Any]:
    """What the supervision group is told, and what goes on the events stream."""
    rule: Hotspot = config.hotspots[index]
    names = {a.id: a.name for a in config.areas}
    return {
        "type": "hotspot",
        "kind": "hotspot",
        "district": config.district,
        "rule": rule.label,
        "category": rule.category,
        "area": area,
        "area_name": names.get(area, area),
        "level": rule.level.value,
        "count": count,
        "threshold": rule.threshold,
        "window_start": start.isoformat(),
        "window_end": (start + rule.window).isoformat(),
        "at": now.isoformat(),
    }
