"""Settings: workspaces, API keys (create, revoke, copy), users and roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safar.auth import service as auth
from safar.errors import NotFound, SafarError
from safar.events import rejections
from safar.events.channels import CHANNELS
from safar.web.i18n import N_
from safar.web.labels import ROLE_LABELS
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, need, render
from safar.workspaces import service as workspaces
from safar.workspaces.deps import KeysDep

router = APIRouter(include_in_schema=False)
register_nav(
    NavEntry("settings", "/settings", N_("Settings"), "settings", permission="settings", order=90)
)
SettingsPage = Annotated[Page, need("settings")]


def _settings(page: Page, status_code: int = 200, **extra: Any) -> HTMLResponse:
    keys = (
        workspaces.list_keys(page.session, workspace_id=page.workspace_id)
        if page.workspace_id and page.can("manage_keys")
        else []
    )
    users = auth.list_users(page.session) if page.can("manage_users") else []
    rejected = (
        rejections.summary(page.session, workspace_id=page.workspace_id)
        if page.workspace_id and page.can("manage_keys")
        else []
    )
    return render(
        page,
        "settings.html",
        status_code=status_code,
        keys=keys,
        users=users,
        rejected=rejected,
        roles=auth.ROLES,
        role_labels=ROLE_LABELS,
        channels=CHANNELS,
        nav_key="settings",
        **extra,
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(page: SettingsPage) -> HTMLResponse:
    return _settings(page)


@router.post("/settings/workspaces", response_class=HTMLResponse)
def create_workspace(
    page: Annotated[Page, need("manage_workspaces")], name: Annotated[str, Form(max_length=200)]
) -> HTMLResponse:
    try:
        ws, write, secret = workspaces.create_workspace(page.session, name=name)
    except SafarError as exc:
        return _settings(page, status_code=exc.status_code, error=exc.message)
    page.caller.web.workspace_id = ws.id
    page.workspaces = workspaces.list_workspaces(page.session)
    page.workspace = ws
    return _settings(page, new_keys=[("write", write), ("secret", secret)])


@router.post("/settings/keys", response_class=HTMLResponse)
def create_key(
    page: Annotated[Page, need("manage_keys")],
    kind: Annotated[str, Form(max_length=10)],
    name: Annotated[str, Form(max_length=200)] = "",
    default_channel: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    if page.workspace_id is None:
        raise NotFound("workspace: create a workspace first", field="workspace_id")
    if default_channel and default_channel not in CHANNELS:
        return _settings(page, status_code=400, error="default_channel: unknown channel")
    try:
        _, raw = workspaces.issue_key(
            page.session,
            workspace_id=page.workspace_id,
            kind=kind,
            name=name.strip(),
            default_channel=default_channel or None,
        )
    except SafarError as exc:
        return _settings(page, status_code=exc.status_code, error=exc.message)
    return _settings(page, new_keys=[(kind, raw)])


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(
    key_id: str, page: Annotated[Page, need("manage_keys")], runtime: KeysDep
) -> Response:
    if page.workspace_id is None:
        raise NotFound("workspace: create a workspace first", field="workspace_id")
    revoked = workspaces.revoke_key(
        page.session, workspace_id=page.workspace_id, key_id=key_id[:40]
    )
    runtime.keys.revoke(revoked.key_hash)
    return RedirectResponse("/settings#keys", status_code=303)


@router.post("/settings/users", response_class=HTMLResponse)
def create_user(
    page: Annotated[Page, need("manage_users")],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    try:
        auth.create_user(page.session, email=email, password=password, role=role, name=name)
    except SafarError as exc:
        return _settings(page, status_code=exc.status_code, error=exc.message)
    return _settings(page, notice=N_("User created."))


@router.post("/settings/users/{user_id}/role")
def change_role(
    user_id: str,
    page: Annotated[Page, need("manage_users")],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    auth.set_role(page.session, user_id=user_id[:40], role=role, actor_id=page.caller.user.id)
    return RedirectResponse("/settings#users", status_code=303)


@router.post("/settings/users/{user_id}/disable")
def disable_user(
    user_id: str,
    page: Annotated[Page, need("manage_users")],
    disabled: Annotated[str, Form(max_length=5)] = "1",
) -> Response:
    auth.set_disabled(
        page.session, user_id=user_id[:40], disabled=disabled == "1", actor_id=page.caller.user.id
    )
    return RedirectResponse("/settings#users", status_code=303)
