"""Hot spots in the domain: which counters a request adds to, windows, and bad rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.shared.config_file import EXAMPLE, ConfigError, parse_config
from hotline.shared.domain import hotspots
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


def test_windows_are_fixed_blocks_and_the_key_names_one() -> None:
    at = datetime(2026, 11, 24, 9, 41, 7, tzinfo=UTC)
    start = hotspots.window_start(at, timedelta(hours=1))
    assert start == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert hotspots.window_start(at, timedelta(minutes=30)).minute == 30
    same = hotspots.dedup_key("lunan", 0, "130202001001", start)
    later = hotspots.window_start(at + timedelta(hours=1), timedelta(hours=1))
    assert same != hotspots.dedup_key("lunan", 0, "130202001001", later)
    message = hotspots.hotspot_message(CONFIG, 0, "130202001001", 3, start, at)
    assert message["area_name"].startswith("Friendship Street")
    assert (message["threshold"], message["window_end"]) == (3, "2026-11-24T10:00:00+00:00")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("{category: pets, threshold: 3}", "hotspot names unknown category 'pets'"),
        ("{category: supplies, threshold: 3, window: 0s}", "window must be > 0s"),
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
