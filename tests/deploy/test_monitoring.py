"""Prometheus configs pass promtool and scrape every hotline service of their compose
file; Grafana's provisioning points at that Prometheus and at the dashboards folder."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.deploy.helpers import COMPOSE_FILES, DEPLOY, OVERLAYS, compose_config, need_tool, run
from tests.deploy.test_k8s import _of_kind
from tests.prometheus import Prometheus, start_prometheus

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


def _file_sd_instead(config: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """A copy of a Prometheus config whose Kubernetes discovery is file discovery instead:
    Debian's Prometheus is built without Kubernetes discovery (the official image has it),
    and the relabelling, which is what matters here, works the same on either."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(config))
    for job in copy["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["file_sd_configs"] = [{"files": files, "refresh_interval": "1s"}]
    return copy


@pytest.mark.parametrize("config", PROMETHEUS_CONFIGS, ids=lambda p: p.name)
def test_promtool_accepts_the_config(config: Path, tmp_path: Path) -> None:
    promtool = need_tool("promtool", "apt-get install -y --no-install-recommends prometheus")
    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    discovery = [
        sd for job in loaded["scrape_configs"] for sd in job.get("kubernetes_sd_configs", [])
    ]
    if not discovery:
        run([promtool, "check", "config", str(config)])
        return
    assert all(sd.get("role") == "pod" for sd in discovery), "the relabelling reads pods"
    checked = _file_sd_instead(loaded, [str(tmp_path / "targets.json")])
    checked["rule_files"] = [str(config.parent / pattern) for pattern in loaded["rule_files"]]
    (tmp_path / config.name).write_text(yaml.safe_dump(checked), encoding="utf-8")
    run([promtool, "check", "config", str(tmp_path / config.name)])


def _pod_target(pod: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    """A pod as Kubernetes discovery shows it to relabelling: its labels and annotations as
    ``__meta_kubernetes_pod_*`` labels. Its address never answers (TEST-NET-1)."""

    def meta(kind: str, key: str) -> str:
        return f"__meta_kubernetes_pod_{kind}_" + "".join(c if c.isalnum() else "_" for c in key)

    labels = {meta("label", k): v for k, v in pod["metadata"]["labels"].items()}
    labels |= {meta("annotation", k): v for k, v in pod["metadata"].get("annotations", {}).items()}
    labels |= {"__meta_kubernetes_namespace": namespace, "__meta_kubernetes_pod_name": name}
    return {"targets": ["192.0.2.1:80"], "labels": labels}


def _service_down_alerts(prometheus: Prometheus) -> set[tuple[str, str]]:
    alerts = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return {
        (alert["labels"]["job"], alert["labels"]["instance"])
        for alert in alerts
        if alert["labels"]["alertname"] == "HotlineServiceDown"
    }


def test_on_kubernetes_each_pod_is_scraped_as_its_service_and_the_down_alert_sees_it(
    tmp_path: Path,
) -> None:
    """deploy/prometheus/kubernetes.yml, run by a real Prometheus on the pods the overlays
    render: job is intake, router or notifier (not the scrape job's name), so that
    HotlineServiceDown's ``up{job=~"intake|router|notifier"}`` finds a pod that is down."""
    pods, wanted, ports = [], set(), {}
    for overlay in OVERLAYS:
        for deployment in _of_kind(overlay, "Deployment"):
            service, namespace = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
            pods.append(_pod_target(deployment["spec"]["template"], namespace, f"{service}-0"))
            wanted.add((service, f"{namespace}/{service}-0"))
            ports[service] = deployment["spec"]["template"]["metadata"]["annotations"][
                "prometheus.io/port"
            ]
    stranger = {
        "metadata": {
            "labels": {"app.kubernetes.io/name": "intake"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "80"},
        }
    }
    pods.append(_pod_target(stranger, "elsewhere", "intake-0"))  # not part of the hotline
    (tmp_path / "targets.json").write_text(json.dumps(pods), encoding="utf-8")
    config = yaml.safe_load((DEPLOY / "prometheus" / "kubernetes.yml").read_text(encoding="utf-8"))
    jobs = _file_sd_instead(config, [str(tmp_path / "targets.json")])["scrape_configs"]
    prometheus = start_prometheus(tmp_path, [], scrape_configs=jobs)
    try:
        deadline = time.monotonic() + 60
        while _service_down_alerts(prometheus) != wanted and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _service_down_alerts(prometheus) == wanted
        targets = httpx.get(f"{prometheus.url}/api/v1/targets", timeout=10).json()["data"]
        for target in targets["activeTargets"]:
            port = ports[target["labels"]["job"]]
            assert target["scrapeUrl"] == f"http://192.0.2.1:{port}/metrics", target
            assert target["labels"]["namespace"] == target["labels"]["instance"].split("/")[0]
        assert len(targets["droppedTargets"]) == 1, "the pod that is not the hotline's is dropped"
    finally:
        prometheus.stop()


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
