"""SLA clocks: three clocks per task, repeating ladder rungs, extensions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.shared.ledger.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TIME = hotline.shared.ledger.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=False),
        sa.Column("counting", sa.String(length=24), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("limit_seconds", sa.Float(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("stopped_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "attempt", "clock", name="uq_sla_clock"),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_clocks_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(
            "ix_sla_clocks_running_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("outcome IS NULL AND stopped_at IS NULL"),
            sqlite_where=sa.text("outcome IS NULL AND stopped_at IS NULL"),
        )

    op.create_table(
        "sla_extensions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extra_seconds", sa.Float(), nullable=True),
        sa.Column("until", UTC_TIME, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("old_due_at", UTC_TIME, nullable=True),
        sa.Column("new_due_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sla_extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_extensions_ticket_id"), ["ticket_id"], unique=False
        )

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("tell", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("repeat_every_seconds", sa.Float(), nullable=True))
        batch_op.drop_constraint("uq_deadline_step", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deadline_step", ["ticket_id", "attempt", "clock", "level", "repeat"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deadline_step", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deadline_step", ["ticket_id", "attempt", "clock", "level"]
        )
        batch_op.drop_column("repeat_every_seconds")
        batch_op.drop_column("tell")
        batch_op.drop_column("repeat")
    with op.batch_alter_table("sla_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_extensions_ticket_id"))
    op.drop_table("sla_extensions")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_running_due")
        batch_op.drop_index(batch_op.f("ix_sla_clocks_ticket_id"))
    op.drop_table("sla_clocks")
