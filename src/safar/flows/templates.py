"""Message templates of journeys: Jinja2's sandbox, the profile's language, Persian digits.

Templates are written by workspace users, so they run in ``SandboxedEnvironment`` (no
attribute tricks, no imports, no file access) with a size cap on the output. What a template
sees: ``traits`` (``first_name`` and friends also at the top level), ``event`` (the triggering
event's properties), ``profile_id``, ``now``, ``recommendations`` (a list the prediction issue
fills; empty until then) and filters for dates and digits:

    {{ first_name | default("مشتری عزیز") }}      a fallback for a missing trait
    {{ now | jalali }} / {{ now | gregorian }}     a date in either calendar
    {{ event.total | fa_digits }}                  ۱۲۳ instead of 123

A missing trait renders as empty text (or its ``default``), never as an error at send time;
``check`` compiles each template and renders it once with no traits, so a syntax error or a
sandbox violation is refused when the journey is saved, not when the message goes out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import jdatetime
from jinja2 import ChainableUndefined, Template, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from safar.errors import ValidationFailed
from safar.kit.calendar import zone

MAX_OUTPUT = 8000
_FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_CHECK_TIME = datetime(2026, 3, 21, 12, 0)
ALIASES = {"first_name": "firstName", "last_name": "lastName"}
TOP_LEVEL_TRAITS = ("first_name", "last_name", "name", "email", "phone", "city", "language")


def fa_digits(value: Any) -> str:
    return str(value).translate(_FA)


def _as_date(value: Any, tz: str) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(zone(tz)).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _env(tz: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)

    def jalali(value: Any, fmt: str = "%d %B %Y") -> str:
        day = _as_date(value, tz)
        if day is None:
            return ""
        text: str = jdatetime.date.fromgregorian(date=day).strftime(fmt)
        return text

    def gregorian(value: Any, fmt: str = "%d %B %Y") -> str:
        day = _as_date(value, tz)
        return "" if day is None else day.strftime(fmt)

    env.filters.update(jalali=jalali, gregorian=gregorian, fa_digits=fa_digits)
    return env


_ENVS: dict[str, SandboxedEnvironment] = {}


def env_for(tz: str) -> SandboxedEnvironment:
    if tz not in _ENVS:
        _ENVS[tz] = _env(tz)
    return _ENVS[tz]


def context(
    *,
    traits: Mapping[str, Any],
    properties: Mapping[str, Any],
    profile_id: str,
    now: datetime,
    recommendations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    # Segment's reserved traits are camelCase (firstName); templates say first_name either way.
    named = dict(traits)
    for snake, camel in ALIASES.items():
        if named.get(snake) is None and named.get(camel) is not None:
            named[snake] = named[camel]
    ctx: dict[str, Any] = {k: named.get(k) for k in TOP_LEVEL_TRAITS if named.get(k) is not None}
    ctx.update(
        traits=named,
        event=dict(properties),
        profile_id=profile_id,
        now=now,
        recommendations=list(recommendations or []),
    )
    return ctx


@functools.lru_cache(maxsize=2048)
def _compiled(source: str, tz: str) -> Template:
    """Compiling is most of a render's cost and a journey sends the same few templates."""
    return env_for(tz).from_string(source)


def render(source: str, ctx: Mapping[str, Any], *, tz: str = "Asia/Tehran") -> str:
    """Render a user template; raises ``TemplateError`` (incl. sandbox violations)."""
    text = _compiled(source, tz).render(ctx)
    return text[:MAX_OUTPUT].strip()


def check(source: str, field: str, *, tz: str = "Asia/Tehran") -> None:
    """Refuse a template that does not compile or breaks the sandbox, naming ``field``."""
    try:
        template = env_for(tz).from_string(source)
        template.render(context(traits={}, properties={}, profile_id="p", now=_CHECK_TIME))
    except UndefinedError:
        return  # arithmetic on data this profile-less rendering lacks: fine at send time
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ValidationFailed(f"{field}: {exc.message or exc}{where}", field=field) from None
