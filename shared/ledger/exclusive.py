"""One scheduler per SQLite ledger: a second notifier refuses to start.

On PostgreSQL any number of notifiers share the due rungs through row locks.
SQLite has no row locks, so the notifier takes an exclusive lock on a file
beside the database for as long as it runs. The operating system drops the
lock when the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine


class AlreadyRunning(Exception):
    """Another process (or another part of this one) holds the lock."""


class ExclusiveLock:
    """An exclusive lock on ``path``, held from ``acquire`` to ``release``."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self._holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise AlreadyRunning saying who should not start twice."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(
                f"another {self._holder} already runs against this SQLite ledger"
                f" (lock {self.path}); on SQLite only one may run: stop the other,"
                " or use PostgreSQL to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let the next one start."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def single_on_sqlite(engine: Engine, holder: str) -> ExclusiveLock | None:
    """Hold the ``holder``'s lock for a file-based SQLite ledger; None for any other database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    lock = ExclusiveLock(Path(f"{database}.{holder}.lock"), holder)
    lock.acquire()
    return lock
