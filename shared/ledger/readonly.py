"""Opening the ledger for a command that only reads it (``hotline route replay``, ``report``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hotline.shared.ledger.engine import ledger_check, make_engine, make_sessions


class LedgerUnavailable(Exception):
    """The ledger cannot be read; the message says why and what to set."""


def default_database_url() -> str:
    """The ledger to read: HOTLINE_DATABASE_URL, else the one ``hotline up`` keeps in var/."""
    return os.environ.get("HOTLINE_DATABASE_URL") or f"sqlite:///{Path('var/ledger.sqlite')}"


@contextmanager
def reading(database: str | None) -> Iterator[Session]:
    """A session on the ledger at ``database`` (or the default), or LedgerUnavailable.

    A missing SQLite file is refused rather than opened: opening would create an
    empty ledger and report nothing.
    """
    url = database or default_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise LedgerUnavailable(f"no ledger at {url} (set --database or HOTLINE_DATABASE_URL)")
    engine = make_engine(url)
    try:
        problem = ledger_check(engine)
        if problem is not None:
            raise LedgerUnavailable(problem)
        with make_sessions(engine)() as session:
            yield session
    except SQLAlchemyError as exc:
        raise LedgerUnavailable(
            f"cannot read the ledger at {url} ({type(exc).__name__}); is it a hotline ledger?"
            " (hotline up or the services create it)"
        ) from exc
    finally:
        engine.dispose()
