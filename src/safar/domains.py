"""The composition root's list of domains: the one place that names every domain.

Kept apart from ``safar.runtime`` (which wires the running parts and loads the engines) so the
CLI can build its commands from the list without that cost: declaring a domain imports only
its ``module.py``, whose parts are references loaded on use.
"""

from __future__ import annotations

from typing import Any

from safar.auth.module import module as auth
from safar.events.module import module as events
from safar.flows.module import module as flows
from safar.identity.module import module as identity
from safar.journeys.module import module as journeys
from safar.kit.domain import Domain, load
from safar.orchestration.module import module as orchestration
from safar.segments.module import module as segments
from safar.surveys.module import module as surveys
from safar.text.module import module as text
from safar.workspaces.module import module as workspaces

#: Every domain, in the order their routers, commands and ingest hooks are added.
#: The ingest and profile routers come first: requests are matched against routers in this
#: order, and those two carry the hot paths.
DOMAINS: tuple[Domain, ...] = (
    events,
    identity,
    workspaces,
    auth,
    orchestration,
    segments,
    text,
    journeys,
    surveys,
    flows,
)


def import_models() -> None:
    """Import every domain's ORM models, so ``Base.metadata`` is complete (Alembic, tests)."""
    for domain in DOMAINS:
        domain.load_models()


def routers() -> list[Any]:
    """Every domain's FastAPI routers: each domain's first (its hot API) in ``DOMAINS`` order,
    then the others. Requests are matched route by route, so the ingest and profile routes stay
    ahead of the SDK settings, beacon and admin routes that are asked far less often."""
    refs = [domain.routers for domain in DOMAINS]
    ordered = [r[0] for r in refs if r] + [ref for r in refs for ref in r[1:]]
    return [load(ref) for ref in ordered]


def pages() -> tuple[str, ...]:
    """Every domain's dashboard page modules."""
    return tuple(page for domain in DOMAINS for page in domain.pages)
