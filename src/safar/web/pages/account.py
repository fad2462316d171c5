"""Sign-in, sign-out, and the reader's preferences: language, calendar, current workspace."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safar.auth import service
from safar.auth.deps import (
    LANG_COOKIE,
    CallerDep,
    clear_session_cookie,
    cookie_secure,
    set_session_cookie,
)
from safar.errors import SafarError, ValidationFailed
from safar.web.errors import page_error, safe_next
from safar.web.i18n import LANGUAGES, N_
from safar.web.render import render_public, request_language
from safar.workspaces.deps import SessionDep

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "safar_login_csrf"
REASONS = {
    "expired": N_("Your session has expired. Please sign in again."),
    "signin": N_("Please sign in to continue."),
    "signedout": N_("You have signed out."),
}


def _login_page(
    request: Request, *, error: str | None = None, status_code: int = 200, email: str = ""
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    reason = REASONS.get(request.query_params.get("reason", ""))
    response = render_public(
        request,
        "login.html",
        status_code=status_code,
        login_csrf=token,
        next=safe_next(request.query_params.get("next")),
        error=error,
        notice=reason,
        email=email,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/login",
    )
    lang = request.query_params.get("lang")
    if lang in LANGUAGES:
        _remember_language(response, request, lang)
    return response


def _remember_language(response: Response, request: Request, language: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 86400,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not service.csrf_matches(expected, csrf_token):
        return page_error(
            request, 403, "csrf_token: the sign-in form expired; reload the page and try again"
        )
    try:
        user = service.authenticate(session, email=email, password=password)
    except SafarError:
        return _login_page(
            request, error=N_("Wrong email or password."), status_code=401, email=email[:320]
        )
    _, token = service.start_session(session, user=user)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, token)
    _remember_language(response, request, user.locale)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(caller: CallerDep, session: SessionDep) -> Response:
    service.end_session(session, caller.token)
    response = RedirectResponse("/login?reason=signedout", status_code=303)
    clear_session_cookie(response)
    return response


def _back(request: Request, next_path: str = "") -> str:
    if next_path:
        return safe_next(next_path)
    ref = request.headers.get("referer", "")
    host = f"{request.url.scheme}://{request.url.netloc}"
    return safe_next(ref[len(host) :] if ref.startswith(host) else None)


@router.post("/prefs/language")
def set_language(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    language: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    service.set_preferences(session, user_id=caller.user.id, locale=language)
    response = RedirectResponse(_back(request, next), status_code=303)
    _remember_language(response, request, language)
    return response


@router.post("/prefs/calendar")
def set_calendar(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    calendar: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    service.set_preferences(session, user_id=caller.user.id, calendar=calendar)
    return RedirectResponse(_back(request, next), status_code=303)


@router.post("/workspace")
def switch_workspace(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    workspace_id: Annotated[str, Form(max_length=40)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not workspace_id:
        raise ValidationFailed("workspace_id: choose a workspace", field="workspace_id")
    service.set_session_workspace(session, web=caller.web, workspace_id=workspace_id)
    back = _back(request, next)
    # A profile belongs to one workspace: after switching, go to the section's start page.
    if back.startswith("/customers/"):
        back = "/customers"
    return RedirectResponse(back, status_code=303)


__all__ = ["request_language", "router"]
