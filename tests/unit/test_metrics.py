"""Metric names and labels follow the conventions; docs/metrics.md and the dashboards are
what the code generates; the scraped gauges are served as their owners last computed them."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hotline.shared.observability import dashboards, metrics, metrics_doc

ROOT = Path(__file__).resolve().parents[2]
#: Labels that would carry a ticket or a person: never on a metric.
FORBIDDEN = {"ticket", "ticket_id", "id", "caller", "name", "phone", "address", "description"}


def _exported() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for value in vars(metrics).values():
        if isinstance(value, metrics.Scraped):
            found.append((value.name, "gauge", value.labels))
        elif isinstance(value, Counter | Gauge | Histogram):
            name = value._name + ("_total" if value._type == "counter" else "")
            found.append((name, value._type, tuple(value._labelnames)))
    return found


def test_names_and_labels_follow_prometheus_conventions() -> None:
    exported = _exported()
    assert len(exported) >= 20
    for name, kind, labels in exported:
        assert name.startswith("hotline_"), name
        assert name.endswith("_total") == (kind == "counter"), name
        if kind == "histogram":
            assert name.endswith("_seconds"), name
        assert labels[0] == "district", f"{name}: every metric carries the district first"
        assert not FORBIDDEN & set(labels), f"{name} has a label that names a ticket or a person"


def test_sla_buckets_reach_from_sub_second_to_a_week() -> None:
    buckets = metrics.SLA_BUCKETS
    assert list(buckets) == sorted(buckets)
    assert buckets[0] < 1 and buckets[-1] >= 7 * 86400
    # each sign-for limit of the example district is a bucket edge: compliance reads exactly
    for limit in (600, 1800, 7200):
        assert limit in buckets


def test_the_sla_counter_has_the_agreed_name_and_labels() -> None:
    stops = metrics.SLA_CLOCK_STOPS
    assert stops._name == "hotline_sla_clock_stops"
    assert stops._labelnames == ("district", "unit", "category", "urgency", "clock", "outcome")


def test_docs_metrics_md_is_generated_from_the_code() -> None:
    committed = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == metrics_doc.render(), (
        "docs/metrics.md is stale: "
        "python -m hotline.shared.observability.metrics_doc > docs/metrics.md"
    )
    for name, _, _ in _exported():
        assert f"`{name}`" in committed


def test_committed_dashboards_are_what_the_code_generates() -> None:
    folder = ROOT / "deploy" / "grafana" / "dashboards"
    for name, text in dashboards.rendered().items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: "
            "python -m hotline.shared.observability.dashboards deploy/grafana/dashboards"
        )


def test_dashboards_are_well_formed_and_use_the_provisioned_datasource() -> None:
    uids = set()
    for name, text in dashboards.rendered().items():
        board = json.loads(text)
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            assert panel["datasource"]["uid"] == "prometheus"
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24
        names = [v["name"] for v in board["templating"]["list"]]
        assert names[0] == "district"
    assert uids == {"hotline-district", "hotline-unit", "hotline-city"}
    city = json.loads(dashboards.rendered()["city.json"])
    assert city["templating"]["list"][0]["multi"] is True


def test_scraped_gauges_serve_what_their_owners_put_and_forget_a_dropped_owner() -> None:
    snapshots = metrics.Snapshots()
    registry = CollectorRegistry()
    registry.register(snapshots)
    first, second = object(), object()
    snapshots.put(first, [(metrics.OUTBOX_PENDING, ("lunan", "intake"), 3.0)])
    snapshots.put(second, [(metrics.OUTBOX_PENDING, ("lunan", "router"), 0.0)])
    text = generate_latest(registry).decode()
    assert text.count("# TYPE hotline_outbox_pending_messages gauge") == 1
    assert 'hotline_outbox_pending_messages{district="lunan",relay="intake"} 3.0' in text
    snapshots.drop(first)
    text = generate_latest(registry).decode()
    assert 'relay="intake"' not in text and 'relay="router"' in text
