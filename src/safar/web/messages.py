"""Server messages in the reader's language: domain errors and pydantic validation errors.

The domains raise ``SafarError`` with an English message that starts with the field
(``steps: no events named 'X' in the chosen period``) and know nothing of the dashboard's
catalogue. Where a page shows one, this module says it again in the reader's language: the
field by its translated label, the sentence by a pattern of the known messages, and whatever
the reader typed (an event name, a line) isolated in ``<bdi>``. Pydantic errors are said from
their ``type`` and context, so no English of pydantic's reaches a Persian page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

from safar.web.i18n import N_
from safar.web.labels import ROLE_LABELS

Translate = Callable[[str], str]
Numerals = Callable[[str], str]
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def _same(text: str) -> str:
    return text


def _value(text: Any, numerals: Numerals) -> Markup:
    """A value inside a message, isolated; a number in the reader's digits."""
    text = str(text)
    return Markup("<bdi>%s</bdi>") % (numerals(text) if _NUMBER.match(text) else text)


#: Form fields by the name the domains use, as the pages label them.
FIELDS: dict[str, str] = {
    "steps": N_("Steps"),
    "stages": N_("Stages"),
    "window": N_("Conversion window"),
    "mode": N_("Order"),
    "breakdown": N_("Break down by"),
    "bkey": N_("Property or trait"),
    "personas": N_("Personas"),
    "anchor": N_("After the event"),
    "target_event": N_("Score event"),
    "target_property": N_("Score property"),
    "unit": N_("Unit of the score"),
    "since": N_("Period"),  # the domains check a range by its start
    "until": N_("Until"),
    "from": N_("From"),
    "to": N_("Until"),
    "period": N_("Period"),
    "trait": N_("Trait"),
    "op": N_("Operator"),
    "value": N_("Value"),
    "segment": N_("Segment"),
    "name": N_("Name"),
    "email": N_("Email"),
    "password": N_("Password"),
    "role": N_("Role"),
    "definition": N_("Definition"),
    "touchpoint": N_("Touchpoint"),
    "status": N_("Status"),
    "file": N_("File"),
    "channel": N_("Channel"),
    "delay_minutes": N_("Delay (minutes)"),
    "fatigue_days": N_("No survey within (days)"),
    "sample_percent": N_("Sample (%)"),
    "quiet_start": N_("Quiet from (hour)"),
    "quiet_end": N_("Quiet until (hour)"),
    "event": N_("Event"),
    "factor": N_("Factor"),
    "csrf_token": N_("Form"),
    "user_id": N_("User"),
    "workspace": N_("Workspace"),
    "calendar": N_("Calendar"),
    "locale": N_("Language"),
    "kind": N_("Kind"),
    "sentiment": N_("Sentiment"),
    "emotion": N_("Emotion"),
    "category": N_("Category"),
    "message_id": N_("Text"),
}

_NAME = r"'(?P<name>[^']*)'"
#: The domain messages a page may show (after the field), and how each is said.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{pattern}$"), template)
    for pattern, template in (
        (r"no events named (?P<names>.+) in the chosen period",
         N_("no events named %(names)s in the chosen period")),
        (r"line (?P<n>\d+) should read '(?P<form>.*)'", N_("line %(n)s should read %(form)s")),
        (r"line (?P<n>\d+) is not a persona rule", N_("line %(n)s is not a persona rule")),
        (r"a funnel needs at least two steps", N_("a funnel needs at least two steps")),
        (r"at most (?P<n>\d+) steps", N_("at most %(n)s steps")),
        (r"an any-order funnel counts distinct steps; name each step once",
         N_("an any-order funnel counts each step once; name each step once")),
        (r"there are no events in the chosen period", N_("there are no events in the chosen period")),
        (r"no customers with events in the chosen period",
         N_("no customers with events in the chosen period")),
        (r"there are no events of identified customers in the chosen period",
         N_("there are no events of identified customers in the chosen period")),
        (r"the conversion window must be positive", N_("the conversion window must be positive")),
        (f"{_NAME} is not 'strict' or 'any'", N_("%(name)s is not one of the offered orders")),
        (f"{_NAME} is not offered", N_("%(name)s is not offered")),
        (f"{_NAME} is not one of channel, persona, property:KEY, trait:KEY",
         N_("%(name)s is not one of the offered breakdowns")),
        (r"(?P<name>\w+) needs a key of letters, digits, _ or -, e.g. \w+:city",
         N_("%(name)s needs a key of letters, digits, _ or -")),
        (r"(?P<name>\w+) takes no key", N_("%(name)s takes no key")),
        (r"a persona breakdown needs persona rules", N_("a persona breakdown needs persona rules")),
        (r"give at least one persona rule", N_("give at least one persona rule")),
        (r"name an event", N_("name an event")),
        (f"no events named {_NAME}", N_("no events named %(name)s")),
        (r"name the event carrying the score", N_("name the event that carries the score")),
        (r"name the score property", N_("name the score property")),
        (f"no {_NAME} events carry a numeric '(?P<prop>[^']*)'",
         N_("no %(name)s events carry a number in %(prop)s")),
        (r"no candidate factors to analyse", N_("there is nothing to compare the score with")),
        (r"none of the factors could be analysed", N_("none of the factors could be analysed")),
        (r"must be before until \(empty window\)", N_("must be before the end of the period")),
        (r"not a date; use yyyy-mm-dd \(Jalali: yyyy/mm/dd\)",
         N_("not a date; use yyyy-mm-dd (Jalali: yyyy/mm/dd)")),
        (f"unknown operator {_NAME}", N_("unknown operator %(name)s")),
        (r"use active or archived", N_("choose active or archived")),
        (r"the sign-in form expired; reload the page and try again",
         N_("the sign-in form expired; reload the page and try again")),
        (r"your role \((?P<role>\w+)\) cannot open this page",
         N_("your role (%(role)s) cannot open this page")),
        (r"your role \((?P<role>\w+)\) does not allow this \((?P<permission>\w+)\)",
         N_("your role (%(role)s) does not allow this")),
        (r"you cannot remove your own admin role", N_("you cannot remove your own admin role")),
        (r"you cannot disable yourself", N_("you cannot disable yourself")),
        (r"a user with (?P<name>\S+) already exists", N_("a user with %(name)s already exists")),
        (r"not a valid email address", N_("not a valid email address")),
        (r"at least (?P<n>\d+) characters", N_("needs at least %(n)s characters")),
        (r"must be one of (?P<names>.+)", N_("must be one of %(names)s")),
        (r"workspace name must not be empty", N_("the workspace needs a name")),
        (r"choose a file to import", N_("choose a file to import")),
        (r"choose a trait to filter on first", N_("choose a trait to filter on first")),
        (r"sign in first", N_("sign in first")),
        (f"{_NAME} is not one of (?P<names>.+)", N_("%(name)s is not one of %(names)s")),
        (r"not one of (?P<names>.+)", N_("must be one of %(names)s")),
        (r"no analysed text has this message id", N_("no analysed text has this message id")),
        (r"not a label that can be corrected", N_("not a label that can be corrected")),
        (r"must not contain control characters",
         N_("must not contain control characters (tabs, line breaks)")),
        (r"not valid JSON \(line (?P<line>\d+), column (?P<column>\d+)\)",
         N_("not valid JSON (line %(line)s, column %(column)s)")),
        # Pydantic's own sentences, where a page already turned its error into text.
        (r"Field required", N_("required")),
        (r"String should have at least (?P<min_length>\d+) characters?",
         N_("needs at least %(min_length)s characters")),
        (r"String should have at most (?P<max_length>\d+) characters?",
         N_("can be at most %(max_length)s characters")),
        (r"Input should be a valid integer.*", N_("enter a whole number")),
        (r"Input should be a valid number.*", N_("enter a number")),
        (r"Input should be greater than or equal to (?P<ge>\S+)", N_("must be at least %(ge)s")),
        (r"Input should be less than or equal to (?P<le>\S+)", N_("must be at most %(le)s")),
        (r"Input should be greater than (?P<gt>\S+)", N_("must be more than %(gt)s")),
        (r"Input should be less than (?P<lt>\S+)", N_("must be less than %(lt)s")),
        (r"String should match pattern .*", N_("has characters that are not allowed here")),
        (r"Input should be (?P<expected>'.+)", N_("must be one of %(expected)s")),
        (r"Extra inputs are not permitted", N_("is not a known field")),
    )
)  # fmt: skip

#: Pydantic's error types as sentences (its context fills the placeholders).
PYDANTIC: dict[str, str] = {
    "missing": N_("required"),
    "string_too_short": N_("needs at least %(min_length)s characters"),
    "string_too_long": N_("can be at most %(max_length)s characters"),
    "too_short": N_("needs at least %(min_length)s items"),
    "too_long": N_("can have at most %(max_length)s items"),
    "int_parsing": N_("enter a whole number"),
    "int_type": N_("enter a whole number"),
    "int_from_float": N_("enter a whole number"),
    "float_parsing": N_("enter a number"),
    "float_type": N_("enter a number"),
    "greater_than": N_("must be more than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "string_pattern_mismatch": N_("has characters that are not allowed here"),
    "literal_error": N_("must be one of %(expected)s"),
    "enum": N_("must be one of %(expected)s"),
    "bool_parsing": N_("must be yes or no"),
    "date_from_datetime_parsing": N_("not a date"),
    "date_parsing": N_("not a date"),
    "datetime_parsing": N_("not a date and time"),
    "json_invalid": N_("not valid JSON"),
    "extra_forbidden": N_("is not a known field"),
    "value_error": N_("is not valid"),
}
_FIELD_PREFIX = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]-]*): (?P<rest>.+)$", re.S)


def field_label(field: str, gettext: Translate) -> Markup:
    """A field by its label; a path (``definition.questions.0.text``) by its first part's label
    and the rest as it is, isolated."""
    head, _, rest = field.partition(".")
    if head in FIELDS:
        label = escape(gettext(FIELDS[head]))
        return label + Markup(" (<bdi>%s</bdi>)") % rest if rest else label
    return Markup("<bdi>%s</bdi>") % field


def sentence(text: str, gettext: Translate, numerals: Numerals = _same) -> Markup:
    """One domain message without its field, translated when it is a known one."""
    for pattern, template in PATTERNS:
        match = pattern.match(text)
        if match:
            values = {k: _value(v, numerals) for k, v in match.groupdict().items()}
            if match.groupdict().get("role") in ROLE_LABELS:  # a role by its name, not its code
                values["role"] = escape(gettext(ROLE_LABELS[match["role"]]))
            return _fill(gettext(template), values)
    return escape(text)


def _fill(template: str, values: Mapping[str, Markup]) -> Markup:
    """``template % values``, escaping the template; a translation that names a placeholder
    the message lacks falls back to the English template rather than failing the page."""
    try:
        return Markup(escape(template)) % values
    except (KeyError, ValueError, TypeError):
        return escape(template)


def error_text(
    message: str, gettext: Translate, field: str | None = None, numerals: Numerals = _same
) -> Markup:
    """A domain error as a page shows it: the field's label, a colon, the sentence."""
    match = _FIELD_PREFIX.match(message)
    if match and (field is None or match["field"] == field or match["field"] in FIELDS):
        label, rest = field_label(match["field"], gettext), match["rest"]
    elif field:
        label, rest = field_label(field, gettext), message
    else:
        return sentence(message, gettext, numerals)
    rest = _without_subject(rest.removeprefix("Value error, "), match["field"] if match else "")
    return Markup(escape(gettext(N_("%(field)s: %(message)s")))) % {
        "field": label,
        "message": sentence(rest, gettext, numerals),
    }


def reason_text(
    message: str, gettext: Translate, field: str | None = None, numerals: Numerals = _same
) -> Markup:
    """A domain error's sentence alone, for a table whose own column names the field."""
    match = _FIELD_PREFIX.match(message)
    if match and (field is None or match["field"].endswith(field)):
        message = _without_subject(match["rest"], match["field"])
    return sentence(message.removeprefix("Value error, "), gettext, numerals)


def _without_subject(rest: str, path: str) -> str:
    """``event must not ...`` after ``batch[2].event:``: the field is named once, by its label."""
    leaf = re.split(r"[.\]\[]", path.rstrip("]"))[-1]
    return rest.removeprefix(f"{leaf} ") if leaf else rest


def pydantic_text(
    error: Mapping[str, Any], gettext: Translate, prefix: str = "", numerals: Numerals = _same
) -> Markup:
    """One pydantic error (an item of ``ValidationError.errors()``) in the reader's language."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
    field = ".".join(([prefix] if prefix else []) + loc) or prefix or "value"
    kind = str(error.get("type", ""))
    if kind == "value_error" and error.get("msg"):
        message = sentence(str(error["msg"]).removeprefix("Value error, "), gettext, numerals)
    elif kind in PYDANTIC:
        context = {k: _value(v, numerals) for k, v in (error.get("ctx") or {}).items()}
        message = _fill(gettext(PYDANTIC[kind]), context)
    else:
        message = escape(gettext(N_("is not valid")))
    return Markup(escape(gettext(N_("%(field)s: %(message)s")))) % {
        "field": field_label(field, gettext),
        "message": message,
    }
