"""The notifier measures from the events stream: time to sign-for, first response, resolution.

Whether a clock was met or missed is counted in the ledger where the clock
stops or fires (tests/integration/test_sla_flow.py), not from the stream.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy.orm import sessionmaker

from hotline.notifier.worker import NotifierWorker
from hotline.shared.configuration.file import load_config

T0 = datetime(2026, 3, 27, 1, 0, tzinfo=UTC)
CONFIG = load_config(None)


def _event(kind: str, district: str, after: timedelta) -> dict[str, Any]:
    return {
        "type": kind, "district": district, "unit_id": "friendship-street",
        "category": "supplies.food", "urgency": "urgent", "at": (T0 + after).isoformat(),
        "created_at": T0.isoformat(), "data": {"assigned_at": T0.isoformat()},
    }  # fmt: skip


def _sum(name: str, district: str) -> float | None:
    labels = {"district": district, "unit": "friendship-street", "category": "supplies",
              "urgency": "urgent"}  # fmt: skip
    return REGISTRY.get_sample_value(f"{name}_sum", labels)


def test_sign_for_first_response_and_resolution_times_are_measured() -> None:
    district = "metrics-times"
    worker = NotifierWorker(sessionmaker(), lambda: CONFIG, lambda: None)
    worker.observe([_event("signed-for", district, timedelta(minutes=12))])
    worker.observe([_event("resolved", district, timedelta(hours=3)) | {"data": {}}])
    first = _event("progress-reported", district, timedelta(minutes=40))
    first["data"] |= {"first_response": True}
    later = _event("progress-reported", district, timedelta(minutes=90))
    later["data"] |= {"first_response": False}
    worker.observe([first, later])
    assert _sum("hotline_time_to_sign_for_seconds", district) == 12 * 60
    assert _sum("hotline_time_to_first_response_seconds", district) == 40 * 60  # the first only
    assert _sum("hotline_time_to_resolution_seconds", district) == 3 * 3600


def test_a_result_with_no_progress_before_it_is_also_the_first_response() -> None:
    district = "metrics-resolved-first"
    worker = NotifierWorker(sessionmaker(), lambda: CONFIG, lambda: None)
    straight = _event("resolved", district, timedelta(minutes=25))
    straight["data"] |= {"first_response": True}
    worker.observe([straight])
    assert _sum("hotline_time_to_first_response_seconds", district) == 25 * 60
    after_progress = _event("resolved", district, timedelta(hours=2))
    after_progress["data"] |= {"first_response": False}  # a progress report was the response
    worker.observe([after_progress])
    assert _sum("hotline_time_to_first_response_seconds", district) == 25 * 60
    assert _sum("hotline_time_to_resolution_seconds", district) == 25 * 60 + 2 * 3600


def test_an_unreadable_event_is_set_aside_and_counted() -> None:
    worker = NotifierWorker(sessionmaker(), lambda: CONFIG, lambda: None)
    before = (
        REGISTRY.get_sample_value(
            "hotline_poison_messages_total", {"district": "lunan", "stream": "lunan.events"}
        )
        or 0.0
    )
    worker.observe([{"type": "signed-for"}])
    after = REGISTRY.get_sample_value(
        "hotline_poison_messages_total", {"district": "lunan", "stream": "lunan.events"}
    )
    assert after == before + 1
