"""Hot spots end to end: requests counted in the notifier's windowed stream table; the one
that reaches the threshold tells the supervision group, once for the window."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hotline.shared.amqp import DeliveredTask, drain_queue, notify_queue
from tests.e2e.test_pipeline import submit
from tests.harness import System, start_embedded

RULE = (
    "\nhotspots:\n"
    "  - {name: food in one community, category: supplies.food, level: community,"
    " threshold: 3, window: 1h}\n"
)
COMMUNITY = {"area_code": "130202001001", "address": "Xinhua Community"}


def _hotspots(system: System) -> float:
    text = httpx.get(f"{system.api}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hotline_hotspots_total"
    )


def test_the_third_request_from_one_community_raises_one_hot_spot(tmp_path: Path) -> None:
    system = start_embedded(tmp_path, lambda text: text + RULE)
    try:
        submit(system, location={"area_code": "130202002", "address": "Xueyuan Street"})
        for _ in range(2):
            submit(system, location=COMMUNITY)
        time.sleep(3)
        assert _hotspots(system) == 0  # two from the community, one from elsewhere
        for _ in range(3):  # the third reaches the threshold; the rest are the same window
            submit(system, location=COMMUNITY)
        told: list[DeliveredTask] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not told:
            got = drain_queue(system.amqp_url, notify_queue(system.district, "sms"), timeout=0.5)
            told += [m for m in got if m.payload.get("kind") == "hotspot"]
        assert len(told) == 1, [m.payload for m in told]
        spot = told[0].payload
        assert (spot["area"], spot["count"], spot["threshold"]) == ("130202001001", 3, 3)
        assert spot["address"] == "+86-315-6312358"  # the supervision group's (service office)
        time.sleep(3)
        assert _hotspots(system) == 1
        again = drain_queue(system.amqp_url, notify_queue(system.district, "sms"), timeout=1)
        assert [m for m in again if m.payload.get("kind") == "hotspot"] == []
    finally:
        system.stop()
