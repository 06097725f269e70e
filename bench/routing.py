"""Routing benchmark: decisions per second on a realistic district, point-in-polygon included.

Builds a district in code, the same every run (seeded): 200 areas in a
hierarchy (district > towns > communities > grids) whose polygons tile the
region, a category taxonomy, 100 units and 300 rules mixing category, area,
urgency, channel and hours matchers with unit, area-owner and pool targets.
It then times ``Rules.decide`` over generated requests (area code only,
coordinates only, both; some on borders, some outside, some in a peer):

    .venv/bin/python -m bench.routing [--decisions 20000] [--seed 7]

It prints decisions/s on the process's CPU time (other load on the machine
skews it little) and on wall time, the p50/p99 time per decision: deciding
alone, then also building the explanation (``explain()``), then also the
JSON-ready record (``as_dict()``) as the router service does for each ticket.
The plain evaluation (every rule tried in order, the explanation built as it
goes: ``Rules.decide_plainly``) is timed first, for comparison; the first
pass of ``decide`` meets every (category, area chain) pair cold, the later
ones reuse the candidate lists it built. Last comes a calibration figure (a
pure-Python 10M-step loop) so the result reads on other machines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.routing import TRIAGE_RULE, Decision, RouteRequest, Rules
from hotline.shared.domain.ticket import Channel, Urgency

#: The region the district tiles: lon x lat, in degrees.
WEST, EAST, SOUTH, NORTH = 118.0, 118.4, 39.6, 40.0
DISTRICT = "130300"
TOWNS = 4  # 2 x 2 quadrants
COMMUNITIES = 5  # per town, horizontal strips
GRIDS = 175  # vertical strips in the communities: 9 in each of the first 15, 8 in the rest
TOPICS = {
    "medical": ("emergency", "dialysis", "pharmacy", "clinic", "vaccination"),
    "supplies": ("food", "water", "fuel", "medicine", "baby"),
    "housing": ("heating", "repair", "eviction", "elevator"),
    "traffic": ("signals", "parking", "roadworks", "bus"),
    "environment": ("noise", "waste", "air", "water"),
    "utilities": ("power", "gas", "water", "internet"),
    "safety": ("fire", "flood", "crime", "animals"),
    "consult": ("policy", "documents", "benefits"),
}


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_areas() -> tuple[list[dict[str, Any]], dict[str, tuple[float, float, float, float]]]:
    """The 200 areas and each one's bounding box (its polygon is that box)."""
    boxes: dict[str, tuple[float, float, float, float]] = {DISTRICT: (WEST, SOUTH, EAST, NORTH)}
    midx, midy = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    quadrants = [(WEST, SOUTH, midx, midy), (midx, SOUTH, EAST, midy)]
    quadrants += [(WEST, midy, midx, NORTH), (midx, midy, EAST, NORTH)]
    order = 0
    for t, (x0, y0, x1, y1) in enumerate(quadrants[:TOWNS], start=1):
        town = f"{DISTRICT}{t:03d}"
        boxes[town] = (x0, y0, x1, y1)
        height = (y1 - y0) / COMMUNITIES
        for c in range(COMMUNITIES):
            community = f"{town}{c + 1:03d}"
            cy0, cy1 = y0 + c * height, y0 + (c + 1) * height
            boxes[community] = (x0, cy0, x1, cy1)
            strips = 9 if order < GRIDS - 8 * TOWNS * COMMUNITIES else 8
            order += 1
            width = (x1 - x0) / strips
            for g in range(strips):
                boxes[f"{community}{g + 1:02d}"] = (x0 + g * width, cy0, x0 + (g + 1) * width, cy1)
    levels = {6: "district", 9: "town", 12: "community", 14: "grid"}
    areas = [
        {"id": code, "name": f"area {code}", "level": levels[len(code)], "geometry": _box(*box)}
        for code, box in boxes.items()
    ]
    return areas, boxes


def build_config(rng: random.Random) -> DistrictConfig:
    """A district of 200 areas, a taxonomy, 100 units and 300 rules, fixed by ``rng``."""
    areas, boxes = build_areas()
    codes = list(boxes)
    towns = [c for c in codes if len(c) == 9]
    communities = [c for c in codes if len(c) == 12]
    grids = [c for c in codes if len(c) == 14]
    categories = [{"id": top, "name": top} for top in TOPICS]
    categories += [{"id": f"{t}.{s}", "name": s} for t, subs in TOPICS.items() for s in subs]
    categories += [{"id": f"medical.emergency.{k}", "name": k} for k in ("adult", "child")]
    category_ids = [c["id"] for c in categories]
    contact = [{"channel": "sms", "address": "10086"}]
    units: list[dict[str, Any]] = [
        {"id": "service-office", "name": "service office", "kind": "street-office"}
    ]
    units += [{"id": f"town-{t}", "name": t, "kind": "town", "areas": [t]} for t in towns]
    units += [
        {"id": f"community-{c}", "name": c, "kind": "grass-roots", "areas": [c]}
        for c in communities
    ]
    units += [
        {"id": f"grid-{g}", "name": g, "kind": "grass-roots", "areas": [g]}
        for g in rng.sample(grids, 50)
    ]
    for top in TOPICS:
        units.append({"id": f"dept-{top}", "name": top, "kind": "department", "categories": [top]})
    while len(units) < 100:
        n = len(units)
        top = rng.choice(list(TOPICS))
        units.append(
            {
                "id": f"team-{n}",
                "name": f"team {n}",
                "kind": "special-team",
                "categories": [top],
                "areas": rng.sample(towns, rng.randint(0, 2)),
                "capacity": rng.choice([None, 3, 10]),
                "hours": rng.choice(
                    [None, {"open": "08:00", "close": "20:00"}, {"open": "22:00", "close": "06:00"}]
                ),
            }
        )
    for unit in units:
        unit["contacts"] = contact
    unit_ids = [u["id"] for u in units]
    routes = [_rule(rng, i, category_ids, codes, unit_ids) for i in range(282)]
    routes += [
        {"name": f"{top} to its department", "match": {"category": top}, "unit": f"dept-{top}"}
        for top in list(TOPICS)[:4]
    ]
    routes += [
        {"name": f"town {t} owns the rest", "match": {"area": t}, "unit": "area-owner"}
        for t in towns
    ]
    routes += [
        {
            "name": f"{top} at night",
            "match": {"category": top, "hours": "after-hours"},
            "unit": f"dept-{top}",
        }
        for top in list(TOPICS)[4:]
    ]
    routes += [
        {"name": f"{top} to its department", "match": {"category": top}, "unit": f"dept-{top}"}
        for top in list(TOPICS)[4:]
    ]
    routes += [
        {
            "name": "critical to the service office",
            "match": {"urgency": "critical"},
            "unit": "service-office",
        },
        {"name": "the rest of the district", "unit": "service-office"},
    ]
    assert len(routes) == 300, len(routes)
    return DistrictConfig.model_validate(
        {
            "district": "bench",
            "name": "Bench district",
            "areas": areas,
            "categories": categories,
            "units": units,
            "routes": routes,
            "peers": [
                {"district": "north", "url": "http://north", "areas": ["130400"]},
                {
                    "district": "east",
                    "url": "http://east",
                    "geometry": _box(EAST, SOUTH, 118.6, NORTH),
                },
            ],
        }
    )


def _rule(
    rng: random.Random, i: int, categories: list[str], codes: list[str], units: list[str]
) -> dict[str, Any]:
    """One rule: a few matchers, often specific enough that most requests pass it by."""
    match: dict[str, Any] = {}
    tops = [c for c in categories if "." not in c]
    leaves = [c for c in categories if "." in c]
    small = [c for c in codes if len(c) > 9]  # communities and grids
    kind = rng.random()
    if kind < 0.85:  # a category, narrowed by an area unless it is a leaf with other matchers
        pool = tops if kind < 0.15 else leaves
        picked = rng.sample(pool, rng.choice([1, 1, 2]))
        match["category"] = [f"={c}" if rng.random() < 0.1 else c for c in picked]
        if kind < 0.6:
            match["area"] = rng.sample(small if kind < 0.15 else codes[1:], rng.choice([1, 2, 3]))
        else:
            match["urgency"] = rng.sample([u.value for u in Urgency], rng.choice([1, 2]))
    else:  # an area alone, narrowed by urgency
        match["area"] = rng.sample(small, rng.choice([1, 2]))
        match["urgency"] = [rng.choice([Urgency.URGENT.value, Urgency.CRITICAL.value])]
    if rng.random() < 0.15:
        match["channel"] = rng.sample([c.value for c in Channel], rng.choice([1, 2, 3]))
    if rng.random() < 0.15:
        match["hours"] = rng.choice(["business", "after-hours"])
    elif rng.random() < 0.08:
        match["time"] = rng.choice(["22:00-06:00", "07:00-19:00"])
    rule: dict[str, Any] = {"name": f"rule {i:03d}", "match": match}
    kind = rng.random()
    if kind < 0.55:
        rule["unit"] = rng.choice(units)
    elif kind < 0.8:
        rule["unit"] = "area-owner"
    else:
        rule["pool"] = rng.sample(units, rng.randint(2, 4))
    if rng.random() < 0.06:
        rule["continue"] = True
    return rule


def build_requests(
    rng: random.Random, config: DistrictConfig, count: int
) -> list[tuple[RouteRequest, datetime, tuple[str, ...]]]:
    """Requests by area code, by coordinates or both, at moments spread over a week."""
    _, boxes = build_areas()
    codes = list(boxes)
    grids = [c for c in codes if len(c) == 14]
    leaves = [c.id for c in config.categories if "." in c.id]
    tops = [c.id for c in config.categories if "." not in c.id]
    unit_ids = config.unit_ids
    start = datetime(2026, 11, 23, tzinfo=UTC)
    out = []
    for _ in range(count):
        category = rng.choice(leaves) if rng.random() < 0.9 else rng.choice(tops)
        urgency = rng.choices(list(Urgency), weights=(80, 15, 5))[0]
        channel = rng.choices(list(Channel), weights=(60, 15, 10, 8, 4, 2, 1))[0]
        code: str | None = None
        lat: float | None = None
        lon: float | None = None
        how = rng.randrange(3)
        if how in (0, 2):
            roll = rng.random()
            if roll < 0.02:
                code = "130400001"  # a peer's area
            elif roll < 0.03:
                code = "999999"  # nobody's
            else:
                code = rng.choice(grids) if rng.random() < 0.8 else rng.choice(codes)
        if how in (1, 2):
            roll = rng.random()
            if how == 2 and code in boxes and roll < 0.85:
                x0, y0, x1, y1 = boxes[code]
                lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            elif roll < 0.05:
                x0, y0, x1, y1 = boxes[rng.choice(grids)]
                lon, lat = x1, rng.uniform(y0, y1)  # on a shared border
            elif roll < 0.08:
                lon, lat = rng.uniform(EAST, 118.6), rng.uniform(SOUTH, NORTH)  # in the peer
            elif roll < 0.10:
                lon, lat = rng.uniform(119.0, 120.0), rng.uniform(SOUTH, NORTH)  # nowhere
            else:
                lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        now = start + timedelta(seconds=rng.randrange(7 * 86400))
        excluded = (rng.choice(unit_ids),) if rng.random() < 0.05 else ()
        request = RouteRequest(category, urgency, channel, code, lat, lon)
        out.append((request, now, excluded))
    return out


def calibrate(steps: int = 10_000_000) -> float:
    """CPU seconds of a pure-Python loop of ``steps`` additions: the machine's speed."""
    begin = time.process_time()
    total = 0
    for i in range(steps):
        total += i
    return time.process_time() - begin


def _time(
    decide: Callable[..., Decision],
    requests: list[tuple[RouteRequest, datetime, tuple[str, ...]]],
    load: dict[str, int],
    explain: int,
) -> tuple[float, float, list[float]]:
    """CPU and wall seconds for one pass, and each decision's own wall time."""
    clock = time.perf_counter
    each: list[float] = []
    note = each.append
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for request, now, excluded in requests:
        t0 = clock()
        decision = decide(request, now=now, excluded=excluded, load=load)
        if explain:
            decision.explain()
            if explain > 1:
                decision.as_dict()
        note(clock() - t0)
    return time.process_time() - cpu0, time.perf_counter() - wall0, each


def _summary(decisions: list[Decision]) -> str:
    outcomes = Counter(
        "transfer" if d.transfer_to else "triage" if d.rule == TRIAGE_RULE else "unit"
        for d in decisions
    )
    sources = Counter(d.location.source for d in decisions)
    return f"outcomes {dict(outcomes)}, located by {dict(sources)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000, help="requests per pass")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-calibrate", action="store_true", help="skip the 10M-step loop")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    config = build_config(rng)
    built = time.process_time()
    rules = Rules(config)
    built = time.process_time() - built
    requests = build_requests(rng, config, args.decisions)
    load = {u: rng.randrange(12) for u in config.unit_ids}
    print(
        f"district: {len(config.areas)} areas, {len(config.categories)} categories,"
        f" {len(config.units)} units, {len(config.routes)} rules;"
        f" router built in {built * 1000:.0f} ms CPU",
        flush=True,
    )
    plain = Rules(config)
    decisions = [plain.decide_plainly(r, now=n, excluded=e, load=load) for r, n, e in requests]
    positions = [
        [route.name for route in config.routes].index(d.rule)
        for d in decisions
        if d.rule != TRIAGE_RULE and not d.transfer_to
    ]
    print(
        f"{len(requests)} requests: {_summary(decisions)};"
        f" deciding rule at position p50 {statistics.median(positions):.0f},"
        f" mean {statistics.fmean(positions):.0f} of {len(config.routes)}",
        flush=True,
    )
    passes = [
        ("plain: every rule tried", plain.decide_plainly, 0),
        ("  + explain() + as_dict()", plain.decide_plainly, 2),
        ("first pass, cold, all three", rules.decide, 2),
        ("decide", rules.decide, 0),
        ("decide + explain()", rules.decide, 1),
        ("  + as_dict() (router)", rules.decide, 2),
    ]
    for label, decide, explain in passes:
        cpu, wall, each = _time(decide, requests, load, explain)
        each.sort()
        print(
            f"{label:>28}: {len(requests) / cpu:,.0f} decisions/s CPU,"
            f" {len(requests) / wall:,.0f} decisions/s wall;"
            f" p50 {each[len(each) // 2] * 1e6:.0f} us,"
            f" p99 {each[len(each) * 99 // 100] * 1e6:.0f} us",
            flush=True,
        )
    if not args.no_calibrate:
        print(
            f"calibration: a pure-Python 10M-step loop took {calibrate():.2f} s CPU"
            " (it took 0.32 s on the machine the README's figures come from)",
            flush=True,
        )


if __name__ == "__main__":
    main()
