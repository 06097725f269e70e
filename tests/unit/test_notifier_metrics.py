"""The notifier counts each sign-for clock once: met when signed in time, missed when the
first rung fires or when a late sign-for beats that rung."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy.orm import sessionmaker

from hotline.notifier.worker import NotifierWorker
from hotline.shared.config_file import EXAMPLE
from hotline.shared.config_source import ConfigSource

T0 = datetime(2026, 3, 27, 1, 0, tzinfo=UTC)


def _worker(tmp_path: Path, edit: str = "") -> tuple[NotifierWorker, str]:
    district = f"m{abs(hash((tmp_path, edit))) % 10**8}"
    text = EXAMPLE.read_text(encoding="utf-8").replace("lunan", district)
    if edit:
        text = text.replace("{level: 1, name: unit-leader, after: 0s}", edit)
    path = tmp_path / "district.yaml"
    path.write_text(text, encoding="utf-8")
    return NotifierWorker(sessionmaker(), ConfigSource(path), lambda: None), district


def _signed(district: str, after: timedelta, urgency: str = "urgent") -> dict[str, Any]:
    return {
        "type": "signed-for", "district": district, "unit_id": "friendship-street",
        "category": "supplies.food", "urgency": urgency, "at": (T0 + after).isoformat(),
        "created_at": T0.isoformat(), "data": {"assigned_at": T0.isoformat()},
    }  # fmt: skip


def _stops(district: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "hotline_sla_clock_stops_total",
        {"district": district, "unit": "friendship-street", "category": "supplies",
         "urgency": "urgent", "clock": "sign-for", "outcome": outcome},
    )  # fmt: skip
    return value or 0.0


def test_in_time_is_met_and_late_is_left_to_the_first_rung(tmp_path: Path) -> None:
    worker, district = _worker(tmp_path)  # urgent: 30 min; first rung at the deadline
    worker.observe([_signed(district, timedelta(minutes=29))])
    worker.observe([_signed(district, timedelta(minutes=45))])
    assert _stops(district, "met") == 1.0
    assert _stops(district, "missed") == 0.0  # the rung that fired at 30 min counted it


def test_late_before_a_later_first_rung_is_missed_once(tmp_path: Path) -> None:
    worker, district = _worker(tmp_path, "{level: 1, name: unit-leader, after: 15m}")
    worker.observe([_signed(district, timedelta(minutes=40))])  # late; rung due at 45 min
    worker.observe([_signed(district, timedelta(minutes=50))])  # late; the rung counted it
    assert _stops(district, "missed") == 1.0
    assert _stops(district, "met") == 0.0


def test_resolution_time_is_measured_from_intake(tmp_path: Path) -> None:
    worker, district = _worker(tmp_path)
    resolved = _signed(district, timedelta(hours=3)) | {"type": "resolved", "data": {}}
    worker.observe([resolved])
    labels = {"district": district, "unit": "friendship-street", "category": "supplies",
              "urgency": "urgent"}  # fmt: skip
    assert REGISTRY.get_sample_value("hotline_time_to_resolution_seconds_sum", labels) == 3 * 3600
