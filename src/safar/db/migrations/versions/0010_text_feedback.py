"""text: corrections of labels from the Listen page (training feedback)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:00:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("old_label", sa.String(length=40), nullable=True),
        sa.Column("new_label", sa.String(length=40), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_text_feedback_message", "text_feedback", ["workspace_id", "message_id"], unique=False
    )
    op.create_index(
        op.f("ix_text_feedback_workspace_id"), "text_feedback", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_text_feedback_workspace_id"), table_name="text_feedback")
    op.drop_index("ix_text_feedback_message", table_name="text_feedback")
    op.drop_table("text_feedback")
