"""Build the FastAPI application: routers, one error handler, lifespan of the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safar import __version__
from safar.config import Settings
from safar.errors import SafarError, StorageUnavailable, is_transient
from safar.runtime import Runtime

log = logging.getLogger("safar")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


class AnswerUnexpected:
    """Answer an unhandled error with the 500 here rather than in Starlette's outermost layer.

    That layer re-raises after answering, and uvicorn then closes the keep-alive connection;
    answered here, the client keeps its connection. Once a response has started, the error
    still propagates (the response cannot be replaced).
    """

    def __init__(
        self, app: Any, render: Callable[[Request, Exception], Awaitable[Response]]
    ) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            response = await self.render(Request(scope, receive), exc)
            await response(scope, receive, send)


def _install_error_handlers(app: FastAPI) -> None:
    """One answer per kind of failure: SafarError as its JSON (or an error page), validation as
    a 400 naming the field, store errors as 503 with Retry-After, anything else a bare 500."""
    from safar.events.api import IngestCORS
    from safar.web.errors import is_page, page_error, page_validation_error, safar_page_error

    async def _unexpected(request: Request, exc: Exception) -> Response:
        if is_transient(exc):
            # A full disk or a store that went away is not a bug: say so, and when to retry.
            log.error("store error on %s: %s", request.url.path, exc)
            return await _safar_error(
                request,
                StorageUnavailable(
                    "storage: a disk or store error stopped this request; retry after 1 s",
                    field="storage",
                ),
            )
        log.exception("unhandled error", exc_info=exc)
        if is_page(request):
            return page_error(request, 500)
        return JSONResponse(
            {
                "error": "InternalError",
                "code": "internal_error",
                "message": "internal error; see the server log",
            },
            status_code=500,
        )

    app.add_middleware(AnswerUnexpected, render=_unexpected)
    app.add_middleware(IngestCORS)

    @app.exception_handler(SafarError)
    async def _safar_error(request: Request, exc: SafarError) -> Response:
        if is_page(request):
            return safar_page_error(request, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field(tuple(first.get("loc", ())))
        if is_page(request):
            return page_validation_error(request, first)
        return JSONResponse(
            {
                "error": "ValidationFailed",
                "code": "invalid_request",
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

    # For errors raised outside ``AnswerUnexpected`` (in the outer middleware).
    app.add_exception_handler(Exception, _unexpected)


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
        # The CDN-loaded defaults are blank offline; web.apidocs serves /docs from vendored files.
        docs_url=None,
        redoc_url=None,
        description="Open-source customer experience management: capture, unify, ask, listen, "
        "understand, act.",
    )
    if runtime is not None:
        app.state.runtime = runtime
    _install_error_handlers(app)

    from safar.domains import routers
    from safar.ops import router as ops_router

    for router in routers():
        app.include_router(router)
    app.include_router(ops_router)

    @app.get("/healthz", tags=["ops"])
    def healthz(request: Request) -> JSONResponse:
        from safar.events.health import ingest_health

        rt: Runtime = request.app.state.runtime
        code, body = ingest_health(rt.committer, rt.consumer, rt.scheduler.last_error)
        return JSONResponse({**body, "version": __version__}, status_code=code)

    from safar.domains import pages
    from safar.web.apidocs import mount_api_docs
    from safar.web.router import mount

    mount_api_docs(app)

    # Last: the dashboard owns "/" and every path the API does not.
    mount(app, pages())
    return app
