"""intake access: API tokens (hashed) with roles; first-contact resolution

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-22 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.ledger.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(
            sa.Column("resolved_at_intake", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("intake_answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("place", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("link_kind", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key("fk_tickets_duplicate_of", "tickets", ["duplicate_of"], ["id"])
        batch_op.create_index("ix_tickets_duplicate_of", ["duplicate_of"])
        batch_op.create_index(
            "ix_tickets_place_category_created", ["place", "category", "created_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_place_category_created")
        batch_op.drop_index("ix_tickets_duplicate_of")
        batch_op.drop_constraint("fk_tickets_duplicate_of", type_="foreignkey")
        batch_op.drop_column("link_kind")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("place")
        batch_op.drop_column("intake_answer")
        batch_op.drop_column("resolved_at_intake")
    op.drop_table("api_tokens")
