"""journeys (flows): versions, instances, timers, waits, inbox, actions, step log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import safar.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("flow_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("mark", sa.String(length=60), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "kind", "mark", name="uq_flow_step"),
    )
    op.create_index(
        "ix_flow_step_flow", "flow_steps", ["workspace_id", "flow_id", "kind", "node"], unique=False
    )
    op.create_index(op.f("ix_flow_steps_instance_id"), "flow_steps", ["instance_id"], unique=False)
    op.create_table(
        "flows",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("trigger_type", sa.String(length=20), nullable=True),
        sa.Column("trigger_event", sa.String(length=200), nullable=True),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_flows_workspace_id"), "flows", ["workspace_id"], unique=False)
    op.create_table(
        "flow_instances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("flow_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("entry_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("trigger_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("entered_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("node", sa.String(length=40), nullable=True),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_id", "entry_key", name="uq_flow_entry"),
    )
    op.create_index(
        "ix_flow_instance_profile",
        "flow_instances",
        ["workspace_id", "profile_id", "flow_id", "status"],
        unique=False,
    )
    op.create_index("ix_flow_instance_status", "flow_instances", ["status", "id"], unique=False)
    op.create_index(op.f("ix_flow_instances_flow_id"), "flow_instances", ["flow_id"], unique=False)
    op.create_table(
        "flow_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("flow_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_id", "version", name="uq_flow_version"),
    )
    op.create_index(
        op.f("ix_flow_versions_workspace_id"), "flow_versions", ["workspace_id"], unique=False
    )
    op.create_table(
        "flow_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("flow_id", sa.String(length=40), nullable=False),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["flow_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "key", name="uq_flow_action"),
    )
    op.create_index(op.f("ix_flow_actions_flow_id"), "flow_actions", ["flow_id"], unique=False)
    op.create_index(
        op.f("ix_flow_actions_profile_id"), "flow_actions", ["profile_id"], unique=False
    )
    op.create_table(
        "flow_inbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["flow_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "message_id", name="uq_flow_inbox"),
    )
    op.create_index(op.f("ix_flow_inbox_instance_id"), "flow_inbox", ["instance_id"], unique=False)
    op.create_table(
        "flow_timers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("due_at", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", safar.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["flow_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flow_timer_due", "flow_timers", ["due_at", "id"], unique=False)
    op.create_index(
        op.f("ix_flow_timers_instance_id"), "flow_timers", ["instance_id"], unique=False
    )
    op.create_table(
        "flow_waits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("until", safar.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["flow_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_flow_wait_event", "flow_waits", ["workspace_id", "event", "profile_id"], unique=False
    )
    op.create_index(op.f("ix_flow_waits_instance_id"), "flow_waits", ["instance_id"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_flow_waits_instance_id"), table_name="flow_waits")
    op.drop_index("ix_flow_wait_event", table_name="flow_waits")
    op.drop_table("flow_waits")
    op.drop_index(op.f("ix_flow_timers_instance_id"), table_name="flow_timers")
    op.drop_index("ix_flow_timer_due", table_name="flow_timers")
    op.drop_table("flow_timers")
    op.drop_index(op.f("ix_flow_inbox_instance_id"), table_name="flow_inbox")
    op.drop_table("flow_inbox")
    op.drop_index(op.f("ix_flow_actions_profile_id"), table_name="flow_actions")
    op.drop_index(op.f("ix_flow_actions_flow_id"), table_name="flow_actions")
    op.drop_table("flow_actions")
    op.drop_index(op.f("ix_flow_versions_workspace_id"), table_name="flow_versions")
    op.drop_table("flow_versions")
    op.drop_index(op.f("ix_flow_instances_flow_id"), table_name="flow_instances")
    op.drop_index("ix_flow_instance_status", table_name="flow_instances")
    op.drop_index("ix_flow_instance_profile", table_name="flow_instances")
    op.drop_table("flow_instances")
    op.drop_index(op.f("ix_flows_workspace_id"), table_name="flows")
    op.drop_table("flows")
    op.drop_index(op.f("ix_flow_steps_instance_id"), table_name="flow_steps")
    op.drop_index("ix_flow_step_flow", table_name="flow_steps")
    op.drop_table("flow_steps")
