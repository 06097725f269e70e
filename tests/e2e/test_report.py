"""A simulated day, then its bulletin: ``hotline up``, ``hotline simulate`` compressing a day into
seconds, and ``hotline report`` over the running system's own ledger agreeing with what the
simulation says it did."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.harness import HOTLINE, start_embedded


@pytest.mark.timeout(240)
def test_report_over_a_simulated_day(tmp_path: Path) -> None:
    system = start_embedded(tmp_path)
    config = tmp_path / f"{system.district}.yaml"
    try:
        done = subprocess.run(
            [
                HOTLINE, "simulate", "--url", system.api, "--config", str(config),
                "--per-day", "50", "--burst", "6", "--speed", "4320", "--seed", "11",
                "--responsive", "0.7", "--feedback", "0.9", "--settle", "20", "--json",
                "--token", system.admin_token,
            ],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "100%" in done.stderr, "the progress bar reaches the end"
        simulated = json.loads(done.stdout)
    finally:
        system.stop()  # the ledger is complete: nothing more is written while we read

    accepted = simulated["accepted"]
    assert accepted == simulated["sent"] >= 50, simulated
    assert simulated["burst"] == 6 and simulated["resolved"] > 0, simulated
    assert sum(simulated["by_hour"].values()) == accepted

    # the run is today in the district's zone (or straddles its midnight)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    period = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]
    ledger = f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite'}"
    shown = subprocess.run(
        [HOTLINE, "report", *period, "--config", str(config), "--database", ledger,
         "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)

    assert report["received"]["total"] == accepted
    assert report["answered_at_first_contact"] == simulated["answered_at_intake"] > 0
    assert report["received"]["by_channel"] == simulated["channels"]
    assert report["completed"] <= report["given_to_units"]["total"]
    assert report["given_to_units"]["total"] + simulated["answered_at_intake"] <= accepted
    assert report["completed"] >= simulated["resolved"] - simulated["reopened"]
    assert sum(report["given_to_units"]["by_kind"].values()) == report["given_to_units"]["total"]
    assert set(report["given_to_units"]["by_kind"]) <= {
        "street-office", "town", "department", "special-team", "grass-roots",
    }  # fmt: skip
    feedback = report["satisfaction"]
    for result in ("satisfied", "basically-satisfied", "dissatisfied"):
        assert feedback[result] == simulated["feedback"].get(result, 0), (feedback, simulated)
    assert report["reopened"] == simulated["reopened"]
    assert report["median_seconds"]["to_sign_for"] is not None
    if simulated["never_answered"]:
        assert report["given_to_units"]["total"] > report["completed"]
