"""Fixtures over the real engines: SQLite files and the machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from hotline.shared.ledger.engine import make_engine, migrate
from tests.harness import create_database, drop_database


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    url = create_database()
    yield url
    drop_database(url)


def _fresh_pg(pg_url: str) -> Engine:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty ledger on each real database engine."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        migrate(engine)
    else:
        engine = _fresh_pg(request.getfixturevalue("pg_url"))
    yield engine
    engine.dispose()
