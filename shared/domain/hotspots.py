"""Hot spots: many requests of one kind from one place in a short time.

In an outbreak the first sign is often ten calls about food from one
community in an hour. These functions say which counters a request adds to and
which windows it falls in; the notifier keeps the counts in a hopping (sliding)
windowed stream table and raises a hot spot in the ledger.

Windows slide: a rule's windows are ``window`` long and one starts every
``hop`` (10 minutes for ``1h`` by default), aligned to the epoch, so five calls
at 12:50 and five at 13:10 share the windows from 12:20 to 12:50 and count as
ten. A request counts in the window of the time the intake received it (the
event's ``at``), not when the notifier reads it: after an outage the windows
are those of the calls, and a request more than ``KEPT`` older than its window
counts nowhere (no early warning in that).

What a district hears: overlapping windows see one burst several times over,
so a window whose count reaches the threshold raises a hot spot only if no
window overlapping it has already raised one for the same rule and area. One
burst is one message; an outbreak that goes on is told again once its newest
window no longer overlaps the one that was told (about once a window length).
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


#: How long past its end a window still counts requests (the stream table keeps it so long).
KEPT = timedelta(days=1)


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def window_starts(at: datetime, rule: Hotspot) -> list[datetime]:
    """The starts of every window of ``rule`` that ``at`` falls in, earliest first.

    The same windows as faust's hopping table of size ``window`` and step ``hop``
    (each ``[start, start + window)``, starts at multiples of the hop since the epoch).
    """
    hop = _seconds(rule.hop)
    latest = int(at.timestamp() // hop) * hop
    count = _seconds(rule.window) // hop
    return [datetime.fromtimestamp(latest - k * hop, tz=UTC) for k in reversed(range(count))]


def overlapping(start: datetime, rule: Hotspot) -> list[datetime]:
    """The starts of the rule's other windows that share time with the one at ``start``:
    those that see the same burst."""
    count = _seconds(rule.window) // _seconds(rule.hop)
    return [start + k * rule.hop for k in range(1 - count, count) if k != 0]


def too_old(at: datetime, rule: Hotspot, now: datetime) -> bool:
    """Say whether a request received at ``at`` is past counting: every window it falls in
    ended more than ``KEPT`` ago (replayed after a long outage, say)."""
    return at + rule.window + KEPT < now


def dedup_key(district: str, index: int, area: str, start: datetime) -> str:
    """The one key a hot spot is raised under, per window start: a second raise of the same
    window (a replay, a restart) adds nothing."""
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
