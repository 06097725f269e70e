"""The compose files: they render, pin their images, check every service's health,
and hand the hotline services exactly the settings the code reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import (
    COMPOSE_FILES,
    DEPLOY,
    ENV_EXAMPLE,
    HOTLINE_VAR,
    ROOT,
    compose_config,
    env_example,
    image_tag,
    peer_token_vars,
    service_ports,
    settings_read,
    settings_required,
)

FILES = pytest.mark.parametrize("file", COMPOSE_FILES, ids=lambda p: p.name)

#: Settings of .env.example that a compose file gives its services but not from .env, and why.
NOT_FROM_ENV = {
    # one ledger per district: each URL is built from POSTGRES_PASSWORD and its own db host
    "two-districts.yaml": {"HOTLINE_DATABASE_URL"},
}


def _services(file: Path) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose_config(file)["services"]
    assert services, f"{file.name} defines no service"
    return services


def _hotline_services(file: Path) -> dict[str, dict[str, Any]]:
    hotline = {name: s for name, s in _services(file).items() if "build" in s}
    assert hotline, f"{file.name} builds no hotline service"
    return hotline


def _district_file(file: Path, service: str) -> Path:
    """The district file a hotline service reads: HOTLINE_CONFIG inside the folder mounted
    at its parent, on the host."""
    found = _hotline_services(file)[service]
    config = Path(found["environment"]["HOTLINE_CONFIG"])
    mounts = [v for v in found.get("volumes", []) if isinstance(v, dict)]
    mount = next((v for v in mounts if config.is_relative_to(v.get("target", "-"))), None)
    assert mount is not None, f"{service}: nothing is mounted at HOTLINE_CONFIG ({config})"
    return Path(mount["source"]) / config.relative_to(mount["target"])


def test_both_layouts_are_there() -> None:
    assert {p.name for p in COMPOSE_FILES} >= {"compose.yaml", "two-districts.yaml"}


@FILES
def test_every_image_has_a_pinned_tag(file: Path) -> None:
    for name, service in _services(file).items():
        tag = image_tag(service.get("image", ""))
        assert tag not in (None, "latest"), f"{file.name}: {name} runs an unpinned image"


@FILES
def test_every_service_has_a_healthcheck(file: Path) -> None:
    for name, service in _services(file).items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"{file.name}: {name} has no health check"


@FILES
def test_dependencies_wait_for_health(file: Path) -> None:
    for name, service in _services(file).items():
        for dependency, how in service.get("depends_on", {}).items():
            assert how.get("condition") == "service_healthy", f"{name} -> {dependency}"


@FILES
def test_hotline_services_get_the_settings_the_code_reads(file: Path) -> None:
    required = settings_required()
    for name, service in _hotline_services(file).items():
        read = settings_read() | peer_token_vars(_district_file(file, name))
        given = {k for k in service.get("environment", {}) if k.startswith("HOTLINE_")}
        assert given <= read, f"{name} sets {sorted(given - read)}, which no code reads"
        assert required <= given, f"{name} lacks {sorted(required - given)}"


@FILES
def test_hotline_services_mount_their_district_file_read_only(file: Path) -> None:
    for name, service in _hotline_services(file).items():
        config = Path(service["environment"]["HOTLINE_CONFIG"])
        mounts = [v for v in service.get("volumes", []) if isinstance(v, dict)]
        mount = next((v for v in mounts if config.is_relative_to(v.get("target", "-"))), None)
        assert mount is not None, f"{name}: nothing is mounted at HOTLINE_CONFIG ({config})"
        assert mount.get("read_only") is True, f"{name}: the district file is writable"
        on_host = Path(mount["source"]) / config.relative_to(mount["target"])
        assert on_host.is_file(), f"{name}: {on_host} is not a file"


@FILES
def test_hotline_services_serve_health_where_they_are_checked(file: Path) -> None:
    ports = service_ports()
    for name, service in _hotline_services(file).items():
        command = [str(part) for part in service["command"]]
        assert command[0] in ports, f"{name} runs {command[0]!r}, not a hotline service"
        port = command[command.index("--port") + 1]
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert service["healthcheck"]["test"][-1] == port, f"{name}: checked on another port"
        published = {str(p["target"]) if isinstance(p, dict) else p.split(":")[-1]
                     for p in service.get("ports", [])}  # fmt: skip
        assert port in published, f"{name}: port {port} is not published"


def _marker(name: str) -> str:
    return f"from-env-{name.lower()}"


@pytest.fixture(scope="module")
def marked_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """.env.example with each HOTLINE_* value replaced by a marker that names it, so that a
    service's value shows whether it came from .env or was written into the compose file."""
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        key = line.partition("=")[0].strip()
        lines.append(f"{key}={_marker(key)}" if HOTLINE_VAR.match(key) else line)
    marked = tmp_path_factory.mktemp("env") / ".env"
    marked.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return marked


@FILES
def test_every_setting_of_env_example_reaches_every_hotline_service(
    file: Path, marked_env: Path
) -> None:
    """A setting named in .env.example but not passed on would be silently ignored."""
    names = {k for k in env_example() if HOTLINE_VAR.match(k)} & settings_read()
    assert names, ".env.example names no HOTLINE_* setting"
    not_from_env = NOT_FROM_ENV.get(file.name, set())
    for name, service in compose_config(file, marked_env)["services"].items():
        if "build" not in service:
            continue
        env = service.get("environment", {})
        for setting in sorted(names):
            assert setting in env, f"{file.name}: {name} does not get {setting}"
            if setting not in not_from_env:
                assert env[setting] == _marker(setting), (
                    f"{file.name}: {name} gets {setting}={env[setting]!r}, not the value in .env"
                )


@FILES
def test_each_router_gets_from_env_the_peer_tokens_its_district_file_names(
    file: Path, marked_env: Path
) -> None:
    """Transfers need them; only the router sends transfers, so no other service holds them."""
    services = compose_config(file, marked_env)["services"]
    routers = 0
    for name in _hotline_services(file):
        wanted = peer_token_vars(_district_file(file, name))
        env = services[name].get("environment", {})
        given = {k for k in env if k.startswith("HOTLINE_PEER_TOKEN_")}
        if services[name]["command"][0] != "router":
            assert not given, f"{file.name}: {name} holds peer tokens {sorted(given)}"
            continue
        routers += 1
        assert wanted, f"{file.name}: {name}'s district file names no peer token"
        assert given == wanted, f"{file.name}: {name} gets {sorted(given)}, wants {sorted(wanted)}"
        for setting in wanted:
            assert env[setting] == _marker(setting), f"{file.name}: {name}: {setting} not from .env"
        assert set(wanted) <= set(env_example()), f".env.example does not name {sorted(wanted)}"
    assert routers, f"{file.name} runs no router"


def _peer_tokens_of_compose_districts() -> set[str]:
    districts = (DEPLOY / "compose" / "districts").glob("*/*.yaml")
    return {v for district in districts for v in peer_token_vars(district)}


def test_env_example_names_every_setting() -> None:
    """Every setting shared/runtime/settings.py reads, and every peer token the compose districts'
    files name; nothing else."""
    names = {k for k in env_example() if k.startswith("HOTLINE_")}
    read = settings_read() | _peer_tokens_of_compose_districts()
    assert names == read, f"missing {sorted(read - names)}, unknown {sorted(names - read)}"


def test_no_deploy_file_names_a_setting_the_code_does_not_read() -> None:
    files = [ROOT / "Dockerfile", ROOT / "docs" / "deploy.md", DEPLOY / "compose" / ".env.example"]
    files += [p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml")]
    districts = list(DEPLOY.rglob("district.yaml"))
    # the prefix itself, as docs/deploy.md names it, and each variable a district file names
    read = settings_read() | {"HOTLINE_PEER_TOKEN_"}
    read |= {v for district in districts for v in peer_token_vars(district)}
    for path in files:
        named = set(re.findall(r"\bHOTLINE_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
        assert named <= read, f"{path.relative_to(ROOT)} names {sorted(named - read)}"
