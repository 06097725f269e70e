"""Monitoring end to end: a real system under `hotline simulate`, a real Prometheus (Debian's
package) scraping it every second with the hotline rules, and every dashboard query
(variables filled as Grafana fills them) returning data."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline.shared.observability import dashboards
from tests.e2e.test_pipeline import submit, ticket
from tests.harness import HOTLINE, System, start_embedded, wait_for
from tests.prometheus import Prometheus, filled, start_prometheus, variable_query


def _fast_sla(text: str) -> str:
    """Sign-for limits of seconds, so that a short load both meets and misses them."""
    return (
        text.replace("critical: 10m", "critical: 2s")
        .replace("urgent: 30m", "urgent: 4s")
        .replace("normal: 2h", "normal: 6s")
    )


@pytest.fixture
def monitored(tmp_path: Path) -> Iterator[tuple[System, Prometheus, Path]]:
    system = start_embedded(tmp_path, _fast_sla)
    prometheus = None
    try:
        prometheus = start_prometheus(tmp_path, [system.api.removeprefix("http://")])
        yield system, prometheus, tmp_path / f"{system.district}.yaml"
    finally:
        if prometheus is not None:
            prometheus.stop()
        system.stop()


def _return_twice_to_triage(system: System) -> None:
    """A task returned by two units waits for a dispatcher: the load has a triage case too."""
    ticket_id = submit(system)
    for _ in range(2):
        wait_for(lambda: ticket(system, ticket_id)["state"] == "assigned", "an assignment")
        unit = ticket(system, ticket_id)["unit_id"]
        answer = httpx.post(
            f"{system.api}/api/v1/requests/{ticket_id}/return",
            json={"unit_id": unit, "reason": "not ours (test)"},
            headers=system.headers,
        )
        assert answer.status_code == 200, answer.text
    wait_for(lambda: ticket(system, ticket_id)["state"] == "triage", "manual triage")


@pytest.mark.timeout(240)
def test_every_dashboard_query_returns_data_after_a_simulated_load(
    monitored: tuple[System, Prometheus, Path],
) -> None:
    system, prometheus, config = monitored
    _return_twice_to_triage(system)
    done = subprocess.run(
        [
            HOTLINE, "simulate", "--url", system.api, "--config", str(config),
            "--token", system.admin_token,
            "--per-day", "60", "--speed", "4320", "--seed", "7", "--settle", "10",
            "--responsive", "0.6",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "summary:" in done.stdout and "accepted 0," not in done.stdout, done.stdout

    district = system.district
    # the scraped series and the rules have had time to be scraped and evaluated
    monthly = f'district_clock:hotline_sla_clock_stops_met:ratio_30d{{district="{district}"}}'
    wait_for(lambda: prometheus.results(monthly), "the SLA rules")
    busiest = prometheus.results(
        f'topk(1, sum by (unit) (hotline_tasks_resolved_total{{district="{district}"}}))'
    )
    assert busiest, "no unit resolved anything under the simulated load"
    values = {"district": district, "unit": busiest[0]["metric"]["unit"]}

    empty = []
    for name, text in dashboards.rendered().items():
        board = json.loads(text)
        for variable in board["templating"]["list"]:
            found = prometheus.results(filled(variable_query(variable["query"]["query"]), values))
            labels = {r["metric"][variable["name"]] for r in found}
            assert values[variable["name"]] in labels, (
                f"{name}: ${variable['name']} offers {labels}"
            )
        for title, expr in dashboards.queries(board):
            if not prometheus.results(filled(expr, values)):
                empty.append(f"{name} / {title}: {expr}")
    assert not empty, "queries with no data:\n" + "\n".join(empty)

    # the rules loaded, and the alert about outbox backlog stays quiet on a healthy system
    rules = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    alerts = {r["name"]: r for g in rules for r in g["rules"] if r["type"] == "alerting"}
    assert alerts["HotlineOutboxBacklogOld"]["state"] == "inactive"
    assert alerts["HotlineSignForBudgetBurnFast"]["health"] == "ok"
