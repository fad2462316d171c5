"""listed segments: a fixed list of profiles saved from a chart's drill-down

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "segment_listed_profiles",
        sa.Column("segment_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "profile_id"),
    )
    with op.batch_alter_table("segment_listed_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segment_listed_profiles_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("segment_listed_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_listed_profiles_workspace_id"))
    op.drop_table("segment_listed_profiles")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("listed")
