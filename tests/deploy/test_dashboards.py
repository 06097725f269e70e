"""Every dashboard query, with its variables filled as Grafana fills them, is PromQL that a
real Prometheus accepts (an empty one: this checks the syntax and the functions, not data;
tests/e2e/test_monitoring.py checks that each returns data)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hotline.shared import dashboards
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
