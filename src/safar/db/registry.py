"""Every domain's ORM models for Alembic's metadata, from the runtime's list of domains.

The migration environment is a composition root like the app and the CLI: it needs every
table, so it asks ``safar.runtime.DOMAINS`` instead of naming the domains itself.
"""


def import_models() -> None:
    from safar.runtime import import_models as load_all

    load_all()
