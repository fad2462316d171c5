"""The scheduler's ``flow.message`` action: a journey's message, rendered at send time.

Rendering happens when the scheduler sends (after quiet hours held it, with the traits of that
moment), in the language of the profile when the step has a text in it, else in the other one.
A template that fails on this profile's data skips the message with the reason, never sends a
half-rendered text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import ValidationFailed
from safar.flows import templates
from safar.flows.definition import FlowDefinition
from safar.flows.people import Person, person
from safar.flows.repository import InstanceRepository
from safar.flows.runtime import Definitions
from safar.orchestration.channels import OutboundMessage
from safar.orchestration.scheduler import Skip

#: ``Session.info`` key of the instances' properties a batch read ahead (one unit of work).
PRELOADED = "flows.message.properties"


def pick_language(texts: dict[str, Any], language: str) -> str:
    if language in texts:
        return language
    return "fa" if "fa" in texts else next(iter(texts))


class FlowMessage:
    #: ``delivered`` does nothing: the outcome stays on the job (the scheduler skips loading it).
    records_delivery = False

    def __init__(self, default_tz: str = "Asia/Tehran") -> None:
        self.default_tz = default_tz
        #: Published versions never change: parsed once, not for every message.
        self.definitions = Definitions()

    def validate(
        self, session: Session, *, workspace_id: str, params: dict[str, Any], policy: Any = None
    ) -> None:
        if not isinstance(params.get("flow_id"), str):
            raise ValidationFailed("params.flow_id: required", field="params.flow_id")

    def preload(self, session: Session, jobs: Sequence[Any]) -> None:
        """The properties of a scheduler batch's instances in one query per workspace, kept
        in the session's ``info`` for ``compose``: they belong to this unit of work only."""
        by_ws: dict[str, list[str]] = {}
        for job in jobs:
            instance_id = ((job.payload or {}).get("params") or {}).get("instance_id")
            if isinstance(instance_id, str):
                by_ws.setdefault(job.workspace_id, []).append(instance_id)
        found: dict[tuple[str, str], dict[str, Any]] = session.info.setdefault(PRELOADED, {})
        for ws, ids in by_ws.items():
            for instance_id, props in InstanceRepository(session).properties(ws, ids).items():
                found[(ws, instance_id)] = props

    def compose(
        self,
        session: Session,
        *,
        job: Any,
        params: dict[str, Any],
        policy: Any,
        recipient: Any,
        address: str,
    ) -> OutboundMessage:
        flow = self.definitions.find(
            session,
            job.workspace_id,
            str(params.get("flow_id") or ""),
            int(params.get("version") or 0),
        )
        if flow is None:
            raise Skip("journey version deleted")
        node = flow.node(params.get("node", ""))
        key = (job.workspace_id, params.get("instance_id", ""))
        preloaded = session.info.get(PRELOADED) or {}
        if key in preloaded:
            props = dict(preloaded[key])
        else:
            inst = InstanceRepository(session).get(*key)
            props = dict(inst.properties or {}) if inst is not None else {}
        traits = dict(recipient.traits or {})
        who = Person(profile_id=recipient.profile_id, traits=traits)
        tz = who.tz(self.default_tz)
        ctx = templates.context(
            traits=traits, properties=props, profile_id=recipient.profile_id, now=utcnow()
        )
        channel = job.channel or ""
        try:
            if node.type == "webhook":
                data_body = webhook_body(node.body, ctx, tz=tz)
                headers = {k: templates.render(v, ctx, tz=tz) for k, v in node.headers.items()}
                data = {
                    "profile_id": recipient.profile_id,
                    "flow_id": flow_id_of(params),
                    "node": node.id,
                    "data": data_body,
                }
                return OutboundMessage(
                    channel,
                    address,
                    json.dumps(data, ensure_ascii=False),
                    subject=f"journey.{node.id}",
                    headers=headers,
                    data=data,
                    method=node.method,
                )
            lang = pick_language(node.texts, who.language)
            text = node.texts[lang]
            subject = templates.render(text.subject, ctx, tz=tz) if text.subject else flow.name
            body = templates.render(text.body, ctx, tz=tz)
        except TemplateError as exc:
            raise Skip(f"template: {exc}", reason="error") from None
        except ValueError as exc:  # a JSON body that this profile's data broke
            raise Skip(f"webhook body: {exc}", reason="error") from None
        return OutboundMessage(channel, address, body, subject=subject, language=lang)

    def delivered(self, session: Session, *, job: Any, ok: bool, result: dict[str, Any]) -> None:
        """The outcome stays on the job (the journey's analytics read it there)."""


def webhook_body(body: dict[str, Any] | str, ctx: dict[str, Any], *, tz: str) -> Any:
    """A webhook's JSON body for this profile: a JSON template rendered and parsed, or an
    object whose text values are rendered (raises ``ValueError`` when the result is not JSON)."""
    if isinstance(body, str):
        return templates.render_json(body, ctx, tz=tz)
    return {
        k: templates.render(v, ctx, tz=tz) if isinstance(v, str) else v for k, v in body.items()
    }


def flow_id_of(params: dict[str, Any]) -> str:
    return str(params.get("flow_id") or "")


def preview(
    session: Session,
    *,
    workspace_id: str,
    flow: FlowDefinition,
    node_id: str,
    profile_id: str,
    default_tz: str,
) -> dict[str, Any]:
    """Every language's text of a send step rendered for a real profile (the builder's preview);
    a template error is shown, not raised."""
    try:
        node = flow.node(node_id)
    except KeyError:
        raise ValidationFailed(f"node: no node {node_id!r}", field="node") from None
    if node.type != "send":
        raise ValidationFailed(f"node: {node_id!r} sends no text", field="node")
    who = person(session, workspace_id=workspace_id, profile_id=profile_id)
    tz = who.tz(default_tz)
    ctx = templates.context(
        traits=who.traits, properties={}, profile_id=who.profile_id, now=utcnow()
    )
    out: dict[str, Any] = {
        "profile_id": who.profile_id,
        "language": pick_language(node.texts, who.language),
        "texts": {},
    }
    for lang, text in node.texts.items():
        try:
            out["texts"][lang] = {
                "subject": templates.render(text.subject, ctx, tz=tz) if text.subject else "",
                "body": templates.render(text.body, ctx, tz=tz),
            }
        except TemplateError as exc:
            out["texts"][lang] = {"error": str(exc)}
    return out
