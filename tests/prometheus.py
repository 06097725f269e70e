"""A real Prometheus (Debian's ``prometheus`` package) for the tests: temp config and storage,
a free port, the hotline rules loaded; and the dashboards' queries with their variables filled."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "rules"


def _binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pytest.fail(
            "`prometheus` is not installed; CI needs it: "
            "apt-get install -y --no-install-recommends prometheus",
            pytrace=False,
        )
    return path


def fast_rules(folder: Path) -> list[str]:
    """The hotline rule files, copied with every group evaluated at the global interval.

    The long SLA windows are evaluated every 5 minutes in production; a test
    cannot wait that long for their first value.
    """
    files = []
    for source in sorted(RULES.glob("*.yml")):
        rules = yaml.safe_load(source.read_text(encoding="utf-8"))
        for group in rules["groups"]:
            group.pop("interval", None)
        copy = folder / source.name
        copy.write_text(yaml.safe_dump(rules), encoding="utf-8")
        files.append(str(copy))
    return files


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    url: str
    popen: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str) -> dict[str, Any]:
        """An instant query; the whole answer (``status``, ``data`` or ``error``)."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        answer: dict[str, Any] = response.json()
        return answer

    def results(self, expr: str) -> list[dict[str, Any]]:
        """The samples an instant query returns; fail with Prometheus's error if it fails."""
        answer = self.query(expr)
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_prometheus(
    tmp_path: Path,
    targets: list[str],
    interval: str = "1s",
    scrape_configs: list[dict[str, Any]] | None = None,
) -> Prometheus:
    """Prometheus scraping ``targets`` (host:port) every ``interval``, with the hotline rules;
    or, given ``scrape_configs``, scraping as they say."""
    folder = tmp_path / "prometheus"
    (folder / "data").mkdir(parents=True)
    if scrape_configs is None:
        jobs = [{"job_name": "hotline", "static_configs": [{"targets": targets}]}]
        scrape_configs = jobs if targets else []
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": fast_rules(folder),
        "scrape_configs": scrape_configs,
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [
                _binary(),
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", popen, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"prometheus not ready in 60s: {log.read_text()[-3000:]}")


def filled(expr: str, variables: dict[str, str]) -> str:
    """A panel query with Grafana's variables replaced as Grafana would for these values."""
    values = {"__rate_interval": "30s", "__range": "1h", "__interval": "15s", **variables}

    def value(match: re.Match[str]) -> str:
        return values[match.group(1) or match.group(2)]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def variable_query(query: str) -> str:
    """Grafana's ``label_values(selector, label)`` as the PromQL that asks the same."""
    match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
    assert match is not None, f"not a label_values() query: {query}"
    return f"group by ({match.group(2)}) ({match.group(1)})"
