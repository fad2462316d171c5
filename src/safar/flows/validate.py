"""Checks a journey must pass before it is published, against its workspace.

``definition.check`` refuses graphs that cannot run; this refuses what would run wrongly here:
a template that does not compile or breaks the sandbox, a survey or segment that does not
exist, an event the workspace has never seen (a typo in an event name silently matches
nothing, so a journey waiting for it would never move). Each refusal names the node and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from safar.errors import ValidationFailed
from safar.flows import templates
from safar.flows.definition import FlowDefinition

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


def template_fields(flow: FlowDefinition) -> Iterator[tuple[str, str]]:
    """(field, template source) of every text the journey renders."""
    for node in flow.nodes:
        if node.type == "send":
            for lang, text in node.texts.items():
                if text.subject:
                    yield f"nodes.{node.id}.texts.{lang}.subject", text.subject
                yield f"nodes.{node.id}.texts.{lang}.body", text.body
        elif node.type == "webhook":
            for key, value in node.body.items():
                if isinstance(value, str):
                    yield f"nodes.{node.id}.body.{key}", value
        elif node.type == "set_trait" and isinstance(node.value, str):
            yield f"nodes.{node.id}.value", node.value
        elif node.type == "case":
            yield f"nodes.{node.id}.subject", node.subject


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
) -> None:
    """Raise ``ValidationFailed`` naming the first field that would not work here."""
    for field, source in template_fields(flow):
        templates.check(source, field, tz=tz)
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


def describe(flow: FlowDefinition) -> dict[str, Any]:
    """What ingest indexes a published flow by."""
    trigger = flow.trigger
    event = getattr(trigger, "event", None)
    if trigger.type == "segment":
        event = "segment_entered" if trigger.on == "enter" else "segment_exited"
    elif trigger.type == "survey":
        event = "survey_answered"
    return {"trigger_type": trigger.type, "trigger_event": event}
