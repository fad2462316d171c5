"""Import every domain's ORM models so Base.metadata is complete (Alembic, tests)."""


def import_models() -> None:
    import safar.auth.models
    import safar.events.models
    import safar.identity.models
    import safar.orchestration.models
    import safar.surveys.models
    import safar.workspaces.models  # noqa: F401
