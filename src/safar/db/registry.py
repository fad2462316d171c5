"""Every domain's ORM models for Alembic's metadata, from the composition root's list.

The migration environment is a composition root like the app and the CLI: it needs every
table, so it asks ``safar.domains.DOMAINS`` instead of naming the domains itself.
"""


def import_models() -> None:
    from safar.domains import import_models as load_all

    load_all()
