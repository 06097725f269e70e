"""Notifications: a unique dedup key on outbox rows, dead-lettered deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.shared.ledger.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = hotline.shared.ledger.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("dead_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_dedup_key", ["dedup_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_dedup_key", type_="unique")
        batch_op.drop_column("last_error")
        batch_op.drop_column("dead_at")
        batch_op.drop_column("dedup_key")
