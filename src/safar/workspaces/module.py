"""The workspaces domain: tenants and their API keys."""

from safar.kit.domain import Domain

module = Domain(
    name="workspaces",
    routers=("safar.workspaces.api:router",),
    pages=("safar.web.pages.settings",),
    models=("safar.workspaces.models",),
    cli={"workspace": "safar.workspaces.cli:app"},
)
