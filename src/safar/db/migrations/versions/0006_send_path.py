"""orchestration send path: message jobs, their policy, reason codes, transactional contacts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="task", nullable=False)
        )
        batch_op.add_column(sa.Column("policy", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_job_reason", ["workspace_id", "reason"], unique=False)
    # Until now a job without a trigger was a task and every trigger job a message.
    op.execute("UPDATE scheduled_jobs SET kind = 'message' WHERE trigger_id IS NOT NULL")
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transactional", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_contact_budget", ["workspace_id", "profile_id", "at"], unique=False
        )
        # Each delivery updates its job's contact: without this, a scan of the whole log.
        batch_op.create_index("ix_contact_job", ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_job")
        batch_op.drop_index("ix_contact_budget")
        batch_op.drop_column("transactional")
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_reason")
        batch_op.drop_column("reason")
        batch_op.drop_column("policy")
        batch_op.drop_column("kind")
