"""All dashboard routes. To add a page, add its module to ``PAGES`` (see docs/architecture.md)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

from safar.web.render import STATIC

#: Page modules, each with a ``router`` and a ``register_nav(...)`` call at import time.
PAGES: tuple[str, ...] = (
    "safar.web.pages.account",
    "safar.web.pages.overview",
    "safar.web.pages.customers",
    "safar.web.pages.journeys",
    "safar.web.pages.surveys",
    "safar.web.pages.settings",
)


class CachedStatic(StaticFiles):
    """Static files browsers may keep for a day (revalidated by ETag after that)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for name in PAGES:
        router.include_router(import_module(name).router)
    return router


def mount(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its vendored assets at ``/static``."""
    # Compressed here rather than app-wide, so the ingest path stays untouched.
    static = GZipMiddleware(CachedStatic(directory=STATIC), minimum_size=1024)
    app.mount("/static", static, name="static")
    app.include_router(build_router())
