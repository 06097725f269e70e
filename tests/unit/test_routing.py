"""The routing decision: every matcher and target kind, locations, explanations, properties."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.routing import build_config, build_requests
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.lint import lint
from hotline.shared.domain.routing import TRIAGE_RULE, Decision, RouteRequest, Rules
from hotline.shared.domain.ticket import Channel, Urgency

EXAMPLE = Rules(load_config(None))
#: A Tuesday at 10:00 in Shanghai (business hours) and the same day at 22:00.
DAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def req(
    category: str = "supplies.food", area: str | None = "130202001001", **kw: Any
) -> RouteRequest:
    return RouteRequest(category, kw.pop("urgency", Urgency.NORMAL), area_code=area, **kw)


def square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def district(routes: list[dict[str, Any]], **extra: Any) -> Rules:
    """A small district: two streets side by side, a community with a hole, two peers."""
    data: dict[str, Any] = {
        "district": "d",
        "name": "D",
        "areas": [
            {
                "id": "1",
                "name": "D",
                "geometry": {"type": "Polygon", "coordinates": [square(0, 0, 20, 10)]},
            },
            {
                "id": "11",
                "name": "West",
                "geometry": {"type": "Polygon", "coordinates": [square(0, 0, 10, 10)]},
            },
            {
                "id": "12",
                "name": "East",
                "geometry": {"type": "Polygon", "coordinates": [square(10, 0, 20, 10)]},
            },
            {
                "id": "111",
                "name": "West community",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [square(1, 1, 9, 9), square(4, 4, 6, 6)],
                },
            },
        ],
        "categories": [{"id": i, "name": i} for i in ("a", "a.x", "a.y", "b")],
        "units": [
            {"id": u, "name": u, "areas": areas, "contacts": [{"channel": "sms", "address": "1"}]}
            for u, areas in [
                ("west", ["11"]),
                ("east", ["12"]),
                ("comm", ["111"]),
                ("p1", []),
                ("p2", []),
                ("p3", []),
            ]
        ],
        "routes": routes,
        "peers": [
            {"district": "north", "url": "http://north", "areas": ["2"], "token": "n"},
            {
                "district": "south",
                "url": "http://south",
                "token_env": "HOTLINE_PEER_TOKEN_SOUTH",
                "geometry": {"type": "Polygon", "coordinates": [square(0, -10, 20, 0)]},
            },
        ],
    } | extra
    return Rules(DistrictConfig.model_validate(data))


def test_category_rule_wins_over_area_and_says_why() -> None:
    decision = EXAMPLE.decide(req("medical.dialysis", urgency=Urgency.URGENT), now=DAY)
    assert (decision.unit, decision.rule) == ("health-bureau", "medical to the health bureau")
    assert decision.location.chain == ("130202001001", "130202001", "130202")
    failed = {t.rule: t.failed for t in decision.tried}
    assert failed["emergencies watched by the service office"] == (
        "category medical.dialysis not under medical.emergency"
    )


def test_area_matches_at_any_level_of_the_hierarchy() -> None:
    decision = EXAMPLE.decide(req("supplies.food", "130202001001"), now=DAY)
    assert decision.unit == "friendship-street"
    assert EXAMPLE.decide(req("consult", "130202"), now=DAY).unit == "service-office"


def test_category_prefix_respects_the_dot_and_exact_match() -> None:
    rules = district(
        [
            {"name": "exact a", "match": {"category": "=a"}, "unit": "p1"},
            {"name": "a", "match": {"category": "a"}, "unit": "p2"},
        ]
    )
    assert rules.decide(req("a", None), now=DAY).unit == "p1"
    assert rules.decide(req("a.x", None), now=DAY).unit == "p2"
    assert rules.decide(req("b", None), now=DAY).unit is None


def test_urgency_and_channel_conditions() -> None:
    rules = district(
        [
            {"name": "critical", "match": {"urgency": "critical"}, "unit": "p1"},
            {"name": "sms", "match": {"channel": ["sms", "app"]}, "unit": "p2"},
        ]
    )
    assert rules.decide(req("a", None, urgency=Urgency.CRITICAL), now=DAY).unit == "p1"
    by_sms = rules.decide(req("a", None, channel=Channel.SMS), now=DAY)
    assert by_sms.unit == "p2"
    assert by_sms.tried[0].failed == "urgency normal not in critical"
    assert rules.decide(req("a", None), now=DAY).rule == TRIAGE_RULE


def test_business_hours_and_time_windows_in_local_time() -> None:
    rules = district(
        [
            {"name": "office", "match": {"hours": "business"}, "unit": "p1"},
            {"name": "night", "match": {"time": "21:00-07:00"}, "unit": "p2"},
        ],
        timezone="Asia/Shanghai",
    )
    assert rules.decide(req("a", None), now=DAY).unit == "p1"
    at_night = rules.decide(req("a", None), now=NIGHT)
    assert at_night.unit == "p2"
    assert at_night.tried[0].failed == "Tue 22:00 is not business"
    sunday_noon = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert rules.decide(req("a", None), now=sunday_noon).rule == TRIAGE_RULE


def test_area_owner_takes_the_most_specific_serving_unit() -> None:
    rules = district([{"name": "owner", "match": {}, "unit": "area-owner"}])
    assert rules.decide(req("a", "111"), now=DAY).unit == "comm"
    assert rules.decide(req("a", "111"), now=DAY, excluded=["comm"]).unit == "west"
    assert rules.decide(req("a", "12"), now=DAY).unit == "east"
    unlocated = rules.decide(req("a", None), now=DAY)
    assert (
        unlocated.unit is None and unlocated.tried[0].failed == "area-owner needs a located request"
    )


def test_pool_takes_the_least_busy_with_stable_ties_and_respects_capacity() -> None:
    rules = district([{"name": "pool", "match": {}, "pool": ["p1", "p2", "p3"]}])
    assert rules.decide(req("a", None), now=DAY, load={}).unit == "p1"
    assert rules.decide(req("a", None), now=DAY, load={"p1": 2, "p2": 1, "p3": 1}).unit == "p2"
    assert rules.decide(req("a", None), now=DAY, load={"p1": 0}, excluded=["p1"]).unit == "p2"
    full = district(
        [{"name": "pool", "match": {}, "pool": ["p1", "p2"]}],
    )
    units = [u.model_copy(update={"capacity": 1}) for u in full.config.units]
    capped = Rules(full.config.model_copy(update={"units": tuple(units)}))
    assert capped.decide(req("a", None), now=DAY, load={"p1": 1}).unit == "p2"
    assert capped.decide(req("a", None), now=DAY, load={"p1": 1, "p2": 1}).unit is None


def test_continue_sends_copies_and_goes_on() -> None:
    decision = EXAMPLE.decide(req("medical.emergency", urgency=Urgency.CRITICAL), now=DAY)
    assert decision.unit == "health-bureau"
    assert decision.observers == ("service-office",)
    assert decision.tried[0].observed_by == ("service-office",)


def test_returned_units_are_never_chosen_again_and_unmatched_goes_to_triage() -> None:
    decision = EXAMPLE.decide(req(), now=DAY, excluded=["friendship-street"])
    assert (decision.unit, decision.rule) == ("service-office", "the rest of the district")
    assert "unit friendship-street returned this task" in decision.explain()
    none_left = EXAMPLE.decide(req(), now=DAY, excluded=["friendship-street", "service-office"])
    assert (none_left.unit, none_left.rule) == (None, TRIAGE_RULE)


def test_coordinates_locate_by_polygon_most_specific_first() -> None:
    rules = district([])
    assert rules.decide(req("a", None, lat=2.0, lon=2.0), now=DAY).location.chain == (
        "111",
        "11",
        "1",
    )
    in_hole = rules.decide(req("a", None, lat=5.0, lon=5.0), now=DAY).location
    assert in_hole.chain == ("11", "1")


def test_a_point_on_a_shared_border_goes_to_the_lower_id() -> None:
    rules = district([])
    assert rules.decide(req("a", None, lat=5.0, lon=10.0), now=DAY).location.chain == ("11", "1")
    on_hole_edge = rules.decide(req("a", None, lat=5.0, lon=4.0), now=DAY).location
    assert on_hole_edge.chain[0] == "111"  # the community's own boundary belongs to it


def test_outside_every_area_is_not_located_and_said_so() -> None:
    location = district([]).decide(req("a", None, lat=50.0, lon=50.0), now=DAY).location
    assert location.chain == () and location.peer is None
    assert location.note == "coordinates (50.0, 50.0) lie outside every area"


def test_the_area_code_wins_over_coordinates_and_the_disagreement_is_kept() -> None:
    location = district([]).decide(req("a", "12", lat=2.0, lon=2.0), now=DAY).location
    assert location.chain == ("12", "1")
    assert location.note == "coordinates lie in area 111, not 12; the area code wins"
    agreeing = district([]).decide(req("a", "11", lat=2.0, lon=2.0), now=DAY).location
    assert agreeing.note is None


def test_a_request_in_a_peer_district_is_transferred_by_code_or_point() -> None:
    rules = district([{"name": "all", "match": {}, "unit": "p1"}])
    by_code = rules.decide(req("a", "2001"), now=DAY)
    assert (by_code.transfer_to, by_code.unit) == ("north", None)
    by_point = rules.decide(req("a", None, lat=-5.0, lon=5.0), now=DAY)
    assert by_point.transfer_to == "south"
    assert "transfer to district south" in by_point.explain()


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        ([{"name": "x", "match": {"category": "z"}, "unit": "p1"}], "names unknown category 'z'"),
        ([{"name": "x", "match": {"area": "9"}, "unit": "p1"}], "names unknown area '9'"),
        ([{"name": "x", "unit": "nobody"}], "sends to unknown unit 'nobody'"),
        ([{"name": "x", "unit": "p1", "pool": ["p2"]}], "needs exactly one of unit and pool"),
    ],
)
def test_broken_references_are_refused(routes: list[dict[str, Any]], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        district(routes)


def test_lint_finds_shadowed_rules_unrouted_categories_and_unreachable_units() -> None:
    reachable = [
        {"id": u, "name": u, "contacts": [{"channel": "sms", "address": "1"}]} for u in ("p1", "p2")
    ]
    rules = district(
        [
            {"name": "all a", "match": {"category": "a"}, "unit": "p1"},
            {"name": "a.x in west", "match": {"category": "a.x", "area": "11"}, "unit": "p2"},
        ],
        units=[*reachable, {"id": "silent", "name": "A unit nobody can reach"}],
    )
    findings = lint(rules)
    messages = [f.message for f in findings]
    assert messages[0].startswith("route 'a.x in west' can never match first")
    assert "category 'b' has no route but manual triage" in messages
    assert [m for m in messages if "contact" in m] == ["unit 'silent' has no contact"]
    assert {f.level for f in findings} == {"warning"}
    assert lint(EXAMPLE) == []


categories = st.sampled_from([c.id for c in EXAMPLE.config.categories])
codes = st.sampled_from([None, *[a.id for a in EXAMPLE.config.areas], "130203001"])
units = st.lists(st.sampled_from(EXAMPLE.config.unit_ids), max_size=3)
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@given(
    categories,
    codes,
    st.sampled_from(list(Urgency)),
    st.sampled_from(list(Channel)),
    units,
    moments,
)
def test_every_request_gets_at_most_one_primary_unit_deterministically(
    category: str,
    code: str | None,
    urgency: Urgency,
    channel: Channel,
    excluded: list[str],
    now: datetime,
) -> None:
    request = RouteRequest(category, urgency, channel, code)
    first = EXAMPLE.decide(request, now=now, excluded=excluded)
    assert EXAMPLE.decide(request, now=now, excluded=excluded) == first
    assert first.unit is None or first.unit in EXAMPLE.config.unit_ids
    assert first.unit not in excluded
    assert first.unit not in first.observers
    # exactly one outcome: a unit, a transfer, or manual triage
    assert [first.unit is not None, first.transfer_to is not None, first.rule == TRIAGE_RULE].count(
        True
    ) == 1
    if code is not None and code.startswith("130202") and not excluded:
        assert first.unit is not None  # inside the district, some rule always takes it


SMALL_CATEGORIES = ["a", "a.x", "a.y", "b"]
SMALL_UNITS: list[dict[str, Any]] = [
    {"id": "west", "name": "west", "areas": ["11"], "categories": ["a"]},
    {"id": "east", "name": "east", "areas": ["12", "1"]},
    {"id": "comm", "name": "comm", "areas": ["111"], "hours": {"open": "22:00", "close": "06:00"}},
    {"id": "p1", "name": "p1", "capacity": 2},
    {"id": "p2", "name": "p2", "areas": ["111"], "hours": {"open": "08:00", "close": "18:00"}},
    {"id": "p3", "name": "p3", "categories": ["a.x"]},
]
SMALL_UNIT_IDS = [u["id"] for u in SMALL_UNITS]


def _some(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), max_size=2, unique=True)


matches = st.fixed_dictionaries(
    {},
    optional={
        "category": _some([*SMALL_CATEGORIES, "=a", "=a.x"]),
        "area": _some(["1", "11", "12", "111"]),
        "urgency": _some([u.value for u in Urgency]),
        "channel": _some([Channel.PHONE.value, Channel.WEB.value, Channel.SMS.value]),
        "hours": st.sampled_from(["business", "after-hours"]),
        "time": st.sampled_from(["22:00-06:00", "09:00-12:00"]),
    },
)
targets = st.one_of(
    st.sampled_from([*SMALL_UNIT_IDS, "area-owner"]).map(lambda u: {"unit": u}),
    st.lists(st.sampled_from(SMALL_UNIT_IDS), min_size=1, max_size=3, unique=True).map(
        lambda p: {"pool": p}
    ),
)
rule_lists = st.lists(
    st.tuples(matches, targets, st.booleans()).map(
        lambda r: {"match": r[0], **r[1], "continue": r[2]}
    ),
    max_size=12,
)
coordinates = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from([-5.0, 0.0, 1.0, 2.0, 4.0, 5.0, 9.0, 10.0, 15.0, 20.0, 50.0]),
        st.sampled_from([-5.0, 0.0, 1.0, 2.0, 5.0, 9.0, 10.0, 30.0]),
    ),
)
small_requests = st.builds(
    lambda category, code, urgency, channel, point: RouteRequest(
        category, urgency, channel, code, *(point or (None, None))
    ),
    st.sampled_from([*SMALL_CATEGORIES, "c"]),
    st.sampled_from([None, "1", "11", "12", "111", "2001", "9"]),
    st.sampled_from(list(Urgency)),
    st.sampled_from([Channel.PHONE, Channel.WEB, Channel.SMS]),
    coordinates,
)


@given(
    rule_lists,
    st.lists(small_requests, min_size=1, max_size=6),
    st.lists(st.sampled_from(SMALL_UNIT_IDS), max_size=2),
    st.dictionaries(st.sampled_from(SMALL_UNIT_IDS), st.integers(0, 3)),
    moments,
)
def test_the_fast_decision_agrees_with_trying_every_rule_in_order(
    rules: list[dict[str, Any]],
    requests: list[RouteRequest],
    excluded: list[str],
    load: dict[str, int],
    now: datetime,
) -> None:
    routes = [{"name": f"rule {i}", **rule} for i, rule in enumerate(rules)]
    rules = district(routes, units=[u | {"contacts": []} for u in SMALL_UNITS])
    for request in requests * 2:  # the second round meets the candidate lists built by the first
        fast = rules.decide(request, now=now, excluded=excluded, load=load)
        plain = rules.decide_plainly(request, now=now, excluded=excluded, load=load)
        assert (fast.unit, fast.rule, fast.observers, fast.transfer_to) == (
            plain.unit,
            plain.rule,
            plain.observers,
            plain.transfer_to,
        )
        assert fast.outcome == plain.outcome
        assert fast.tried == plain.tried
        assert fast.explain() == plain.explain()
        assert fast.as_dict() == plain.as_dict()
        assert fast == plain and plain == fast and hash(fast) == hash(plain)


def test_the_deferred_explanation_uses_the_load_as_it_was_when_deciding() -> None:
    rules = district(
        [
            {"name": "busy pool", "match": {"category": "b"}, "pool": ["p1"]},
            {"name": "all", "match": {}, "unit": "p2"},
        ]
    )
    load = {"p1": 0}
    decision = rules.decide(req("a", None), now=DAY, load=load)
    load["p1"] = 5
    assert [t.failed for t in decision.tried] == ["category a not under b", None]
    copied = pickle.loads(pickle.dumps(decision))
    assert copied == decision and type(copied) is Decision
    assert repr(decision) == repr(copied)
    full = rules.decide(req("b", None), now=DAY, load={"p1": 5})
    load["p1"] = 0
    assert full.unit == "p1" and full.explain() == "unit p1 by rule 'busy pool'"


def test_the_fast_decision_agrees_on_the_benchmark_district() -> None:
    rng = random.Random(3)
    config = build_config(rng)
    rules, plain = Rules(config), Rules(config)
    load = {u: rng.randrange(12) for u in config.unit_ids}
    for request, now, excluded in build_requests(rng, config, 400) * 2:
        fast = rules.decide(request, now=now, excluded=excluded, load=load)
        slow = plain.decide_plainly(request, now=now, excluded=excluded, load=load)
        assert fast == slow
        assert (fast.explain(), fast.as_dict()) == (slow.explain(), slow.as_dict())


def test_lint_knows_an_exact_category_does_not_cover_the_categories_below_it() -> None:
    rules = district(
        [
            {"name": "a alone", "match": {"category": "=a"}, "unit": "p1"},
            {"name": "all a", "match": {"category": "a"}, "unit": "p2"},
            {"name": "a.x alone", "match": {"category": "=a.x"}, "unit": "p3"},
            {"name": "b", "match": {"category": "b"}, "unit": "p3"},
        ]
    )
    messages = [f.message for f in lint(rules)]
    assert messages == [
        "route 'a.x alone' can never match first: "
        "route 'all a' above it takes every request it would"
    ]
