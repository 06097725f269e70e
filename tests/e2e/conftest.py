"""Fixtures that run the whole system for a test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import System, create_database, drop_database, start_embedded, start_production


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one system, dropped afterwards."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=["embedded", "production"])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[System]:
    """The whole system, once per deployment kind."""
    if request.param == "embedded":
        running = start_embedded(tmp_path)
    else:
        running = start_production(tmp_path, request.getfixturevalue("pg_database"))
    yield running
    running.stop()
    if running.tansu is not None:
        running.tansu.stop()
