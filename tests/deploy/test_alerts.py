"""The alert and recording rules pass promtool, their unit tests pass, every alert is
tested and documented, and every Prometheus of the deployment loads them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.helpers import COMPOSE_FILES, DEPLOY, ROOT, compose_config, need_tool, run
from tests.deploy.test_monitoring import PROMETHEUS_CONFIGS, _mounted

RULES = DEPLOY / "prometheus" / "rules"
RULE_FILES = sorted(RULES.glob("*.yml"))
RULE_TESTS = sorted((RULES / "tests").glob("*.test.yml"))
PROMTOOL_INSTALL = "apt-get install -y --no-install-recommends prometheus"


def _alerts() -> list[str]:
    return [
        rule["alert"]
        for file in RULE_FILES
        for group in yaml.safe_load(file.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


@pytest.mark.parametrize("file", RULE_FILES, ids=lambda p: p.name)
def test_promtool_checks_the_rules(file: Path) -> None:
    run([need_tool("promtool", PROMTOOL_INSTALL), "check", "rules", str(file)])


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    assert RULE_TESTS
    run([need_tool("promtool", PROMTOOL_INSTALL), "test", "rules", *map(str, RULE_TESTS)])


def test_every_alert_has_a_unit_test_and_a_section_in_the_guide() -> None:
    tested = {
        case["alertname"]
        for file in RULE_TESTS
        for test in yaml.safe_load(file.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    guide = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    alerts = _alerts()
    assert {"HotlineSignForBudgetBurnFast", "HotlineResolutionBudgetBurnFast"} <= set(alerts)
    for alert in alerts:
        assert alert in tested, f"{alert}: no promtool test expects it to fire"
        assert f"### {alert}" in guide, f"{alert}: no section in docs/monitoring.md"


@pytest.mark.parametrize("config", PROMETHEUS_CONFIGS, ids=lambda p: p.name)
def test_every_prometheus_config_loads_every_rule_file(config: Path) -> None:
    patterns = yaml.safe_load(config.read_text(encoding="utf-8"))["rule_files"]
    loaded = {p.resolve() for pattern in patterns for p in config.parent.glob(pattern)}
    assert loaded == {p.resolve() for p in RULE_FILES}


@pytest.mark.parametrize("file", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_mounts_the_rules_beside_the_config(file: Path) -> None:
    prometheus = compose_config(file)["services"]["prometheus"]
    assert _mounted(prometheus, "/etc/prometheus/rules") == RULES.resolve()
