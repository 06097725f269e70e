"""Rows written together: held on the session, inserted one statement per table.

Most of what a handler writes is plain rows nobody reads back in the same
transaction: events, outbox messages, assignments, SLA clocks and their
ladder steps. Added as ORM objects, each table's new rows go out as one huge
``INSERT ... RETURNING`` (the ORM must learn their ids), and the PostgreSQL
driver's parsing of that statement cost more than everything else the router
did for a ticket. Held here instead, they are inserted one statement per
table (``COPY`` on PostgreSQL, an executemany on SQLite) right before the
session's next statement or its commit: so any query in the same
transaction (a test's, ``enqueue_once``'s insert, the notifier's look at the
clocks) still finds them, in the order they were written, and a rollback
drops them with everything else.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, event, insert
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
    connection = session.connection()
    for model, rows in held.items():
        table = cast(Table, model.__table__)
        if connection.dialect.name == "postgresql":
            _copy(connection, table, rows)
        else:
            connection.execute(insert(table), rows)


def _copy(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``COPY`` the rows into ``table`` in the connection's transaction (PostgreSQL).

    psycopg pipelines an executemany, but in Python, row by row: for the dozen
    ladder steps and outbox rows of each routed ticket that was a third of the
    router's CPU. ``COPY`` takes the rows in one stream, formatted in C. Values
    pass through the columns' own bind processing (UTC times, JSON), as they
    would in an ``INSERT``; a column a row leaves out gets its default.
    """
    names = list(rows[0])
    defaults = {
        c.key: c.default.arg  # type: ignore[attr-defined]  # a scalar default has its value
        for c in table.c
        if c.default is not None and c.default.is_scalar
    }
    names += [key for key in defaults if key not in names]
    columns = [table.c[name] for name in names]
    dialect = connection.dialect
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    quoted = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    into = f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN"
    driver: Any = connection.connection.dbapi_connection
    with driver.cursor() as cursor, cursor.copy(into) as copy:
        for row in rows:
            values = (row.get(name, defaults.get(name)) for name in names)
            copy.write_row(
                [v if p is None else p(v) for p, v in zip(processors, values, strict=True)]
            )


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
