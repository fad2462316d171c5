"""Checks a journey must pass before it is published, against its workspace.

``definition.check`` refuses graphs that cannot run; this refuses what would run wrongly here:
a template that does not compile or breaks the sandbox, a webhook body that is not JSON once
rendered, a survey or segment that does not exist, an event the workspace has never seen or a
trait no profile has (a typo in a name silently matches nothing, so a journey waiting for it
would never move and a branch on it would always take ``otherwise``). Each refusal names the
node and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from safar.errors import ValidationFailed
from safar.flows import templates
from safar.flows.definition import FlowDefinition, Webhook

#: Events Safar itself writes, known before any has been stored.
BUILTIN_EVENTS = frozenset(
    {
        "segment_entered",
        "segment_exited",
        "survey_answered",
        "Survey Answered",
        "Case Requested",
    }
)

#: Traits a journey may name before any profile has them: Segment's reserved traits, the ones
#: Safar itself reads (language, time zone, calendar, addresses of the channels) and the
#: loyalty ``tier`` the shipped journeys branch on (installed before any customer data).
WELL_KNOWN_TRAITS = frozenset(
    {
        "address",
        "age",
        "anniversary",
        "avatar",
        "birthday",
        "calendar",
        "city",
        "company",
        "country",
        "createdAt",
        "created_at",
        "description",
        "email",
        "firstName",
        "first_name",
        "gender",
        "id",
        "language",
        "lastName",
        "last_name",
        "locale",
        "name",
        "phone",
        "push_token",
        "tags",
        "telegram_chat_id",
        "timezone",
        "tier",
        "title",
        "username",
        "website",
    }
)


def template_fields(flow: FlowDefinition) -> Iterator[tuple[str, str]]:
    """(field, template source) of every text the journey renders."""
    for node in flow.nodes:
        if node.type == "send":
            for lang, text in node.texts.items():
                if text.subject:
                    yield f"nodes.{node.id}.texts.{lang}.subject", text.subject
                yield f"nodes.{node.id}.texts.{lang}.body", text.body
        elif node.type == "webhook":
            yield from webhook_fields(node)
        elif node.type == "set_trait" and isinstance(node.value, str):
            yield f"nodes.{node.id}.value", node.value
        elif node.type == "case":
            yield f"nodes.{node.id}.subject", node.subject


def webhook_fields(node: Webhook) -> Iterator[tuple[str, str]]:
    """(field, template) of a webhook's body and header values."""
    if isinstance(node.body, str):
        yield f"nodes.{node.id}.body", node.body
    else:
        for key, value in node.body.items():
            if isinstance(value, str):
                yield f"nodes.{node.id}.body.{key}", value
    for name, value in node.headers.items():
        yield f"nodes.{node.id}.headers.{name}", value


def trait_fields(flow: FlowDefinition, *, tz: str) -> Iterator[tuple[str, str]]:
    """(field, trait key) of every trait the journey reads: branch conditions, date triggers
    and delays, and ``traits.<key>`` in its templates (the top-level key of a dotted one)."""
    if flow.trigger.type == "date":
        yield "trigger.trait", flow.trigger.trait
    for node in flow.nodes:
        if node.type == "delay" and node.mode == "trait_date" and node.trait:
            yield f"nodes.{node.id}.trait", node.trait
        if node.type == "branch":
            for i, rule in enumerate(node.rules):
                for j, cond in enumerate(rule.conditions):
                    if cond.kind == "trait":
                        yield f"nodes.{node.id}.rules.{i}.conditions.{j}.key", cond.key
    for field, source in template_fields(flow):
        for key in templates.traits_named(source, tz=tz):
            yield field, key


def event_fields(flow: FlowDefinition) -> Iterator[tuple[str, str]]:
    """(field, event name) of every event the journey matches."""
    trigger = flow.trigger
    if trigger.type in ("event", "absence"):
        yield "trigger.event", trigger.event
    if trigger.type == "absence":
        yield "trigger.missing", trigger.missing
    if flow.goal is not None:
        yield "goal.event", flow.goal.event
    for node in flow.nodes:
        if node.type == "wait":
            yield f"nodes.{node.id}.event", node.event
        if node.type == "branch":
            for i, rule in enumerate(node.rules):
                for j, cond in enumerate(rule.conditions):
                    if cond.kind == "event":
                        yield f"nodes.{node.id}.rules.{i}.conditions.{j}.event", cond.event


def segment_fields(flow: FlowDefinition) -> Iterator[tuple[str, str]]:
    trigger = flow.trigger
    if trigger.type in ("segment", "schedule") and trigger.segment_id:
        yield "trigger.segment_id", trigger.segment_id
    for node in flow.nodes:
        if node.type == "branch":
            for i, rule in enumerate(node.rules):
                for j, cond in enumerate(rule.conditions):
                    if cond.kind == "segment":
                        yield (
                            f"nodes.{node.id}.rules.{i}.conditions.{j}.segment_id",
                            cond.segment_id,
                        )


def validate(
    flow: FlowDefinition,
    *,
    known_events: set[str],
    survey_exists: Callable[[str], bool],
    segment_exists: Callable[[str], bool],
    tz: str,
    known_traits: Callable[[set[str]], set[str]] | None = None,
) -> None:
    """Raise ``ValidationFailed`` naming the first field that would not work here;
    ``known_traits`` answers which of some trait keys a profile of the workspace has."""
    for field, source in template_fields(flow):
        templates.check(source, field, tz=tz)
    for node in flow.nodes:
        if node.type == "webhook" and isinstance(node.body, str):
            templates.check_json(node.body, f"nodes.{node.id}.body", tz=tz)
    if known_traits is not None:
        _check_traits(flow, known_traits, tz=tz)
    known = known_events | BUILTIN_EVENTS
    for field, name in event_fields(flow):
        if name not in known:
            raise ValidationFailed(
                f"{field}: no event {name[:80]!r} has been seen in this workspace", field=field
            )
    for node in flow.nodes:
        if node.type == "survey" and not survey_exists(node.survey_id):
            field = f"nodes.{node.id}.survey_id"
            raise ValidationFailed(f"{field}: no survey {node.survey_id!r}", field=field)
    for field, segment_id in segment_fields(flow):
        if not segment_exists(segment_id):
            raise ValidationFailed(f"{field}: no segment {segment_id!r}", field=field)


def _check_traits(
    flow: FlowDefinition, known_traits: Callable[[set[str]], set[str]], *, tz: str
) -> None:
    set_here = {n.key.split(".")[0] for n in flow.nodes if n.type == "set_trait"}
    named = [(field, key.split(".")[0]) for field, key in trait_fields(flow, tz=tz)]
    asked = {key for _, key in named} - WELL_KNOWN_TRAITS - set_here
    known = known_traits(asked) if asked else set()
    for field, key in named:
        if key in asked and key not in known:
            raise ValidationFailed(
                f"{field}: no profile in this workspace has the trait {key[:80]!r}", field=field
            )


def describe(flow: FlowDefinition) -> dict[str, Any]:
    """What ingest indexes a published flow by."""
    trigger = flow.trigger
    event = getattr(trigger, "event", None)
    if trigger.type == "segment":
        event = "segment_entered" if trigger.on == "enter" else "segment_exited"
    elif trigger.type == "survey":
        event = "survey_answered"
    return {"trigger_type": trigger.type, "trigger_event": event}
