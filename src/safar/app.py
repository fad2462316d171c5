"""Build the FastAPI application: routers, one error handler, lifespan of the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safar import __version__
from safar.config import Settings
from safar.errors import SafarError
from safar.runtime import Runtime

log = logging.getLogger("safar")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """The app; pass ``runtime`` to share one (tests, demo) or let the lifespan open it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        app.state.runtime = runtime or Runtime(settings or Settings())
        try:
            yield
        finally:
            if owned:
                app.state.runtime.close()

    app = FastAPI(
        title="Safar",
        version=__version__,
        lifespan=lifespan,
        description="Open-source customer experience management: capture, unify, ask, listen, "
        "understand, act.",
    )
    if runtime is not None:
        app.state.runtime = runtime
    from safar.events.api import IngestCORS

    app.add_middleware(IngestCORS)

    from safar.web.errors import is_page, page_error, safar_page_error

    @app.exception_handler(SafarError)
    async def _safar_error(request: Request, exc: SafarError) -> Response:
        if is_page(request):
            return safar_page_error(request, exc)
        headers = {"WWW-Authenticate": "Basic"} if exc.status_code == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field(tuple(first.get("loc", ())))
        if is_page(request):
            return page_error(request, 400, f"{field}: {first.get('msg')}")
        return JSONResponse(
            {
                "error": "ValidationFailed",
                "message": f"{field}: {first.get('msg')}",
                "field": field,
            },
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request) and exc.status_code >= 400:
            return page_error(request, exc.status_code)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        if is_page(request):
            return page_error(request, 500)
        return JSONResponse(
            {"error": "InternalError", "message": "internal error; see the server log"},
            status_code=500,
        )

    from safar.domains import routers
    from safar.ops import router as ops_router

    for router in routers():
        app.include_router(router)
    app.include_router(ops_router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from safar.domains import pages
    from safar.web.router import mount

    # Last: the dashboard owns "/" and every path the API does not.
    mount(app, pages())
    return app
