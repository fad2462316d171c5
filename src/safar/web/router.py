"""All dashboard routes. To add a page, add its module to ``PAGES`` (see docs/architecture.md)."""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from safar.web.render import STATIC

#: Page modules, each with a ``router`` and a ``register_nav(...)`` call at import time.
PAGES: tuple[str, ...] = (
    "safar.web.pages.account",
    "safar.web.pages.overview",
    "safar.web.pages.customers",
    "safar.web.pages.settings",
)


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for name in PAGES:
        router.include_router(import_module(name).router)
    return router


def mount(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its vendored assets at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(build_router())
