"""Page rendering: the Jinja2 environment, the per-request page context, error pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from safar.auth.deps import LANG_COOKIE, Caller, CallerDep
from safar.errors import Forbidden
from safar.web import nav
from safar.web.i18n import LANGUAGES, Formatter, pick_language, translations
from safar.web.labels import (
    CHANNEL_LABELS,
    IDENTITY_TYPES,
    MERGE_CAUSES,
    OP_LABELS,
    TRAIT_LABELS,
    TYPE_LABELS,
    role_label,
)
from safar.web.messages import error_text, reason_text
from safar.workspaces.deps import SessionDep
from safar.workspaces.models import Workspace
from safar.workspaces.service import list_workspaces

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _tojson(value: Any) -> Markup:
    # Safe inside <script type="application/json">: orjson never emits a raw "</".
    return Markup(orjson.dumps(value).decode().replace("</", "<\\/"))


def _prop_value(value: Any) -> str:
    """An event property as a reader should see it: text as is, anything else as compact JSON.

    Nested survey answers, true/false and null then read like the event that was sent, not like
    Python's repr (``{'nps': 9}``, ``True``, ``None``).
    """
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


env.filters["tojson"] = _tojson
env.filters["prop_value"] = _prop_value


@dataclass
class Page:
    """Everything a template needs about the reader: who, which workspace, which language."""

    request: Request
    caller: Caller
    language: str
    fmt: Formatter
    workspaces: list[Workspace]
    workspace: Workspace | None
    session: Session = field(repr=False)

    @property
    def workspace_id(self) -> str | None:
        return self.workspace.id if self.workspace else None

    def can(self, permission: str) -> bool:
        return self.caller.can(permission)

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)


def formatter_for(language: str, calendar: str | None, timezone: str) -> Formatter:
    default_cal = LANGUAGES[language]["default_calendar"]
    return Formatter(language=language, calendar=calendar or default_cal, timezone=timezone)


def page_context(request: Request, caller: CallerDep, session: SessionDep) -> Page:
    user = caller.user
    language = pick_language(user.locale)
    workspaces = list_workspaces(session)
    current = next((w for w in workspaces if w.id == caller.web.workspace_id), None)
    if current is None and workspaces:
        current = workspaces[0]
        caller.web.workspace_id = current.id
    return Page(
        request=request,
        caller=caller,
        language=language,
        fmt=formatter_for(language, user.calendar, user.timezone),
        workspaces=workspaces,
        workspace=current,
        session=session,
    )


PageDep = Annotated[Page, Depends(page_context)]


def need(permission: str) -> Any:
    """A page dependency admitting only roles that grant ``permission``."""

    def check(page: PageDep) -> Page:
        if not page.can(permission):
            raise Forbidden(f"your role ({page.caller.role}) cannot open this page", field="role")
        return page

    return Depends(check)


def _globals(language: str) -> dict[str, Any]:
    tr = translations(language)
    numerals = Formatter(language=language).numerals
    return {
        "_": tr.gettext,
        "gettext": tr.gettext,
        "ngettext": tr.ngettext,
        "lang": language,
        "dir": LANGUAGES[language]["dir"],
        "languages": LANGUAGES,
        "role_label": role_label,
        "channel_labels": CHANNEL_LABELS,
        "type_labels": TYPE_LABELS,
        "op_labels": OP_LABELS,
        "trait_labels": TRAIT_LABELS,
        "merge_causes": MERGE_CAUSES,
        "identity_types": IDENTITY_TYPES,
        # A server message (a domain error) in the reader's language: ``{{ error_text(e) }}``.
        "error_text": lambda message, field=None: (
            message
            if isinstance(message, Markup)
            else error_text(str(message), tr.gettext, field, numerals)
        ),
        # The same without the field, for a table whose column names it.
        "reason_text": lambda message, field=None: reason_text(
            str(message), tr.gettext, field, numerals
        ),
    }


def render(page: Page, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    menu = [e for e in nav.entries() if page.can(e.permission)]
    request = page.request
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A page rendered by a POST (e.g. a key shown once) comes back as its section's page.
        here = next((e.path for e in menu if e.key == values.get("nav_key")), "/")
    keep = nav.kept_query(request.query_params.multi_items())
    html = env.get_template(template).render(
        **_globals(page.language),
        page=page,
        fmt=page.fmt,
        user=page.caller.user,
        csrf=page.caller.web.csrf_token,
        nav=menu,
        path=page.request.url.path,
        here=here,
        keep=keep,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


def render_public(
    request: Request, template: str, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """Render a page for someone who may not be signed in (sign-in, error pages)."""
    language = request_language(request)
    html = env.get_template(template).render(
        **_globals(language),
        fmt=formatter_for(language, None, "Asia/Tehran"),
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


def request_language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        accept=request.headers.get("accept-language"),
    )
