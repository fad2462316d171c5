"""Sign-in and user administration as JSON (the same sessions and roles as the pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from safar.auth import service
from safar.auth.deps import (
    Caller,
    CallerDep,
    clear_session_cookie,
    require,
    set_session_cookie,
)
from safar.auth.models import User
from safar.auth.schemas import Me, UserCreate, UserRead
from safar.workspaces.deps import SessionDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        created_at=user.created_at,
        disabled=user.disabled_at is not None,
    )


def _me(user: User, workspace_id: str | None) -> Me:
    return Me(
        user=user_read(user),
        workspace_id=workspace_id,
        permissions=service.permissions_of(user.role),
    )


@router.post("/login", response_model=Me)
def login(data: Login, request: Request, response: Response, session: SessionDep) -> Me:
    user = service.authenticate(session, email=data.email, password=data.password)
    web, token = service.start_session(session, user=user)
    set_session_cookie(response, request, token)
    response.headers["X-CSRF-Token"] = web.csrf_token
    return _me(user, web.workspace_id)


@router.post("/logout", status_code=204)
def logout(caller: CallerDep, session: SessionDep) -> Response:
    service.end_session(session, caller.token)
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.get("/me", response_model=Me)
def me(caller: CallerDep, response: Response) -> Me:
    response.headers["X-CSRF-Token"] = caller.web.csrf_token
    return _me(caller.user, caller.web.workspace_id)


@router.get("/users", response_model=list[UserRead])
def users(_: Annotated[Caller, require("manage_users")], session: SessionDep) -> list[UserRead]:
    return [user_read(u) for u in service.list_users(session)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    data: UserCreate, _: Annotated[Caller, require("manage_users")], session: SessionDep
) -> UserRead:
    user = service.create_user(
        session, email=data.email, password=data.password, role=data.role, name=data.name
    )
    return user_read(user)
