"""Hot spots in the domain: which counters a request adds to, windows, and bad rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from faust.windows import HoppingWindow

from hotline.shared.configuration.file import EXAMPLE, ConfigError, parse_config
from hotline.shared.domain import hotspots
from hotline.shared.domain.config import Hotspot
from hotline.shared.domain.location import AreaMap

RULES = """
hotspots:
  - {name: food per community, category: supplies.food, level: community, threshold: 3, window: 1h}
  - {category: supplies, level: street, threshold: 5, window: 30m}
"""
CONFIG = parse_config(EXAMPLE.read_text(encoding="utf-8") + RULES, "lunan.yaml")
COMMUNITY = ("130202001001", "130202001", "130202")

#: Xinhua Community with a map outline, so that a caller's map point alone locates them there.
XINHUA = '  - {id: "130202001001", name: Friendship Street / Xinhua Community, level: community}\n'
OUTLINED = XINHUA.replace(
    "level: community}",
    "level: community,\n     geometry: {type: Polygon, coordinates: [[[118.17, 39.62],"
    " [118.19, 39.62], [118.19, 39.64], [118.17, 39.64], [118.17, 39.62]]]}}",
)
IN_XINHUA = (39.63, 118.18)  # lat, lon


def outlined(text: str) -> str:
    """The example district's text with Xinhua Community's outline."""
    assert text.count(XINHUA) == 1
    return text.replace(XINHUA, OUTLINED)


MAPPED = parse_config(outlined(EXAMPLE.read_text(encoding="utf-8")) + RULES, "lunan.yaml")


def test_a_request_counts_for_each_rule_at_its_level() -> None:
    assert hotspots.counted_in(CONFIG, "supplies.food", COMMUNITY) == [
        (0, "130202001001"),
        (1, "130202001"),
    ]
    assert hotspots.counted_in(CONFIG, "supplies.medicine", COMMUNITY) == [(1, "130202001")]
    assert hotspots.counted_in(CONFIG, "supplies.food", ("130202002", "130202")) == [
        (1, "130202002")
    ]  # located at street level only: no community to count
    assert hotspots.counted_in(CONFIG, "medical", COMMUNITY) == []


def test_a_request_located_by_its_map_point_alone_counts_where_it_was_located() -> None:
    location = AreaMap(MAPPED).locate(None, *IN_XINHUA)
    assert (location.source, location.area) == ("coordinates", "130202001001")
    received = {"type": "received", "area_code": None, "data": {"area": location.area}}
    area = hotspots.located(received)
    assert area == "130202001001"
    assert hotspots.counted_in(MAPPED, "supplies.food", AreaMap(MAPPED).chain(area)) == [
        (0, "130202001001"),
        (1, "130202001"),
    ]
    # not located anywhere (or an event from before the intake said where): counts nowhere
    assert hotspots.located({"type": "received", "area_code": None, "data": {"area": None}}) is None
    assert hotspots.located({"type": "received", "area_code": "130202001001", "data": {}}) is None


def _rule(window: str, step: str | None = None) -> Hotspot:
    body = {"category": "supplies", "threshold": 3, "window": window}
    return Hotspot.model_validate(body | ({"step": step} if step else {}))


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)


def test_windows_hop_by_a_sixth_of_their_length_unless_a_step_is_given() -> None:
    assert _rule("1h").hop == timedelta(minutes=10)
    assert _rule("30m").hop == timedelta(minutes=5)
    assert _rule("7s").hop == timedelta(seconds=1)  # whole seconds that divide the window
    assert _rule("50s").hop == timedelta(seconds=5)
    assert _rule("1h", "15m").hop == timedelta(minutes=15)
    assert _rule("1h", "1h").hop == timedelta(hours=1)  # fixed windows, if a district wants them


def test_a_burst_across_an_hour_counts_whole_in_the_windows_it_shares() -> None:
    """Five calls at 12:50 and five at 13:10 are one burst: four 1h windows hold all ten.
    Fixed clock hours would split them five and five, both under a threshold of ten."""
    rule = _rule("1h")
    before = hotspots.window_starts(_at(12, 50), rule)
    after = hotspots.window_starts(_at(13, 10), rule)
    assert before == [_at(12, 0), _at(12, 10), _at(12, 20), _at(12, 30), _at(12, 40), _at(12, 50)]
    assert after == [_at(12, 20), _at(12, 30), _at(12, 40), _at(12, 50), _at(13, 0), _at(13, 10)]
    assert sorted(set(before) & set(after)) == [_at(12, 20), _at(12, 30), _at(12, 40), _at(12, 50)]
    fixed = _rule("1h", "1h")
    assert hotspots.window_starts(_at(12, 50), fixed) == [_at(12, 0)]
    assert hotspots.window_starts(_at(13, 10), fixed) == [_at(13, 0)]


@pytest.mark.parametrize(
    ("window", "step"), [("1h", None), ("30m", "5m"), ("6s", "1s"), ("1h", "1h")]
)
def test_our_windows_are_the_ones_faust_counts_in(window: str, step: str | None) -> None:
    """The notifier reads back each window by its start: the starts must be faust's."""
    rule = _rule(window, step)
    size, hop = rule.window.total_seconds(), rule.hop.total_seconds()
    for at in (_at(12, 50), _at(13, 10) + timedelta(seconds=7.25), _at(0, 0)):
        faust_starts = [start for start, _ in HoppingWindow(size, hop).ranges(at.timestamp())]
        assert [s.timestamp() for s in hotspots.window_starts(at, rule)] == faust_starts


def test_overlapping_windows_and_the_key_that_names_each() -> None:
    rule = _rule("1h")
    near = hotspots.overlapping(_at(12, 20), rule)
    assert near == [_at(11, 30), _at(11, 40), _at(11, 50), _at(12, 0), _at(12, 10),
                    _at(12, 30), _at(12, 40), _at(12, 50), _at(13, 0), _at(13, 10)]  # fmt: skip
    assert _at(13, 20) not in near  # [12:20, 13:20) and [13:20, 14:20) share nothing
    keys = {hotspots.dedup_key("lunan", 0, "130202001001", s) for s in [_at(12, 20), *near]}
    assert len(keys) == 11
    message = hotspots.hotspot_message(CONFIG, 0, "130202001001", 3, _at(12, 20), _at(13, 10))
    assert message["area_name"].startswith("Friendship Street")
    assert (message["threshold"], message["window_start"], message["window_end"]) == (
        3,
        "2026-11-24T12:20:00+00:00",
        "2026-11-24T13:20:00+00:00",
    )


def test_a_request_replayed_long_after_its_windows_counts_nowhere() -> None:
    rule = _rule("1h")
    at = _at(12, 50)
    assert not hotspots.too_old(at, rule, at + timedelta(hours=3))  # a three-hour outage
    assert hotspots.too_old(at, rule, at + rule.window + hotspots.KEPT + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("{category: pets, threshold: 3}", "hotspot names unknown category 'pets'"),
        ("{category: supplies, threshold: 3, window: 0s}", "window must be > 0s"),
        ("{category: supplies, threshold: 3, window: 1h, step: 7m}", "step must divide"),
        ("{category: supplies, threshold: 3, window: 1h, step: 2h}", "step must divide"),
        ("{category: supplies, threshold: 3, window: 1h, step: 0s}", "step must be > 0s"),
        ("{category: supplies, threshold: 3, window: 1.5s}", "window must be whole seconds"),
        ("{category: supplies, threshold: 1}", "greater than or equal to 2"),
    ],
)
def test_a_bad_rule_is_refused_at_its_line(rule: str, problem: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + f"hotspots:\n  - {rule}\n"
    with pytest.raises(ConfigError, match=problem):
        parse_config(text, "lunan.yaml")


def test_the_notifier_counts_each_watched_category_from_zero() -> None:
    """So that the district dashboard's hot spot panel shows "none raised" before the first,
    and counts the first (a counter born at 1 has an increase of 0)."""
    from unittest.mock import MagicMock

    from prometheus_client import REGISTRY

    from hotline.notifier.hotspots import HotspotWatch

    config = parse_config(
        EXAMPLE.read_text(encoding="utf-8").replace("district: lunan", "district: hotzero", 1)
        + RULES.replace("category: supplies,", "category: medical,"),
        "hotzero.yaml",
    )
    HotspotWatch(MagicMock(), lambda: config, lambda: None).define(MagicMock(), MagicMock())
    for category in ("supplies", "medical"):
        labels = {"district": "hotzero", "category": category}
        assert REGISTRY.get_sample_value("hotline_hotspots_total", labels) == 0, category
