"""The Dockerfile installs the package as `pip install .` does, and its health check works."""

from __future__ import annotations

import importlib.util
import json
import shlex
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.helpers import DEPLOY, ROOT, image_tag

Instruction = tuple[str, str]
HEALTHCHECK_SCRIPT = DEPLOY / "docker" / "healthcheck.py"


def _instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def _stages() -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for keyword, rest in _instructions():
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, rest))
    return stages


def _args(stage: list[Instruction], keyword: str) -> list[str]:
    return [rest for k, rest in stage if k == keyword]


def _copy_sources(rest: str) -> list[str]:
    parts = [p for p in shlex.split(rest) if not p.startswith("--")]
    return [p.rstrip("/") for p in parts[:-1]]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _build_stage() -> list[Instruction]:
    stages = [s for s in _stages() if any("pip install" in r for r in _args(s, "RUN"))]
    assert len(stages) == 1, "exactly one stage should run pip install"
    return stages[0]


def test_the_build_stage_copies_everything_pip_install_dot_reads() -> None:
    project = _pyproject()
    needed = {"pyproject.toml", project["project"]["readme"]}
    needed |= {d.rstrip("/") for d in project["tool"]["setuptools"]["package-dir"].values()}
    copied = {src for rest in _args(_build_stage(), "COPY") for src in _copy_sources(rest)}
    assert needed <= copied, f"the build stage does not copy {sorted(needed - copied)}"


def test_the_build_stage_runs_pip_install_dot_and_nothing_more() -> None:
    runs = [shlex.split(r.replace("&&", " && ")) for r in _args(_build_stage(), "RUN")]
    installs = []
    for words in runs:
        for i, word in enumerate(words):
            if word.endswith("pip") and words[i + 1 : i + 2] == ["install"]:
                tail = words[i + 2 :]
                tail = tail[: tail.index("&&")] if "&&" in tail else tail
                installs.append([w for w in tail if not w.startswith("-")])
    assert installs == [["."]], f"pip installs {installs}, not exactly `pip install .`"


def test_the_image_runs_the_console_script_as_an_unprivileged_user() -> None:
    final = _stages()[-1]
    users = _args(final, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    entrypoint = json.loads(_args(final, "ENTRYPOINT")[-1])
    assert entrypoint == ["hotline"] and "hotline" in _pyproject()["project"]["scripts"]


def test_the_base_images_are_slim_python_3_11_and_pinned() -> None:
    for stage in _stages():
        image = shlex.split(stage[0][1])[0]
        assert image.startswith("python:3.11") and "slim" in image, image
        assert image_tag(image) not in (None, "latest"), image


def test_the_healthcheck_runs_the_script_with_python() -> None:
    final = _stages()[-1]
    check = _args(final, "HEALTHCHECK")[-1]
    command = json.loads(check[check.index("CMD") + len("CMD") :].strip())
    assert command[0] == "python", command
    copies = [[*_copy_sources(rest), shlex.split(rest)[-1]] for rest in _args(final, "COPY")]
    assert [HEALTHCHECK_SCRIPT.relative_to(ROOT).as_posix(), command[1]] in copies, copies


def test_dockerignore_lets_in_what_the_dockerfile_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", ".dockerignore should start by excluding everything"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for stage in _stages():
        for rest in _args(stage, "COPY"):
            if "--from" not in rest:
                missing = set(_copy_sources(rest)) - allowed
                assert not missing, f".dockerignore keeps out {sorted(missing)}"


def _load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", HEALTHCHECK_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "port"),
    [
        (["/opt/hotline/bin/python", "/opt/hotline/bin/hotline", "router"], 8081),
        (["/opt/hotline/bin/hotline", "intake", "--host", "0.0.0.0", "--port", "9000"], 9000),
        (["/opt/hotline/bin/hotline", "-v", "notifier", "--port=9100"], 9100),
        (["/opt/hotline/bin/hotline", "config", "check", "f.yaml"], None),
        (["python", "/usr/local/lib/hotline/healthcheck.py"], None),
    ],
)
def test_healthcheck_finds_the_service_port(argv: list[str], port: int | None) -> None:
    assert _load_healthcheck().port_of(argv) == port


@pytest.fixture
def healthz() -> Iterator[tuple[int, list[int]]]:
    """A local /healthz whose status the test sets: (port, [status])."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status[0] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], status
    server.shutdown()
    server.server_close()


def test_healthcheck_passes_on_200_and_fails_otherwise(healthz: tuple[int, list[int]]) -> None:
    port, status = healthz
    check = _load_healthcheck()
    assert check.main(["healthcheck.py", str(port)]) == 0
    status[0] = 503
    assert check.main(["healthcheck.py", str(port)]) == 1
