"""What a journey's steps do outside the interpreter: branch decisions and actions.

Actions run once per (instance, key): the ``flow_actions`` row is written in the same unit of
work as the message job (or the event) it causes, and a second call with the key returns the
first outcome. Messages go through the orchestration scheduler (``enqueue`` below, its
``enqueue_message``), which checks consent, the contact budget shared with surveys, quiet hours
and rate limits at send time and records every skip with its reason. Holdout instances record
what they would have sent (``would_send``) and contact nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.flows import templates
from safar.flows.definition import CONTACTING, FlowDefinition
from safar.flows.models import FlowAction
from safar.flows.people import Person, person
from safar.flows.ports import InstanceRef
from safar.flows.repository import ActionRepository
from safar.identity.service import current_consent, identities_of
from safar.kit.conditions import compare, lookup
from safar.kit.jobs import Jobs

#: The scheduler task that stores the events a journey writes (traits set, cases asked for).
EMIT_TASK = "flows.emit_events"
#: The scheduler's message action that renders and sends a journey's message.
MESSAGE_ACTION = "flow.message"

#: (session, workspace, profile, conditions, match) -> bool, for event-history and segment
#: conditions (the segments domain evaluates them in the event store).
Audience = Callable[[Session, str, str, Sequence[Any], str], bool]


@dataclass(frozen=True, slots=True)
class PendingAct:
    """An ``Act`` command a batch of instances collected, run with the others (``act_many``)."""

    ref: InstanceRef
    flow: FlowDefinition
    node: str
    key: str
    control: bool
    who: Person


class EnqueueMany(Protocol):
    """The orchestration scheduler's ``enqueue_messages``: ``Enqueue`` for many, one job id per
    request in order."""

    def __call__(self, session: Session, requests: list[dict[str, Any]]) -> list[int]: ...


class Enqueue(Protocol):
    """The orchestration scheduler's ``enqueue_message`` (idempotent per key)."""

    def __call__(
        self,
        session: Session,
        *,
        workspace_id: str,
        action: str,
        channel: str,
        payload: dict[str, Any],
        policy: dict[str, Any],
        key: str,
        due_at: datetime,
        profile_id: str | None,
    ) -> int: ...


def policy_of(flow: FlowDefinition, *, contact: bool = True) -> dict[str, Any]:
    """The journey's send policy in the scheduler's terms; webhooks contact no one."""
    p = flow.policy
    if not contact:
        return {"topic": "webhook", "transactional": True}
    return {
        "topic": "journey",
        "transactional": p.topic == "transactional",
        "consent_purpose": p.consent_purpose,
        "require_consent": p.require_consent,
        "quiet_start": p.quiet_start,
        "quiet_end": p.quiet_end,
    }


class Executor:
    def __init__(
        self,
        *,
        jobs: Jobs,
        enqueue: Enqueue | None,
        audience: Audience | None,
        default_tz: str = "Asia/Tehran",
        wake_scheduler: Callable[[], None] | None = None,
        enqueue_many: EnqueueMany | None = None,
    ) -> None:
        self.jobs = jobs
        self.enqueue = enqueue
        self.enqueue_many = enqueue_many
        self.audience = audience
        self.default_tz = default_tz
        self.wake_scheduler = wake_scheduler

    # -- branches --------------------------------------------------------------------------------
    def choose(
        self,
        s: Session,
        ref: InstanceRef,
        flow: FlowDefinition,
        node_id: str,
        who: Person,
        now: datetime,
    ) -> str | None:
        node = flow.node(node_id)
        for rule in node.rules:
            results = (self._holds(s, ref, who, c) for c in rule.conditions)
            if all(results) if rule.match == "all" else any(results):
                return rule.next  # type: ignore[no-any-return]
        return node.otherwise  # type: ignore[no-any-return]

    def _holds(self, s: Session, ref: InstanceRef, who: Person, cond: Any) -> bool:
        if cond.kind == "trait":
            return compare(cond.op, lookup(who.traits, cond.key), cond.value)
        if cond.kind == "consent":
            ids = [i.id for i in identities_of(s, who.profile_id)]
            decisions = [c for c in current_consent(s, ids) if c.purpose == cond.purpose]
            specific = [c for c in decisions if c.channel == cond.channel]
            general = [c for c in decisions if c.channel == "all"]
            chosen = specific or general
            return bool(chosen) and bool(chosen[-1].granted) == bool(cond.granted)
        if self.audience is None:
            raise RuntimeError("event-history and segment conditions need the segments domain")
        return self.audience(s, ref.workspace_id, who.profile_id, [cond], "all")

    # -- actions ---------------------------------------------------------------------------------
    def act(
        self,
        s: Session,
        ref: InstanceRef,
        flow: FlowDefinition,
        node_id: str,
        key: str,
        control: bool,
        now: datetime,
        who: Person | None = None,
    ) -> dict[str, Any]:
        """Run the node once per key; ``who`` (the person as the runtime loaded them for this
        step) saves loading them again."""
        repo = ActionRepository(s)
        done = repo.by_key(ref.workspace_id, ref.instance_id, key)
        if done is not None:
            return dict(done.detail or {}) | {"status": done.status}
        node = flow.node(node_id)
        row = FlowAction(
            workspace_id=ref.workspace_id,
            flow_id=ref.flow_id,
            instance_id=ref.instance_id,
            profile_id=ref.profile_id,
            node=node_id,
            key=key,
            kind=node.type,
            control=control,
            status="done",
            detail={},
            at=now,
        )
        if control and (node.type in CONTACTING or node.type == "case"):
            row.status, row.detail = "would_send", {"channel": getattr(node, "channel", node.type)}
        elif node.type in CONTACTING:
            row.status, row.job_id = "queued", self._message(s, ref, flow, node, key, now, who)
        else:
            row.detail = self._emit(s, ref, node, key, now, who)
        repo.add(row)
        return dict(row.detail) | {"status": row.status}

    def act_many(self, s: Session, acts: Sequence[PendingAct], now: datetime) -> None:
        """``act`` for a batch: the keys already acted on in one read, the messages queued in
        one call, the action rows in one insert. Events a step writes (traits, cases) go one
        by one as ``act`` writes them (they are rare)."""
        if not acts:
            return
        if self.enqueue_many is None:
            for a in acts:
                self.act(s, a.ref, a.flow, a.node, a.key, a.control, now, a.who)
            return
        repo = ActionRepository(s)
        done = repo.acted(list({a.ref.instance_id for a in acts}))
        rows: list[dict[str, Any]] = []
        messages: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for a in acts:
            if (a.ref.instance_id, a.key) in done:
                continue
            done.add((a.ref.instance_id, a.key))
            node = a.flow.node(a.node)
            row: dict[str, Any] = {
                "workspace_id": a.ref.workspace_id,
                "flow_id": a.ref.flow_id,
                "instance_id": a.ref.instance_id,
                "profile_id": a.ref.profile_id,
                "node": a.node,
                "key": a.key,
                "kind": node.type,
                "control": a.control,
                "status": "done",
                "detail": {},
                "job_id": None,
                "at": now,
            }
            if a.control and (node.type in CONTACTING or node.type == "case"):
                row["status"] = "would_send"
                row["detail"] = {"channel": getattr(node, "channel", node.type)}
            elif node.type in CONTACTING:
                row["status"] = "queued"
                messages.append((row, self._request(a.ref, a.flow, node, a.key, now, a.who)))
            else:
                row["detail"] = self._emit(s, a.ref, node, a.key, now, a.who)
            rows.append(row)
        if messages:
            ids = self.enqueue_many(s, [request for _, request in messages])
            for (row, _), job_id in zip(messages, ids, strict=True):
                row["job_id"] = job_id
            self._wake_on_commit(s)
        repo.add_many(rows)

    def _wake_on_commit(self, s: Session) -> None:
        if self.wake_scheduler is not None:
            # The message goes out as soon as this unit of work commits, not at the next poll.
            wake = self.wake_scheduler
            orm_event.listen(s, "after_commit", lambda _s: wake(), once=True)

    def _request(
        self,
        ref: InstanceRef,
        flow: FlowDefinition,
        node: Any,
        key: str,
        now: datetime,
        who: Person,
    ) -> dict[str, Any]:
        """The message job of a contacting step, as ``Enqueue``'s keyword arguments."""
        params: dict[str, Any] = {
            "flow_id": ref.flow_id,
            "version": ref.version,
            "instance_id": ref.instance_id,
            "node": node.id,
        }
        action, channel = MESSAGE_ACTION, getattr(node, "channel", "webhook")
        if node.type == "survey":
            action, params = "survey", params | {"survey_id": node.survey_id}
        elif node.type == "webhook":
            params |= {"url": node.url}
        payload = {
            "user_id": who.user_id,
            "anonymous_id": who.anonymous_id,
            "event": f"journey:{ref.flow_id}",
            "message_id": f"flow:{ref.instance_id}:{key}",
            "params": params,
        }
        return {
            "workspace_id": ref.workspace_id,
            "action": action,
            "channel": channel,
            "payload": payload,
            "policy": policy_of(flow, contact=node.type != "webhook"),
            # Node before instance: one prefix per step gives the step's outcomes (analytics).
            "key": f"flow:{ref.flow_id}:{node.id}:{ref.instance_id}:{key.rsplit(':', 1)[-1]}",
            "due_at": now,
            "profile_id": who.profile_id,
        }

    def _message(
        self,
        s: Session,
        ref: InstanceRef,
        flow: FlowDefinition,
        node: Any,
        key: str,
        now: datetime,
        who: Person | None,
    ) -> int:
        if self.enqueue is None:
            raise RuntimeError("journey messages need the orchestration scheduler")
        who = who or person(s, workspace_id=ref.workspace_id, profile_id=ref.profile_id)
        self._wake_on_commit(s)
        return self.enqueue(s, **self._request(ref, flow, node, key, now, who))

    def _emit(
        self, s: Session, ref: InstanceRef, node: Any, key: str, now: datetime, who: Person | None
    ) -> dict[str, Any]:
        """Set a trait or ask for a case: an event through the one ingestion path, so the
        profile's history and timeline show it (stored by a scheduler task, deduped by id)."""
        who = who or person(s, workspace_id=ref.workspace_id, profile_id=ref.profile_id)
        ctx = templates.context(
            traits=who.traits, properties={}, profile_id=who.profile_id, now=now
        )
        message_id = f"flow-{ref.instance_id}-{key}"
        msg: dict[str, Any] = {
            "messageId": message_id,
            "timestamp": now.isoformat(),
            **who.identifiers(),
        }
        if node.type == "set_trait":
            value = node.value
            if isinstance(value, str):
                value = templates.render(value, ctx, tz=who.tz(self.default_tz))
            if node.tag is not None:
                tags = [t for t in (who.traits.get(node.key) or []) if isinstance(t, str)]
                tags = [t for t in tags if t != value] + ([value] if node.tag == "add" else [])
                value = tags
            msg |= {"type": "identify", "traits": {node.key: value}}
            detail = {"trait": node.key, "value": value}
        else:
            subject = templates.render(node.subject, ctx, tz=who.tz(self.default_tz))
            msg |= {
                "type": "track",
                "event": "Case Requested",
                "properties": {
                    "subject": subject,
                    "priority": node.priority,
                    "flow_id": ref.flow_id,
                    "instance_id": ref.instance_id,
                },
            }
            detail = {"subject": subject, "priority": node.priority}
        row: EventRow = normalize(
            parse_message(msg), workspace_id=ref.workspace_id, received_at=now, source="flows"
        )
        self.jobs.enqueue(
            s,
            workspace_id=ref.workspace_id,
            action=EMIT_TASK,
            payload={"rows": [dict(row)]},
            key=f"flow-emit:{ref.instance_id}:{key}",
            due_at=now,
        )
        return detail
