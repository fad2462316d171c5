"""All dashboard routes. A domain lists its pages in its ``module.py`` (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

from safar.web.render import STATIC


class CachedStatic(StaticFiles):
    """Static files browsers may keep for a day (revalidated by ETag after that)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def build_router(pages: Sequence[str]) -> APIRouter:
    """One router of the page modules, each with a ``router`` and a ``register_nav(...)`` call."""
    router = APIRouter(include_in_schema=False)
    for name in pages:
        router.include_router(import_module(name).router)
    return router


def mount(app: FastAPI, pages: Sequence[str]) -> None:
    """Serve the dashboard at ``/`` and its vendored assets at ``/static``."""
    # Compressed here rather than app-wide, so the ingest path stays untouched.
    static = GZipMiddleware(CachedStatic(directory=STATIC), minimum_size=1024)
    app.mount("/static", static, name="static")
    app.include_router(build_router(pages))
