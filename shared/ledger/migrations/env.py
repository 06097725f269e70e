"""Alembic environment: the engine comes from the caller, never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from hotline.shared.ledger.schema import Base

engine: Engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
