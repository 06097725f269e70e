"""What the deployment checks share: paths, the settings the code reads, the tools they run."""

from __future__ import annotations

import ast
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose"
COMPOSE_FILES = sorted(COMPOSE.glob("*.yaml"))
ENV_EXAMPLE = COMPOSE / ".env.example"
OVERLAYS = sorted(p for p in (DEPLOY / "k8s" / "overlays").iterdir() if p.is_dir())
SETTINGS = ROOT / "shared" / "runtime" / "settings.py"
HOTLINE_VAR = re.compile(r"^HOTLINE_[A-Z0-9_]+$")


def _settings_tree() -> ast.Module:
    return ast.parse(SETTINGS.read_text(encoding="utf-8"))


def settings_read() -> set[str]:
    """Every ``HOTLINE_*`` name that shared/runtime/settings.py reads, found in its source."""
    return {
        node.value
        for node in ast.walk(_settings_tree())
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and HOTLINE_VAR.match(node.value)
    }


def settings_required() -> set[str]:
    """The names shared/runtime/settings.py reads as ``env["..."]`` with no default: required."""
    return {
        node.slice.value
        for node in ast.walk(_settings_tree())
        if isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
        and HOTLINE_VAR.match(node.slice.value)
    }


def service_ports() -> dict[str, int]:
    """The services ``hotline`` runs and their default ports, from services/cli/main.py's source."""
    for node in ast.walk(
        ast.parse((ROOT / "services" / "cli" / "main.py").read_text(encoding="utf-8"))
    ):
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["ports"]:
            ports: dict[str, int] = ast.literal_eval(node.value)
            return ports
    raise AssertionError(
        "services/cli/main.py no longer names its services' ports in `ports = {...}`"
    )


def need_tool(name: str, install: str) -> str:
    """The path of a command-line tool; a missing tool fails the test (CI must install it)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed; CI needs it: {install}", pytrace=False)
    return path


def run(command: list[str], cwd: Path = ROOT) -> str:
    """Run a tool with a clean environment; fail the test with its stderr when it fails."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{done.stderr or done.stdout}", pytrace=False)
    return done.stdout


def compose_command() -> list[str]:
    """`docker compose` when the plugin is there, else the standalone `docker-compose`."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    return [
        need_tool(
            "docker-compose",
            "apt-get install -y --no-install-recommends docker-compose (or the compose plugin)",
        )
    ]


@functools.cache
def compose_config(file: Path, env_file: Path = ENV_EXAMPLE) -> dict[str, Any]:
    """The compose file as compose itself resolves it, with the settings of ``env_file``
    (.env.example unless a test gives another).

    Cached: one run of compose per file and env file; callers must not change what it returns.
    """
    out = run([*compose_command(), "--env-file", str(env_file), "-f", str(file), "config"])
    config: dict[str, Any] = yaml.safe_load(out)
    return config


def image_tag(image: str) -> str | None:
    """The tag of an image reference (``None`` when it has none)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def peer_token_vars(district_file: Path) -> set[str]:
    """The environment variables a district file's peers take their tokens from (token_env)."""
    district = yaml.safe_load(district_file.read_text(encoding="utf-8"))
    return {p["token_env"] for p in district.get("peers", []) if p.get("token_env")}


def env_example() -> dict[str, str]:
    """The variables .env.example sets."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs
