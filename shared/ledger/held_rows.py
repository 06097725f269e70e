"""Rows written together: held on the session, inserted one statement per table.

Most of what a handler writes is plain rows nobody reads back in the same
transaction: outbox messages, assignments, SLA clocks and their ladder steps. Added as ORM
objects, each table's new rows go out as one huge ``INSERT ... RETURNING``
(the ORM must learn their ids), and the PostgreSQL driver's parsing of that
statement cost more than everything else the router did for a ticket. Held
here instead, they are inserted as plain multi-row inserts (an executemany,
which the driver pipelines) right before the session's next statement or
its commit: so any query in the same transaction (a test's, ``enqueue_once``'s
insert, the notifier's look at the clocks) still finds them, in the order
they were written, and a rollback drops them with everything else.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

#: Where a session keeps the rows it still has to insert, by table, in order of first use.
_HELD = "hotline.held_rows"

#: Execution options of a query that needs none of the held rows (nor the session's pending
#: objects, under ``no_autoflush``): it goes out without the inserts before it.
LATER = {"hotline_held_rows": "later"}


def hold(session: Session, model: type[DeclarativeBase], row: dict[str, Any]) -> None:
    """Insert ``row`` into ``model``'s table with the transaction's next statement."""
    session.info.setdefault(_HELD, {}).setdefault(model, []).append(row)


@event.listens_for(Session, "before_commit")
def _insert_held(session: Session) -> None:
    """Insert every held row, one statement per table, before the commit.

    Into the table, not through the ORM: the ORM splits a bulk insert wherever
    a row leaves a column None, and this is a plain executemany. The session
    is flushed first, so the tickets the rows refer to are there.
    """
    held = session.info.pop(_HELD, None)
    if not held:
        return
    session.flush()
    for model, rows in held.items():
        session.execute(insert(cast(Table, model.__table__)), rows)


@event.listens_for(Session, "do_orm_execute")
def _insert_held_first(state: ORMExecuteState) -> None:
    """Before any other statement, so that it sees the held rows as if written at once."""
    if state.execution_options.get("hotline_held_rows") != "later":
        _insert_held(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held(session: Session, _previous: Any) -> None:
    """A rolled-back change holds nothing."""
    if not session.in_transaction():
        session.info.pop(_HELD, None)
