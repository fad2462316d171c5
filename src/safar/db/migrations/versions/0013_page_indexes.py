"""identity: indexes the dashboard's customer list reads at a million profiles

The list's first page (the most recently updated unmerged profiles) and the search by a part
of an identifier (newest identities first) each sorted the whole workspace without them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_profiles_recent",
        "profiles",
        ["workspace_id", "merged_into", sa.text("updated_at DESC"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_identities_first_seen", "identities", ["workspace_id", "first_seen"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_identities_first_seen", table_name="identities")
    op.drop_index("ix_profiles_recent", table_name="profiles")
