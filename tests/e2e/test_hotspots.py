"""Hot spots end to end: requests counted in the notifier's hopping windowed stream tables;
the one that brings a window to the threshold tells the supervision group, once a burst,
whether the callers gave an area code or only a map point, and across a window boundary."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hotline.shared.messaging.amqp import DeliveredTask, drain_queue, notify_queue
from tests.e2e.test_pipeline import submit, ticket
from tests.harness import System, start_embedded
from tests.unit.test_hotspots import IN_XINHUA, outlined

RULES = (
    "\nhotspots:\n"
    "  - {name: food in one community, category: supplies.food, level: community,"
    " threshold: 3, window: 1h}\n"
    "  - {name: medicine in one street, category: supplies.medicine, level: street,"
    " threshold: 4, window: 6s, step: 1s}\n"
)
COMMUNITY = {"area_code": "130202001001", "address": "Xinhua Community"}
MAP_POINT = {"lat": IN_XINHUA[0], "lon": IN_XINHUA[1], "address": "a point in Xinhua Community"}
STREET = {"area_code": "130202001", "address": "Friendship Street"}


def _district(text: str) -> str:
    """Xinhua Community with its outline, and these rules instead of the example's."""
    return outlined(text).split("\nhotspots:\n")[0] + RULES


def _hotspots(system: System) -> float:
    text = httpx.get(f"{system.api}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hotline_hotspots_total"
    )


def _told(system: System, want: int, within: float) -> list[dict[str, object]]:
    """The hot spots the supervision group's SMS gateway got, waiting for ``want`` of them."""
    told: list[DeliveredTask] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and len(told) < want:
        got = drain_queue(system.amqp_url, notify_queue(system.district, "sms"), timeout=0.5)
        told += [m for m in got if m.payload.get("kind") == "hotspot"]
    return [m.payload for m in told]


def _until_second(remainder: float, block: int) -> None:
    """Sleep until the clock is ``remainder`` seconds into a ``block``-second block."""
    time.sleep((remainder - time.time() % block) % block)


def test_one_hot_spot_per_burst_by_code_or_map_point_and_across_a_boundary(
    tmp_path: Path,
) -> None:
    system = start_embedded(tmp_path, _district)
    try:
        submit(system, location={"area_code": "130202002", "address": "Xueyuan Street"})
        submit(system, location=COMMUNITY)
        submit(system, location=MAP_POINT)  # no area code: counted where its point lies
        time.sleep(3)
        assert _hotspots(system) == 0  # two from the community, one from elsewhere
        for _ in range(3):  # the third reaches the threshold; the rest are the same burst
            submit(system, location=MAP_POINT)

        # Two requests just before a 6-second block ends, two just after: fixed blocks
        # would count two and two; a sliding window holds all four.
        _until_second(3.5, 6)
        first = [submit(system, category="supplies.medicine", location=STREET) for _ in range(2)]
        _until_second(0.3, 6)
        last = [submit(system, category="supplies.medicine", location=STREET) for _ in range(2)]

        told = _told(system, 2, within=30)
        time.sleep(3)
        told += _told(system, 1, within=1)  # nothing more comes
        assert sorted((t["rule"], t["area"], t["count"]) for t in told) == [
            ("food in one community", "130202001001", 3),
            ("medicine in one street", "130202001", 4),
        ], told
        assert {t["address"] for t in told} == {"+86-315-6312358"}  # the supervision group's
        medicine = next(t for t in told if t["area"] == "130202001")
        start, end = (
            datetime.fromisoformat(str(medicine[k])) for k in ("window_start", "window_end")
        )
        received = [datetime.fromisoformat(ticket(system, i)["created_at"]) for i in first + last]
        blocks = {int(at.timestamp()) // 6 for at in received}
        assert len(blocks) == 2, received  # the four straddle a 6 s block boundary...
        assert all(start <= at < end for at in received)  # ...and one 6 s window holds them
        assert (end - start).total_seconds() == 6
        time.sleep(1)
        assert _hotspots(system) == 2
    finally:
        system.stop()
