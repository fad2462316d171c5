"""Alembic environment: runs against the engine Safar hands over (or SAFAR settings).

A composition root like the app and the CLI (and, having no package, outside the import
graph): it needs every domain's tables, so it takes them from ``safar.domains.DOMAINS``.
"""

from __future__ import annotations

from alembic import context

from safar.db import Base, make_engine
from safar.domains import import_models

import_models()
target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from safar.config import Settings

        engine = make_engine(Settings().resolved_state_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
