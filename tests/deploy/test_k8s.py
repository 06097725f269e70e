"""The Kubernetes overlays: each renders with kustomize into objects that pass the API's
schema (kubernetes-validate, offline, for a pinned Kubernetes version), whose Deployments
probe /healthz, ask for resources and read only known settings."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.helpers import (
    COMPOSE,
    OVERLAYS,
    image_tag,
    need_tool,
    peer_token_vars,
    run,
    service_ports,
    settings_read,
    settings_required,
)

Object = dict[str, Any]
EACH = pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)

#: The Kubernetes version the manifests must be valid for: the oldest a district is told to
#: run (docs/deploy.md), and the kubectl this machine ships. kubernetes-validate bundles its
#: schemas, so the check runs offline.
KUBERNETES = "1.32"
#: Kinds whose schema the package does not bundle (custom resources), and why they may pass
#: unchecked. None is shipped today; a ServiceMonitor or PodMonitor would be one.
UNCHECKED = {
    "monitoring.coreos.com": "a Prometheus Operator custom resource: no schema is bundled",
}


@functools.cache
def _render(overlay: Path) -> tuple[Object, ...]:
    kubectl = need_tool("kubectl", "the machine image ships it; any kubectl has kustomize built in")
    objects = [o for o in yaml.safe_load_all(run([kubectl, "kustomize", str(overlay)])) if o]
    assert objects, f"{overlay.name} renders nothing"
    return tuple(objects)


def _of_kind(overlay: Path, kind: str) -> list[Object]:
    return [o for o in _render(overlay) if o["kind"] == kind]


def _container(deployment: Object) -> Object:
    containers: list[Object] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    return containers[0]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _validate(obj: Object) -> None:
    """Check one object against the API schema, strictly (an unknown field is an error, so a
    misspelt ``readinessProbe`` is caught instead of being silently dropped)."""
    kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_there_are_two_districts() -> None:
    assert len(OVERLAYS) >= 2, "one overlay per district, at least two"


@EACH
def test_objects_are_well_formed_and_in_the_district_namespace(overlay: Path) -> None:
    for obj in _render(overlay):
        assert obj.get("apiVersion") and obj.get("kind"), obj
        assert obj.get("metadata", {}).get("name"), f"{obj['kind']} without a name"
        assert obj["metadata"].get("namespace") == f"hotline-{overlay.name}", obj["metadata"]


@EACH
def test_every_object_passes_the_kubernetes_schema(overlay: Path) -> None:
    checked = 0
    for obj in _render(overlay):
        group = obj["apiVersion"].rpartition("/")[0]
        if group in UNCHECKED:
            continue  # see UNCHECKED for why
        where = f"{overlay.name}: {obj['kind']} {obj['metadata']['name']}"
        try:
            _validate(obj)
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{where}: no schema for {obj['apiVersion']} in Kubernetes {KUBERNETES}")
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {exc.message} at {'.'.join(map(str, exc.path))}")
        checked += 1
    assert checked >= 10, f"{overlay.name}: only {checked} objects checked"


def _broken(edit: str) -> Object:
    deployment = _of_kind(OVERLAYS[0], "Deployment")[0]
    broken: Object = yaml.safe_load(yaml.safe_dump(deployment))  # a copy: _render is cached
    if edit == "replicas":
        broken["spec"]["replicas"] = "two"
    elif edit == "misspelt":
        container = broken["spec"]["template"]["spec"]["containers"][0]
        container["readinessprobe"] = container.pop("readinessProbe")
    elif edit == "removed-api":
        broken["apiVersion"] = "extensions/v1beta1"  # Deployments left it in 1.16
    return broken


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ("replicas", kubernetes_validate.ValidationError),
        ("misspelt", kubernetes_validate.ValidationError),
        ("removed-api", kubernetes_validate.SchemaNotFoundError),
    ],
)
def test_the_schema_check_catches_a_broken_manifest(edit: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        _validate(_broken(edit))


@EACH
def test_one_deployment_per_service(overlay: Path) -> None:
    names = {d["metadata"]["name"] for d in _of_kind(overlay, "Deployment")}
    assert names == set(service_ports())


@EACH
def test_deployments_probe_healthz_on_their_port(overlay: Path) -> None:
    for deployment in _of_kind(overlay, "Deployment"):
        name, container = deployment["metadata"]["name"], _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        args = [str(a) for a in container["args"]]
        assert args[0] == name
        port = int(args[args.index("--port") + 1])
        for probe in ("readinessProbe", "livenessProbe"):
            get = container.get(probe, {}).get("httpGet")
            assert get is not None, f"{name} has no HTTP {probe}"
            assert get["path"] == "/healthz", f"{name}: {probe} on {get['path']}"
            assert ports.get(get["port"], get["port"]) == port, f"{name}: {probe} on another port"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations.get("prometheus.io/path", "/metrics") == "/metrics"


@EACH
def test_deployments_ask_for_resources_and_pin_their_image(overlay: Path) -> None:
    for deployment in _of_kind(overlay, "Deployment"):
        name, container = deployment["metadata"]["name"], _container(deployment)
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{name}: requests"
        assert "memory" in resources.get("limits", {}), f"{name}: no memory limit"
        assert image_tag(container["image"]) not in (None, "latest"), f"{name}: unpinned image"


@EACH
def test_deployments_read_only_known_settings_and_the_district_file(overlay: Path) -> None:
    read, required = settings_read(), settings_required()
    read |= peer_token_vars(overlay / "district.yaml")
    config_maps = {c["metadata"]["name"]: c for c in _of_kind(overlay, "ConfigMap")}
    for deployment in _of_kind(overlay, "Deployment"):
        name, container = deployment["metadata"]["name"], _container(deployment)
        env = {e["name"]: e for e in container.get("env", []) if e["name"].startswith("HOTLINE_")}
        assert set(env) <= read, f"{name} sets {sorted(set(env) - read)}, which no code reads"
        assert required <= set(env), f"{name} lacks {sorted(required - set(env))}"
        for setting in required:
            assert "secretKeyRef" in env[setting].get("valueFrom", {}), f"{name}: {setting}"
        config_path = Path(env["HOTLINE_CONFIG"]["value"])
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/hotline")
        assert config_path.parent == Path(mount["mountPath"]) and mount.get("readOnly") is True
        config_map = config_maps[volumes[mount["name"]]["configMap"]["name"]]
        district = yaml.safe_load(config_map["data"][config_path.name])
        assert district["district"] == overlay.name, f"{overlay.name} carries another district"


def _without_peer_urls(file: Path) -> Object:
    district: Object = yaml.safe_load(file.read_text(encoding="utf-8"))
    for peer in district.get("peers", []):
        peer.pop("url")
    return district


@EACH
def test_overlay_district_file_is_the_compose_one_but_for_peer_urls(overlay: Path) -> None:
    compose = COMPOSE / "districts" / overlay.name / "district.yaml"
    if compose.exists():  # a district deployed only on Kubernetes has no compose copy
        mine = _without_peer_urls(overlay / "district.yaml")
        assert mine == _without_peer_urls(compose), f"{overlay.name}: the copies differ"


@EACH
def test_router_and_notifier_run_replicas(overlay: Path) -> None:
    replicas = {
        d["metadata"]["name"]: d["spec"]["replicas"] for d in _of_kind(overlay, "Deployment")
    }
    assert replicas["router"] > 1 and replicas["notifier"] > 1, replicas


@EACH
def test_every_deployment_has_a_disruption_budget_and_a_service(overlay: Path) -> None:
    budgets, services = _of_kind(overlay, "PodDisruptionBudget"), _of_kind(overlay, "Service")
    for deployment in _of_kind(overlay, "Deployment"):
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(_matches(b["spec"]["selector"]["matchLabels"], pod) for b in budgets), name
        assert any(_matches(s["spec"]["selector"], pod) for s in services), name


@EACH
def test_the_router_alone_gets_the_peer_tokens_its_district_file_names(overlay: Path) -> None:
    """From the Secret hotline-peers, optional: a router without them still routes (and logs
    the peers it cannot hand requests to)."""
    wanted = peer_token_vars(overlay / "district.yaml")
    assert wanted, f"{overlay.name}: the district file names no peer token"
    for deployment in _of_kind(overlay, "Deployment"):
        name, container = deployment["metadata"]["name"], _container(deployment)
        env = {e["name"]: e for e in container.get("env", [])}
        given = {k for k in env if k.startswith("HOTLINE_PEER_TOKEN_")}
        if name != "router":
            assert not given, f"{name} holds peer tokens {sorted(given)}"
            continue
        assert given == wanted, f"router gets {sorted(given)}, its district file names {wanted}"
        for setting in wanted:
            ref = env[setting]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "hotline-peers", "key": setting, "optional": True}, ref
