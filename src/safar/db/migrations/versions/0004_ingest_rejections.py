"""ingest rejections

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:05:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_rejections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_reason", sa.String(length=500), nullable=False),
        sa.Column("last_sample", sa.Text(), nullable=False),
        sa.Column("last_source", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "field", name="uq_ingest_rejection"),
    )
    with op.batch_alter_table("ingest_rejections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_rejections_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_rejections_workspace_id"))
    op.drop_table("ingest_rejections")
