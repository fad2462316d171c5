"""cases: the case as it is now and its append-only event log

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("assignee", sa.String(length=40), nullable=True),
        sa.Column("team", sa.String(length=60), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source_message_ids", sa.JSON(), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("solved_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "source_key", name="uq_case_source"),
    )
    op.create_index("ix_case_inbox", "cases", ["workspace_id", "status", "created_at"])
    op.create_index("ix_case_profile", "cases", ["workspace_id", "profile_id"])
    op.create_index("ix_case_assignee", "cases", ["workspace_id", "assignee"])
    op.create_table(
        "case_events",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )
    op.create_index(
        op.f("ix_case_events_workspace_id"), "case_events", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_events_workspace_id"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("ix_case_assignee", table_name="cases")
    op.drop_index("ix_case_profile", table_name="cases")
    op.drop_index("ix_case_inbox", table_name="cases")
    op.drop_table("cases")
