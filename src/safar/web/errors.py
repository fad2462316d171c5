"""Errors on pages: a readable page (or a redirect to sign-in), never a stack trace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from safar.errors import SafarError, Unauthorized
from safar.web.i18n import N_, Formatter, translations
from safar.web.messages import error_text, pydantic_text
from safar.web.render import render_public, request_language

#: Paths that answer JSON errors; the SDK paths (beacon, RudderStack config, analytics.js) too.
API_PREFIXES = (
    "/api",
    "/v1",
    "/healthz",
    "/static",
    "/docs",
    "/openapi.json",
    "/redoc",
    "/beacon/",
    "/sourceConfig",
    "/analytics-next/",
    "/analytics.js/",
)

TITLES: dict[int, str] = {
    400: N_("That request could not be handled"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this"),
    404: N_("Not found"),
    409: N_("That conflicts with what is already there"),
    413: N_("That request is too large"),
    500: N_("Something went wrong on our side"),
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def safe_next(value: str | None) -> str:
    """Only same-site relative paths, so a crafted link cannot bounce a user elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def page_error(
    request: Request, status_code: int, message: str | None = None, field: str | None = None
) -> Response:
    if status_code == 401:
        target = request.url.path
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        reason = "expired" if request.cookies.get("safar_session") else "signin"
        return RedirectResponse(f"/login?next={quote(target)}&reason={reason}", status_code=303)
    title = TITLES.get(status_code, TITLES[400 if status_code < 500 else 500])
    return render_public(
        request,
        "error.html",
        status_code=status_code,
        status=status_code,
        title=title,
        message=_said(request, message, field) if message and status_code < 500 else None,
        field=field,
    )


def _said(request: Request, message: str, field: str | None) -> str:
    language = request_language(request)
    return error_text(message, translations(language).gettext, field, Formatter(language).numerals)


def page_validation_error(request: Request, error: Mapping[str, Any]) -> Response:
    """A form's refused field (FastAPI's validation), said in the reader's language."""
    language = request_language(request)
    gettext, numerals = translations(language).gettext, Formatter(language).numerals
    return render_public(
        request,
        "error.html",
        status_code=400,
        status=400,
        title=TITLES[400],
        message=pydantic_text(error, gettext, numerals=numerals),
        field=".".join(str(p) for p in error.get("loc", ())[1:]) or None,
    )


def safar_page_error(request: Request, exc: SafarError) -> Response:
    if isinstance(exc, Unauthorized):
        return page_error(request, 401)
    return page_error(request, exc.status_code, exc.message, exc.field)
