"""routing engine: idempotency keys, transfers, recorded decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("transfer_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("peer_ticket_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_tickets_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.add_column(sa.Column("decision", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_column("decision")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_constraint("uq_tickets_idempotency_key", type_="unique")
        batch_op.drop_column("peer_ticket_id")
        batch_op.drop_column("transfer_to")
        batch_op.drop_column("idempotency_key")
