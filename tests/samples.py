"""Sample requests for the two example districts, each with where docs/examples.md says it goes.

The expectation of every sample is worked out here from the tables in
docs/examples.md, written down a second time as plain ``if``s over a
hand-written map of each district; it never asks the router. So when the router
and the document disagree, a test that compares the two fails.

The samples are generated, never stored: the same seed gives the same requests.
To write a file to try them by hand (one JSON object a line, with the request
as ``POST /api/v1/requests`` takes it and the expected outcome at three moments):

    .venv/bin/python -m tests.samples --district chunshan --count 1000 --out chunshan.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hotline.shared.examples

EXAMPLES = Path(hotline.shared.examples.__file__).parent
DISTRICTS = ("lunan", "chunshan")
ZONE = ZoneInfo("Asia/Shanghai")  # both examples keep Beijing time

#: The fixed moments the samples are routed at: inside the office hours, a
#: weekday night, and a weekend afternoon (after hours, but the day rota is on).
MOMENTS = {
    "business": datetime(2026, 11, 24, 2, 0, tzinfo=UTC),  # Tue 10:00 in Shanghai
    "night": datetime(2026, 11, 24, 15, 0, tzinfo=UTC),  # Tue 23:00
    "weekend": datetime(2026, 11, 28, 7, 0, tzinfo=UTC),  # Sat 15:00
}

Box = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1


@dataclass(frozen=True)
class Clock:
    """What the documented tables ask of the time: office hours, the night window, the rota."""

    business: bool  # Monday to Friday, 08:30-17:30
    night: bool  # 22:00-06:00
    day_rota: bool  # 08:00-20:00, every day

    @classmethod
    def at(cls, moment: datetime) -> Clock:
        local = moment.astimezone(ZONE)
        now = local.time().replace(tzinfo=None)
        return cls(
            business=local.weekday() < 5 and time(8, 30) <= now < time(17, 30),
            night=now >= time(22, 0) or now < time(6, 0),
            day_rota=time(8, 0) <= now < time(20, 0),
        )


@dataclass(frozen=True)
class Expected:
    """Where a request goes: ``unit``, or a ``transfer_to`` a peer, or neither (manual triage)."""

    unit: str | None = None
    transfer_to: str | None = None
    observers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "transfer_to": self.transfer_to,
            "observers": list(self.observers),
        }


@dataclass(frozen=True)
class Sample:
    """A request in the native API shape, and where the person who wrote it placed it.

    ``chain`` is the place (most specific area first) the district's documented
    rules give it; empty when it is placed nowhere of ours; ``peer`` when it
    lies in a neighbouring district.
    """

    request: dict[str, Any]
    chain: tuple[str, ...] = ()
    peer: str | None = None
    expected: dict[str, Expected] = field(default_factory=dict)


# -- Lunan: the district whose service office dispatches to towns and streets ------------------

LUNAN_PARENT = {
    "130202001": "130202",
    "130202001001": "130202001",
    "130202002": "130202",
    "130202003": "130202",
    "130202101": "130202",
}
LUNAN_STREET_UNIT = {
    "130202001": "friendship-street",
    "130202002": "xueyuan-street",
    "130202003": "wenhua-street",
    "130202101": "nuzhi-town",
    "130202": "service-office",
}
LUNAN_CATEGORIES = {  # category: weight, after what the report says people asked for
    "supplies": 4,
    "supplies.food": 14,
    "supplies.medicine": 8,
    "medical": 6,
    "medical.dialysis": 5,
    "medical.emergency": 5,
    "mobility": 6,
    "mobility.stranded": 8,
    "complaint": 4,
    "complaint.community-control": 6,
    "consult": 5,
}


def expect_lunan(category: str, chain: tuple[str, ...], peer: str | None) -> Expected:
    """docs/examples.md, Lunan: the same at every hour."""
    if peer:
        return Expected(transfer_to=peer)
    if category == "medical.emergency":
        return Expected("health-bureau", observers=("service-office",))
    if category.startswith("medical"):
        return Expected("health-bureau")
    if category == "mobility.stranded":
        return Expected("transport-team")
    for area in chain:
        if area in LUNAN_STREET_UNIT:
            return Expected(LUNAN_STREET_UNIT[area])
    return Expected()


# -- Chunshan: the city whose call centre transfers to special teams and grass-roots units -----

CHUNSHAN_PARENT = {
    "229901": "229900",
    "229901001": "229901",
    "229901001001": "229901001",
    "229901002": "229901",
    "229901101": "229901",
    "229902": "229900",
    "229902001": "229902",
    "229902001001": "229902001",
    "229902002": "229902",
    "229903": "229900",
    "229903001": "229903",
    "229903101": "229903",
    "229904": "229900",
    "229904001": "229904",
    "229904002": "229904",
}
#: Boxes well inside each outline (and outside the outlines within it): a point
#: drawn in one is placed in the area that starts the chain.
CHUNSHAN_BOXES: list[tuple[tuple[str, ...], Box]] = [
    (("229901001001", "229901001", "229901", "229900"), (125.203, 43.978, 125.232, 43.997)),
    (("229901001", "229901", "229900"), (125.240, 43.953, 125.267, 43.997)),
    (("229901002", "229901", "229900"), (125.273, 43.953, 125.347, 43.997)),
    (("229901", "229900"), (125.203, 43.903, 125.347, 43.947)),  # no street outline here
    (("229902", "229900"), (125.353, 43.903, 125.497, 43.997)),
    (("229903001", "229903", "229900"), (125.203, 43.853, 125.347, 43.897)),
    (("229903101", "229903", "229900"), (125.203, 43.803, 125.347, 43.847)),
    (("229903", "229900"), (125.190, 43.840, 125.198, 43.860)),  # Luyuan's western edge
    (("229904", "229900"), (125.353, 43.803, 125.497, 43.897)),
]
CHUNSHAN_PEER_BOX: Box = (125.210, 43.705, 125.490, 43.795)  # Nanling County
OUTSIDE_BOX: Box = (126.000, 44.300, 126.200, 44.500)  # nobody's
CHUNSHAN_PEER_CODES = ("229920", "229920001", "229920101001")
#: The grass-roots unit of each area; a community committee takes only some categories.
CHUNSHAN_OWNER = {
    "229901001001": "hongqi-community",
    "229901001": "nanhu-street",
    "229901002": "xinglong-street",
    "229901101": "shuangde-town",
    "229901": "qingyang-office",
    "229902001001": "shengli-community",
    "229902001": "dongsheng-street",
    "229902002": "liuying-street",
    "229902": "kuanping-office",
    "229903001": "zhengyang-street",
    "229903101": "hexin-town",
    "229903": "luyuan-office",
    "229904001": "heshun-street",
    "229904002": "yingbin-street",
    "229904": "xinkai-office",
}
COMMUNITY_TAKES = ("supplies", "control", "assistance", "epidemic.quarantine")
CHUNSHAN_CATEGORIES = {
    "consult": 10,
    "epidemic": 8,
    "epidemic.testing": 6,
    "epidemic.report": 4,
    "epidemic.quarantine": 8,
    "medical": 3,
    "medical.chronic": 4,
    "medical.emergency": 4,
    "supplies": 4,
    "supplies.food": 10,
    "supplies.medicine": 5,
    "transport": 2,
    "transport.pass": 5,
    "transport.stranded": 3,
    "assistance": 2,
    "assistance.elderly": 3,
    "assistance.hardship": 2,
    "control": 3,
    "control.complaint": 8,
    "control.volunteer": 2,
    "counselling": 4,
    "utilities": 4,
}


def _is(category: str, family: str) -> bool:
    return category == family or category.startswith(family + ".")


def _grass_roots(category: str, chain: tuple[str, ...]) -> str | None:
    for area in chain:
        owner = CHUNSHAN_OWNER.get(area)
        if owner is None:
            continue
        if owner.endswith("-community") and not any(_is(category, c) for c in COMMUNITY_TAKES):
            continue
        return owner
    return None


def expect_chunshan(
    category: str,
    urgency: str,
    channel: str,
    chain: tuple[str, ...],
    peer: str | None,
    clock: Clock,
    full: frozenset[str] = frozenset(),
) -> Expected:
    """docs/examples.md, Chunshan: the table read top to bottom, first row that fits.

    ``full`` names the counselling rotas that already have their full load of open tasks.
    """
    if peer:
        return Expected(transfer_to=peer)
    copies = []
    if urgency == "critical":
        copies.append("duty-leader")
    if category == "epidemic.quarantine":
        copies.append("epidemic-team")
    unit = _chunshan_unit(category, urgency, channel, chain, clock, full)
    return Expected(unit, observers=tuple(c for c in copies if c != unit))


def _chunshan_unit(
    category: str,
    urgency: str,
    channel: str,
    chain: tuple[str, ...],
    clock: Clock,
    full: frozenset[str],
) -> str | None:
    if _is(category, "consult"):
        return "call-centre"
    if category == "medical.emergency" and urgency == "critical":
        return "ambulance-liaison"
    if _is(category, "medical") or category == "supplies.medicine":
        return "medical-supplies-team"
    owner = _grass_roots(category, chain)
    if category == "epidemic.quarantine" and owner:
        return owner
    if category == "epidemic":
        return "call-centre"
    if _is(category, "epidemic"):
        return "epidemic-team"
    if category == "transport.stranded":
        return "transport-team"
    if _is(category, "transport"):
        return "transport-team" if clock.business else "call-centre"
    if category == "supplies.food" and urgency in ("urgent", "critical") and clock.night:
        return "night-convoy"
    if _is(category, "assistance") and clock.business:
        return "assistance-team"
    on_duty = "counselling-day" if clock.day_rota else "counselling-night"
    if _is(category, "counselling") and on_duty not in full:
        return on_duty
    if category == "control.complaint" and channel in ("web", "app"):
        return "supervision-office"
    if _is(category, "supplies") and "229903" in chain:
        return "luyuan-supplies"
    if chain:
        return owner or "call-centre"  # the city itself has no grass-roots unit
    return None


# -- generating the requests -------------------------------------------------------------------

SURNAMES = ("Zhao", "Qian", "Sun", "Li", "Zhou", "Wu", "Zheng", "Wang", "Feng", "Chen", "Liu")
URGENCIES = {"normal": 70, "urgent": 22, "critical": 8}
CHANNELS = {"phone": 70, "web": 9, "app": 9, "sms": 4, "walk-in": 4, "email": 4}


def _chain(parent: dict[str, str], code: str) -> tuple[str, ...]:
    chain = [code]
    while chain[-1] in parent:
        chain.append(parent[chain[-1]])
    return tuple(chain)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _point(rng: random.Random, box: Box) -> tuple[float, float]:
    """A point in ``box``, as (lat, lon), rounded as a phone reports it."""
    lon0, lat0, lon1, lat1 = box
    return round(rng.uniform(lat0, lat1), 6), round(rng.uniform(lon0, lon1), 6)


def _place_lunan(rng: random.Random) -> tuple[dict[str, Any], tuple[str, ...], str | None]:
    """Lunan has no outlines: a map point alone places nothing; with a code, the code decides."""
    ours = ["130202", *LUNAN_PARENT]
    how = rng.choices(["code", "point", "both", "peer"], [72, 10, 12, 6])[0]
    point = _point(rng, (118.10, 39.58, 118.25, 39.68))
    if how == "point":
        return {"lat": point[0], "lon": point[1]}, (), None
    if how == "peer":
        return {"area_code": rng.choice(("130203", "130203001", "130203101"))}, (), "lubei"
    code = rng.choice(ours)
    where: dict[str, Any] = {"area_code": code}
    if how == "both":
        where |= {"lat": point[0], "lon": point[1]}
    return where, _chain(LUNAN_PARENT, code), None


def _place_chunshan(rng: random.Random) -> tuple[dict[str, Any], tuple[str, ...], str | None]:
    """A code, a map point, or both; the code wins when both are given.

    Every code is ours or the peer's: the intake refuses any other (422), so such
    a request never reaches the router.
    """
    ours = ["229900", *CHUNSHAN_PARENT]
    how = rng.choices(
        ["code", "point", "agree", "disagree", "peer-code", "peer-point", "outside"],
        [42, 30, 8, 6, 4, 4, 6],
    )[0]
    if how == "point":
        chain, box = rng.choice(CHUNSHAN_BOXES)
        lat, lon = _point(rng, box)
        return {"lat": lat, "lon": lon}, chain, None
    if how == "agree":  # the code of the point's area, or of an area above it
        chain, box = rng.choice(CHUNSHAN_BOXES)
        lat, lon = _point(rng, box)
        level = rng.randrange(len(chain))
        return {"area_code": chain[level], "lat": lat, "lon": lon}, chain[level:], None
    if how == "disagree":  # a point anywhere (ours, the peer's, nobody's); the code wins
        box = rng.choice([b for _, b in CHUNSHAN_BOXES] + [CHUNSHAN_PEER_BOX, OUTSIDE_BOX])
        lat, lon = _point(rng, box)
        code = rng.choice([*ours, *CHUNSHAN_PEER_CODES])
        where = {"area_code": code, "lat": lat, "lon": lon}
        if code in CHUNSHAN_PEER_CODES:
            return where, (), "nanling"
        return where, _chain(CHUNSHAN_PARENT, code), None
    if how == "peer-code":
        return {"area_code": rng.choice(CHUNSHAN_PEER_CODES)}, (), "nanling"
    if how == "peer-point":
        lat, lon = _point(rng, CHUNSHAN_PEER_BOX)
        return {"lat": lat, "lon": lon}, (), "nanling"
    if how == "outside":
        lat, lon = _point(rng, OUTSIDE_BOX)
        return {"lat": lat, "lon": lon}, (), None
    code = rng.choice(ours)
    return {"area_code": code}, _chain(CHUNSHAN_PARENT, code), None


def expect(
    district: str, sample: Sample, clock: Clock, full: frozenset[str] = frozenset()
) -> Expected:
    """Where ``sample`` goes at a time like ``clock``, by the district's documented table."""
    request = sample.request
    if district == "lunan":
        return expect_lunan(request["category"], sample.chain, sample.peer)
    return expect_chunshan(
        request["category"],
        request["urgency"],
        request["channel"],
        sample.chain,
        sample.peer,
        clock,
        full,
    )


def samples(district: str, count: int = 1000, seed: int = 12345) -> list[Sample]:
    """``count`` requests for ``district``, the same ones for the same seed."""
    if district not in DISTRICTS:
        raise ValueError(f"no example district {district!r}; there are {', '.join(DISTRICTS)}")
    rng = random.Random(f"{district}:{seed}")
    categories = LUNAN_CATEGORIES if district == "lunan" else CHUNSHAN_CATEGORIES
    place = _place_lunan if district == "lunan" else _place_chunshan
    made = []
    for number in range(1, count + 1):
        category = _pick(rng, categories)
        where, chain, peer = place(rng)
        where["address"] = f"Building {rng.randint(1, 40)}, unit {rng.randint(1, 6)}"
        request = {
            "district": district,
            "channel": _pick(rng, CHANNELS),
            "caller": {
                "name": f"Resident {rng.choice(SURNAMES)} ({number:04d})",
                "phone": f"+86 139 0000 {rng.randint(0, 9999):04d}",
            },
            "location": where,
            "category": category,
            "description": f"Sample request {number} about {category}",
            "urgency": _pick(rng, URGENCIES),
        }
        sample = Sample(request, chain, peer)
        for name, moment in MOMENTS.items():
            sample.expected[name] = expect(district, sample, Clock.at(moment))
        made.append(sample)
    return made


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.samples",
        description="Write sample requests for an example district, with their expected routing.",
    )
    parser.add_argument("--district", choices=DISTRICTS, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", help="file to write (default: standard output)")
    parser.add_argument(
        "--requests-only",
        action="store_true",
        help="write only the requests, one a line, as POST /api/v1/requests takes them",
    )
    args = parser.parse_args(argv)
    lines = []
    for sample in samples(args.district, args.count, args.seed):
        if args.requests_only:
            line: dict[str, Any] = sample.request
        else:
            line = {
                "request": sample.request,
                "expected": {k: v.as_dict() for k, v in sample.expected.items()},
            }
        lines.append(json.dumps(line, ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
