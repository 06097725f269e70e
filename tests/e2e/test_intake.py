"""Intake features on the running system: first-contact resolution and duplicate linking."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import REQUEST, scrape, take, ticket
from tests.harness import HOTLINE, System, start_embedded


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


def test_import_reports_every_rejected_line_and_never_imports_twice(
    tmp_path: Path, watchful: System
) -> None:
    rows = [
        "caller_name,caller_phone,area_code,address,category,description,urgency",
        "Xiao Lu,+86 138 0000 0000,130202001001,Seven Days Hotel,supplies.food,No food,urgent",
        "Old Zhang,139 2222 3333,130202002,,medical.dialysis,Needs dialysis transport,normal",
        "Nobody,call me,130202001001,,supplies.food,Bad phone,normal",
        "Ms Wu,137 4444 5555,130202003,,pets.lost,Unknown category,normal",
        "Mr Qi,136 5555 6666,130202003,,consult,Asked about subsidies,normal",
    ]
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(rows) + "\n")
    report = tmp_path / "report.csv"
    taker = watchful.token("call-taker", "night shift")
    args = [HOTLINE, "import", str(path), "--api", watchful.api, "--token", taker]
    args += ["--district", watchful.district, "--report", str(report)]
    first = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "calls.csv:4: caller.phone: String should match pattern '^\\+?[0-9][0-9 ()-]*$'",
        "calls.csv:5: category: unknown category 'pets.lost'",
    ]
    assert "5 lines: 3 created, 0 already imported, 2 rejected" in first.stderr
    assert "[" in first.stderr and "5/5" in first.stderr  # the progress bar
    outcomes = list(csv.DictReader(report.open()))
    assert [o["status"] for o in outcomes] == [
        "created",
        "created",
        "rejected",
        "rejected",
        "created",
    ]
    assert ticket(watchful, outcomes[1]["ticket_or_reason"])["category"] == "medical.dialysis"

    again = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert "5 lines: 0 created, 3 already imported, 2 rejected" in again.stderr
