"""Intake features on the running system: first-contact resolution and duplicate linking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import REQUEST, scrape, take, ticket
from tests.harness import System, start_embedded


@pytest.fixture
def watchful(tmp_path: Path) -> Iterator[System]:
    """``hotline up`` with a district that links duplicates within two hours."""
    running = start_embedded(tmp_path, lambda t: t.replace("window: 0s", "window: 2h"))
    yield running
    running.stop()


def _post(system: System, token: str, **overrides: Any) -> dict[str, Any]:
    body = REQUEST | {"district": system.district} | overrides
    answer = httpx.post(
        f"{system.api}/api/v1/requests",
        json=body,
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_first_contact_and_duplicates_are_recorded_not_routed(watchful: System) -> None:
    taker = watchful.token("call-taker", "Call-taker Li")
    answered = _post(
        watchful, taker, category="consult", resolved_at_intake=True, answer="Policy explained"
    )
    assert answered["state"] == "resolved"
    first = _post(watchful, taker)
    again = _post(watchful, taker)
    other = _post(watchful, taker, caller={"name": "Neighbour", "phone": "139 1111 2222"})
    assert (again["state"], again["duplicate_of"]) == ("duplicate", first["id"])
    assert other["duplicate_of"] == first["id"]

    tasks = take(watchful, "friendship-street", 1, within=10)
    tasks += take(watchful, "friendship-street", 1, within=1)
    assert [t.payload["ticket_id"] for t in tasks] == [first["id"]]  # only the first is routed
    shown = ticket(watchful, first["id"])
    assert (shown["duplicates"], shown["also_reported_by"]) == ([again["id"]], 1)
    assert ticket(watchful, again["id"])["link_kind"] == "duplicate"
    assert ticket(watchful, answered["id"])["intake_answer"] == "Policy explained"
    counted = 'hotline_requests_resolved_at_intake_total{category="consult",channel="phone"'
    assert f'{counted},district="{watchful.district}"}} 1.0' in scrape(watchful)
