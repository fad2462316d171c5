"""Message templates of journeys: Jinja2's sandbox, the profile's language, Persian digits.

Templates are written by workspace users, so they run in ``SandboxedEnvironment`` (no
attribute tricks, no imports, no file access) with a size cap on the output. What a template
sees: ``traits`` (``first_name`` and friends also at the top level), ``event`` (the triggering
event's properties), ``profile_id``, ``now``, ``recommendations`` (a list the prediction issue
fills; empty until then) and filters for dates and digits:

    {{ first_name | default("مشتری عزیز") }}      a fallback for a missing trait
    {{ now | jalali }} / {{ now | gregorian }}     a date in either calendar
    {{ event.total | fa_digits }}                  ۱۲۳ instead of 123
    {"name": {{ first_name | tojson }}}            a JSON value (a webhook's body): quoted, escaped


A missing trait renders as empty text (or its ``default``), never as an error at send time;
``check`` compiles each template and renders it once with no traits, so a syntax error or a
sandbox violation is refused when the journey is saved, not when the message goes out;
``check_json`` renders a webhook's JSON body for a sample profile and refuses it when the
result is not a JSON object (``{"total": {{ event.total }}}`` is not, for an event without a
total); ``traits_named`` lists the traits a template reads, for the workspace's trait check.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import jdatetime
from jinja2 import ChainableUndefined, Template, TemplateError, Undefined, UndefinedError, nodes
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

    env.filters.update(jalali=jalali, gregorian=gregorian, fa_digits=fa_digits, tojson=to_json)
    return env


def to_json(value: Any) -> str:
    """A value as JSON text (a missing one as ``null``; Persian as is, not ``\\u`` escapes)."""
    if isinstance(value, Undefined):
        return "null"
    return json.dumps(value, ensure_ascii=False, default=str)


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


#: The profile a webhook's JSON body is rendered for when the journey is checked.
SAMPLE_TRAITS = {
    "first_name": "Sara",
    "last_name": "Ahmadi",
    "name": "Sara Ahmadi",
    "email": "sara@example.com",
    "phone": "+989121234567",
    "city": "Tehran",
    "language": "fa",
}


def render_json(source: str, ctx: Mapping[str, Any], *, tz: str = "Asia/Tehran") -> Any:
    """Render a JSON template and parse it; raises ``ValueError`` when the text is not a JSON
    object (and ``TemplateError`` as ``render`` does). Not capped: the body is data, not text."""
    text = env_for(tz).from_string(source).render(ctx)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object ({...})")
    return data


def check_json(source: str, field: str, *, tz: str = "Asia/Tehran") -> None:
    """Refuse a JSON body template whose rendering for a sample profile is not a JSON object."""
    ctx = context(traits=SAMPLE_TRAITS, properties={}, profile_id="prf_sample", now=_CHECK_TIME)
    try:
        render_json(source, ctx, tz=tz)
    except UndefinedError:
        return
    except TemplateError as exc:
        raise ValidationFailed(f"{field}: {exc.message or exc}", field=field) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{field}: not JSON once rendered for a sample profile: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})",
            field=field,
        ) from None
    except ValueError as exc:
        raise ValidationFailed(f"{field}: {exc}", field=field) from None


def _text_const(node: nodes.Node | None) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def traits_named(source: str, *, tz: str = "Asia/Tehran") -> Iterator[str]:
    """The trait keys a template reads as ``traits.key``, ``traits["key"]`` or
    ``traits.get("key")`` (a template that does not parse names none: ``check`` refuses it)."""
    try:
        tree = env_for(tz).parse(source)
    except TemplateError:
        return

    def is_traits(node: nodes.Node) -> bool:
        return isinstance(node, nodes.Name) and node.name == "traits"

    methods: set[int] = set()
    for call in tree.find_all(nodes.Call):
        target = call.node
        if isinstance(target, nodes.Getattr) and is_traits(target.node):
            methods.add(id(target))
            first = call.args[0] if call.args else None
            if target.attr == "get" and _text_const(first):
                yield first.value  # type: ignore[union-attr]
    for attr in tree.find_all(nodes.Getattr):
        if is_traits(attr.node) and id(attr) not in methods:
            yield attr.attr
    for item in tree.find_all(nodes.Getitem):
        if is_traits(item.node) and _text_const(item.arg):
            yield item.arg.value  # type: ignore[attr-defined]


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
