"""The identity domain: profiles, identities, merges, traits, consent, households."""

from safar.kit.domain import Domain

module = Domain(
    name="identity",
    routers=("safar.identity.api:router",),
    pages=("safar.web.pages.customers",),
    models=("safar.identity.models",),
    privacy="safar.identity.privacy:handler",
)
