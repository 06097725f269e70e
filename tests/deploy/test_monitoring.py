"""Prometheus configs pass promtool and scrape every hotline service of their compose
file; Grafana's provisioning points at that Prometheus and at the dashboards folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.helpers import COMPOSE_FILES, DEPLOY, compose_config, need_tool, run

PROMETHEUS_CONFIGS = sorted((DEPLOY / "prometheus").glob("*.yml"))
GRAFANA = DEPLOY / "grafana"


def _mounted(service: dict[str, Any], target: str) -> Path:
    """The host path a compose service mounts at ``target``."""
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":") if isinstance(volume, str) else ("", "", "")
        if isinstance(volume, dict) and volume.get("target") == target:
            return Path(volume["source"]).resolve()
        if rest.split(":")[0] == target:
            return Path(source).resolve()
    raise AssertionError(f"nothing is mounted at {target}")


@pytest.mark.parametrize("config", PROMETHEUS_CONFIGS, ids=lambda p: p.name)
def test_promtool_accepts_the_config(config: Path) -> None:
    promtool = need_tool("promtool", "apt-get install -y --no-install-recommends prometheus")
    run([promtool, "check", "config", str(config)])


@pytest.mark.parametrize("file", COMPOSE_FILES, ids=lambda p: p.name)
def test_prometheus_scrapes_every_hotline_service(file: Path) -> None:
    services = compose_config(file)["services"]
    config_file = _mounted(services["prometheus"], "/etc/prometheus/prometheus.yml")
    assert config_file in [p.resolve() for p in PROMETHEUS_CONFIGS]
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    targets = {
        target
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for name, service in services.items():
        if "build" in service:
            command = [str(part) for part in service["command"]]
            assert f"{name}:{command[command.index('--port') + 1]}" in targets, name


@pytest.mark.parametrize("file", COMPOSE_FILES, ids=lambda p: p.name)
def test_grafana_is_provisioned_from_the_repository(file: Path) -> None:
    grafana = compose_config(file)["services"]["grafana"]
    assert _mounted(grafana, "/etc/grafana/provisioning") == (GRAFANA / "provisioning").resolve()
    dashboards = _mounted(grafana, "/etc/grafana/dashboards")
    assert dashboards == (GRAFANA / "dashboards").resolve()


def test_grafana_datasource_and_dashboards_provider() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yaml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/hotline.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
