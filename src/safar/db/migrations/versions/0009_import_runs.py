"""import runs: bulk imports the server runs (dashboard and POST /api/imports)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("bad_rows", sa.Integer(), nullable=False),
        sa.Column("skipped_events", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("rerun_of", sa.String(length=40), nullable=True),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_runs_workspace_id"), ["workspace_id"])
        batch_op.create_index(batch_op.f("ix_import_runs_state"), ["state"])
        batch_op.create_index(batch_op.f("ix_import_runs_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_runs_created_at"))
        batch_op.drop_index(batch_op.f("ix_import_runs_state"))
        batch_op.drop_index(batch_op.f("ix_import_runs_workspace_id"))
    op.drop_table("import_runs")
