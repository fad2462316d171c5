"""identity: an index of trait keys per workspace (journeys refuse a trait no profile has)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:30:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_trait_workspace_key", "trait_values", ["workspace_id", "key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_trait_workspace_key", table_name="trait_values")
