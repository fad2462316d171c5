"""Who is signed in, what they may do, and CSRF: one set of dependencies for pages and API.

Every state-changing request made with a session cookie must carry the session's CSRF token
(form field ``csrf_token`` or header ``X-CSRF-Token``); the check lives in ``current_caller``
so no endpoint can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from safar.auth import service
from safar.auth.models import User, WebSession
from safar.errors import Forbidden
from safar.workspaces.deps import SessionDep

SESSION_COOKIE = "safar_session"
LANG_COOKIE = "safar_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    """The form or request did not carry this session's CSRF token."""


@dataclass
class Caller:
    user: User
    web: WebSession
    token: str

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, permission: str) -> bool:
        return service.allowed(self.user.role, permission)


async def presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form: FormData = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_caller(request: Request, session: SessionDep) -> Caller:
    token = request.cookies.get(SESSION_COOKIE, "")
    web, user = service.resolve_session(session, token)
    if request.method not in SAFE_METHODS and not service.csrf_matches(
        web.csrf_token, await presented_csrf(request)
    ):
        raise CsrfFailed(
            "csrf_token: missing or wrong; reload the page and try again", field="csrf_token"
        )
    return Caller(user=user, web=web, token=token)


CallerDep = Annotated[Caller, Depends(current_caller)]


def require(permission: str) -> Any:
    """A dependency that admits callers whose role grants ``permission`` (403 otherwise)."""
    if permission not in service.PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    async def check(caller: CallerDep) -> Caller:
        if not caller.can(permission):
            raise Forbidden(
                f"your role ({caller.role}) does not allow this ({permission})", field="role"
            )
        return caller

    return Depends(check)


def cookie_secure(request: Request) -> bool:
    """Secure cookies whenever the browser reached us over HTTPS (directly or via a proxy)."""
    return request.url.scheme == "https"


def set_session_cookie(response: Any, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.SESSION_MAX.total_seconds()),
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Any) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
