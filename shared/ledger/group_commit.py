"""Group commit: the writes of concurrent callers share one transaction and one commit.

A call-taker's request is a few small inserts, but each transaction of its
own costs a commit (a WAL flush on PostgreSQL, an fsync on SQLite) and the
round trips around it; under a burst of calls those, not the inserts, are
what the intake waits for. So one writer takes every piece of work that
arrived while the previous batch was committing, runs them one after the
other in one transaction, commits once and answers each caller. A lone call
goes through at once, alone; batches grow only as fast as calls queue up.

Each caller still gets exactly what its own transaction would have given:
when a piece of work raises, the batch is rolled back, the work before it is
committed again without it, the failing work is run alone (so its caller
sees its own error, from its own transaction) and the work after it goes on
in the next batch. A failed commit (a unique key taken by another process at
the same moment, a lost connection) runs every piece alone. Work therefore
must do nothing but read and write through the session it is given: it may
be run again after a rollback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.ledger.engine import write_lock

T = TypeVar("T")

#: What a caller hands in: a function of the transaction's session and the time it runs at.
Work = Callable[[Session, datetime], T]


@dataclass(frozen=True)
class _Done(Generic[T]):
    value: T


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_Outcome = _Done[Any] | _Failed


@dataclass
class _Pending:
    work: Work[Any]
    answer: asyncio.Future[Any]


class GroupCommit:
    """Runs writes from many coroutines in as few transactions as their arrival allows.

    ``after_commit`` is called (in the writer's thread) after every commit,
    e.g. to wake the relay that publishes the outbox rows just written.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        after_commit: Callable[[], None] = lambda: None,
        max_batch: int = 200,
    ) -> None:
        self._sessions = sessions
        self._after_commit = after_commit
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in a transaction (shared with others'), once it has committed."""
        loop = asyncio.get_running_loop()
        pending = _Pending(work, loop.create_future())
        self._pending.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="group-commit")
        result: T = await pending.answer
        return result

    async def _write(self) -> None:
        """Commit batch after batch until nothing waits; the only writer at any time."""
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                outcomes = await asyncio.to_thread(self.commit, [p.work for p in batch])
            except BaseException as exc:  # the writer itself broke: nobody may wait forever
                outcomes = [_Failed(exc)] * len(batch)
            for pending, outcome in zip(batch, outcomes, strict=True):
                if pending.answer.done():  # its caller gave up (the client went away)
                    continue
                if isinstance(outcome, _Failed):
                    pending.answer.set_exception(outcome.error)
                else:
                    pending.answer.set_result(outcome.value)

    def commit(self, works: list[Work[Any]]) -> list[_Outcome]:
        """Run ``works`` in one transaction; each one's result, or its error when run alone."""
        if not works:
            return []
        outcomes: list[_Outcome] = []
        try:
            with self._sessions.begin() as session:
                write_lock(session)  # a writer from the start: SQLite serialises the batch
                for work in works:
                    outcomes.append(_Done(work(session, datetime.now(UTC))))
        except Exception as exc:
            if len(works) == 1:
                return [_Failed(exc)]
            failed = len(outcomes)
            if failed == len(works):  # the commit itself failed: nobody's fault in particular
                return [outcome for work in works for outcome in self.commit([work])]
            return (
                self.commit(works[:failed])
                + self.commit([works[failed]])
                + self.commit(works[failed + 1 :])
            )
        self._after_commit()
        return outcomes
