"""Routing benchmark: decisions per second on a large district, point-in-polygon included.

Builds a district in code, the same every run (seeded): 211 areas in a
hierarchy (district > 10 streets > 40 communities > 160 grids), every one
with a polygon; 50 categories; 100 units; 300 rules of every matcher and
target kind, the one that fits spread over the list. Then it decides a
mix of requests (area code only, coordinates only, both) at a time inside
and a time outside business hours.

    .venv/bin/python -m bench.routing [--requests 20000]

Decisions per second are counted on the process's CPU time, so another load
on the machine changes them little; a calibration loop says how fast this
machine runs plain Python, to read the figures on another one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.routing import Router, RouteRequest
from hotline.shared.domain.ticket import Channel, Urgency

WEST, SOUTH, WIDTH, HEIGHT = 118.0, 39.5, 0.5, 0.2
#: Tuesday 10:00 and 22:00 in Shanghai.
TIMES = (datetime(2026, 11, 24, 2, 0, tzinfo=UTC), datetime(2026, 11, 24, 14, 0, tzinfo=UTC))


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _split(box: tuple[float, float, float, float], cols: int, rows: int) -> list[tuple[float, ...]]:
    x0, y0, x1, y1 = box
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    return [
        (x0 + c * w, y0 + r * h, x0 + (c + 1) * w, y0 + (r + 1) * h)
        for r in range(rows)
        for c in range(cols)
    ]


def district(seed: int = 7) -> tuple[dict[str, Any], dict[str, tuple[float, ...]]]:
    """The district file's data, and each area's box (to place request points in)."""
    rng = random.Random(seed)
    whole = (WEST, SOUTH, WEST + WIDTH, SOUTH + HEIGHT)
    boxes: dict[str, tuple[float, ...]] = {"130299": whole}
    areas = [{"id": "130299", "name": "Bench District", "level": "district"}]
    for s, street in enumerate(_split(whole, 5, 2), 1):
        sid = f"130299{s:03d}"
        boxes[sid] = street
        areas.append({"id": sid, "name": f"Street {s}", "level": "street"})
        for c, community in enumerate(_split(street, 2, 2), 1):
            cid = f"{sid}{c:03d}"
            boxes[cid] = community
            areas.append({"id": cid, "name": f"Community {s}.{c}", "level": "community"})
            for g, grid in enumerate(_split(community, 2, 2), 1):
                gid = f"{cid}{g:02d}"
                boxes[gid] = grid
                areas.append({"id": gid, "name": f"Grid {s}.{c}.{g}", "level": "grid"})
    for area in areas:
        area["geometry"] = _box(*boxes[area["id"]])
    tops = [f"c{t}" for t in range(10)]
    categories = [{"id": t, "name": t} for t in tops] + [
        {"id": f"{t}.s{k}", "name": f"{t}.s{k}"} for t in tops for k in range(4)
    ]
    streets = [a["id"] for a in areas if a["level"] == "street"]
    communities = [a["id"] for a in areas if a["level"] == "community"]
    contact = [{"channel": "sms", "address": "+86-315-0000000"}]
    units: list[dict[str, Any]] = [
        {"id": f"street-{i}", "name": f"Street office {i}", "kind": "street-office",
         "areas": [sid], "contacts": contact}
        for i, sid in enumerate(streets)
    ] + [
        {"id": f"community-{i}", "name": f"Community unit {i}", "kind": "grass-roots",
         "areas": [cid], "contacts": contact}
        for i, cid in enumerate(communities)
    ] + [
        {"id": f"dept-{i}", "name": f"Department {i}", "kind": "department",
         "categories": [tops[i % 10]], "contacts": contact, "capacity": 50}
        for i in range(30)
    ] + [
        {"id": f"team-{i}", "name": f"Special team {i}", "kind": "special-team",
         "contacts": contact, "hours": {"days": ["mon", "tue", "wed", "thu", "fri"],
                                         "open": "08:00", "close": "20:00"} if i % 2 else None}
        for i in range(20)
    ]  # fmt: skip
    for unit in units:
        if unit.get("hours") is None:
            unit.pop("hours", None)
    subs = [c["id"] for c in categories if "." in c["id"]]
    rules: list[dict[str, Any]] = []
    for i in range(20):
        rules.append({"name": f"watch {i}", "match": {"category": rng.choice(subs)},
                      "unit": f"team-{i}", "continue": True})  # fmt: skip
    middle: list[dict[str, Any]] = []
    for i in range(100):
        middle.append({"name": f"dept by street {i}",
                       "match": {"category": rng.choice(subs), "area": rng.choice(streets)},
                       "unit": f"dept-{i % 30}"})  # fmt: skip
    for i in range(50):
        middle.append({"name": f"critical {i}",
                       "match": {"category": rng.choice(tops), "urgency": "critical"},
                       "unit": f"team-{i % 20}"})  # fmt: skip
    for i in range(40):
        middle.append({"name": f"web {i}",
                       "match": {"category": rng.choice(subs), "channel": ["web", "app"]},
                       "unit": f"dept-{(i * 7) % 30}"})  # fmt: skip
    for i in range(20):
        middle.append({"name": f"after hours {i}",
                       "match": {"category": rng.choice(tops), "hours": "after-hours"},
                       "pool": [f"team-{(i + k) % 20}" for k in range(3)]})  # fmt: skip
    for i in range(30):
        middle.append({"name": f"community {i}",
                       "match": {"category": rng.choice(tops), "area": rng.choice(communities)},
                       "unit": "area-owner"})  # fmt: skip
    rng.shuffle(middle)
    rules += middle
    for i in range(39):
        rules.append({"name": f"street {i}", "match": {"area": streets[i % 10],
                      "urgency": ["normal", "urgent"]}, "unit": f"street-{i % 10}"})  # fmt: skip
    rules.append({"name": "the rest", "match": {"area": "130299", "category": tops[:7]},
                  "pool": [f"dept-{k}" for k in range(5)]})  # fmt: skip
    data = {
        "district": "bench", "name": "Bench District", "areas": areas,
        "categories": categories, "units": units, "routes": rules,
    }  # fmt: skip
    return data, boxes


def requests(boxes: dict[str, tuple[float, ...]], count: int, seed: int = 11) -> list[RouteRequest]:
    """A mix of requests: a third by area code, a third by coordinates, a third by both."""
    rng = random.Random(seed)
    codes = sorted(boxes)
    cats = [f"c{t}.s{k}" for t in range(10) for k in range(4)] + [f"c{t}" for t in range(10)]
    made = []
    for n in range(count):
        code = rng.choice(codes)
        x0, y0, x1, y1 = boxes[code]
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        kind = n % 3
        made.append(
            RouteRequest(
                category=rng.choice(cats),
                urgency=rng.choice(list(Urgency)),
                channel=rng.choice(list(Channel)),
                area_code=code if kind != 1 else None,
                lat=lat if kind != 0 else None,
                lon=lon if kind != 0 else None,
            )
        )
    return made


def calibration() -> float:
    """Seconds for a plain 10-million-step Python loop (about 2.0 s on the 2-core CI VM)."""
    start = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - start


def measure(router: Router, batch: list[RouteRequest], explain: bool) -> dict[str, float]:
    """Decide every request once; CPU-time rate and per-decision wall-clock percentiles."""
    each: list[float] = []
    cpu0 = time.process_time()
    for n, request in enumerate(batch):
        t0 = time.perf_counter()
        decision = router.decide(request, now=TIMES[n % 2], load={})
        if explain:
            decision.explain()
        each.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    cuts = statistics.quantiles(each, n=100)
    return {"rate": len(batch) / cpu, "p50": cuts[49] * 1e6, "p99": cuts[98] * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    data, boxes = district()
    config = DistrictConfig.model_validate(data)
    router = Router(config)
    batch = requests(boxes, args.requests)
    outcomes = {router.decide(r, now=TIMES[0]).outcome.split(" ")[0] for r in batch[:2000]}
    print(
        f"district: {len(config.areas)} areas with polygons, {len(config.categories)} categories,"
        f" {len(config.units)} units, {len(config.routes)} rules; {len(batch)} requests"
        f" (outcomes seen: {', '.join(sorted(outcomes))})"
    )
    for explain in (False, True):
        figures = measure(router, batch, explain)
        print(
            f"decide{' + explain()' if explain else ''}: {figures['rate']:,.0f} decisions/s"
            f" on one core (CPU time), p50 {figures['p50']:.0f} us, p99 {figures['p99']:.0f} us"
        )
    print(f"calibration: a 10M-step Python loop took {calibration():.2f} s CPU here")


if __name__ == "__main__":
    main()
