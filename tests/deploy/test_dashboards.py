"""Every dashboard query, with its variables filled as Grafana fills them, is PromQL that a
real Prometheus accepts (an empty one: this checks the syntax and the functions, not data;
tests/e2e/test_monitoring.py checks that each returns data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hotline.shared.observability import dashboards
from tests.deploy.helpers import need_tool, run
from tests.prometheus import Prometheus, filled, start_prometheus, variable_query

BOARDS = {name: json.loads(text) for name, text in dashboards.rendered().items()}


@pytest.fixture(scope="module")
def empty_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    server = start_prometheus(tmp_path_factory.mktemp("prom"), targets=[])
    yield server
    server.stop()


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_query_parses(name: str, empty_prometheus: Prometheus) -> None:
    board = BOARDS[name]
    values = {"district": "lunan|lubei", "unit": "friendship-street"}
    checked = 0
    for title, expr in dashboards.queries(board):
        answer = empty_prometheus.query(filled(expr, values))
        assert answer["status"] == "success", f"{name} / {title}: {answer.get('error')}\n{expr}"
        checked += 1
    for variable in board["templating"]["list"]:
        query = filled(variable_query(variable["query"]["query"]), values)
        answer = empty_prometheus.query(query)
        assert answer["status"] == "success", f"{name} / ${variable['name']}: {answer}"
    assert checked >= 8


def test_a_broken_query_would_be_caught(empty_prometheus: Prometheus) -> None:
    """The check above can fail: Prometheus refuses what is not PromQL."""
    assert empty_prometheus.query("sum by (unit (hotline_tasks_open)")["status"] == "error"


def test_filled_replaces_every_variable() -> None:
    board = BOARDS["unit.json"]
    for _, expr in dashboards.queries(board):
        assert "$" not in filled(expr, {"district": "lunan", "unit": "a"})


def _panel_query(board: str, title: str) -> str:
    (expr,) = [e for t, e in dashboards.queries(BOARDS[board]) if t == title]
    return expr


def test_the_completion_rate_is_completed_over_given_to_units_as_in_the_report(
    tmp_path: Path,
) -> None:
    """The seeds' bulletin in counters (1,569 received, 1,187 answered at first contact, 250
    resolved) gives 250 / 382 on both dashboards, as `hotline report` would; a district with
    no first-contact answer has the whole of its intake as given to units. Evaluated by
    promtool's PromQL tests on a real engine."""
    labels = 'category="supplies",channel="phone"'
    series = [
        (f'hotline_requests_received_total{{district="lunan",{labels},urgency="normal"}}', 1569),
        (f'hotline_requests_resolved_at_intake_total{{district="lunan",{labels}}}', 1187),
        ('hotline_tasks_resolved_total{district="lunan",unit="a",category="supplies"}', 250),
        (f'hotline_requests_received_total{{district="lubei",{labels},urgency="normal"}}', 50),
        ('hotline_tasks_resolved_total{district="lubei",unit="b",category="supplies"}', 40),
    ]
    district = filled(_panel_query("district.json", "Completion rate"), {"district": "lunan"})
    city = filled(_panel_query("city.json", "Completion rate"), {"district": "lunan|lubei"})
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": name, "values": f"0+{per_minute}x60"} for name, per_minute in series
                ],
                "promql_expr_test": [
                    {"expr": district, "eval_time": "60m", "exp_samples": [{"value": 250 / 382}]},
                    {
                        "expr": city,
                        "eval_time": "60m",
                        "exp_samples": [
                            {"labels": '{district="lunan"}', "value": 250 / 382},
                            {"labels": '{district="lubei"}', "value": 40 / 50},
                        ],
                    },
                ],
            }
        ],
    }
    file = tmp_path / "completion.test.yml"
    file.write_text(yaml.safe_dump(tests), encoding="utf-8")
    run([need_tool("promtool", "apt-get install -y prometheus"), "test", "rules", str(file)])
