"""The auth domain: dashboard users, roles, sessions."""

from safar.kit.domain import Domain

module = Domain(
    name="auth",
    routers=("safar.auth.api:router",),
    pages=("safar.web.pages.account",),
    models=("safar.auth.models",),
    cli={"user": "safar.auth.cli:app"},
)
