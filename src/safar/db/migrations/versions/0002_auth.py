"""dashboard users and sign-in sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:30:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("calendar", sa.String(length=10), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
    op.drop_table("users")
