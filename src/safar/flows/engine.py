"""The journey engine as the installation wires it: runtime, ingest hook, action executor.

``Runtime`` builds one ``FlowEngine``; the API, the CLI and the dashboard reach journeys
through it (and the flows service), never through the runtime's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.config import Settings
from safar.db import Database
from safar.errors import NotFound
from safar.events.store import EventStore
from safar.flows import service
from safar.flows.actions import Enqueue, Executor
from safar.flows.analytics import Outcomes
from safar.flows.models import Flow
from safar.flows.runtime import EmbeddedRuntime
from safar.flows.schedules import Sweeper
from safar.flows.triggers import FlowHook
from safar.identity.service import unmerged_profile_ids
from safar.kit.jobs import Jobs
from safar.orchestration import service as orchestration
from safar.orchestration.policy import SendPolicy
from safar.segments import service as segments
from safar.segments.schemas import SegmentDefinition
from safar.surveys.service import get_survey

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


def enqueue_message(
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
) -> int:
    """A journey's message as an orchestration message job (idempotent per key)."""
    job = orchestration.enqueue_message(
        session,
        workspace_id=workspace_id,
        action=action,
        channel=channel,
        payload=payload,
        policy=SendPolicy.from_dict(policy),
        key=key,
        due_at=due_at,
        profile_id=profile_id,
    )
    return int(job.id)


class Audiences:
    """The segments domain as journeys use it: branch conditions for one profile, members of a
    schedule's segment or of a date trait's holders, and whether a segment exists."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def matches(
        self, s: Session, workspace_id: str, profile_id: str, conditions: Sequence[Any], match: str
    ) -> bool:
        return segments.profile_matches(
            s,
            self.store,
            workspace_id=workspace_id,
            profile_id=profile_id,
            conditions=list(conditions),
            match="any" if match == "any" else "all",
            now=self.clock(),
        )

    def members(
        self, s: Session, workspace_id: str, conditions: Sequence[Any], segment_id: str | None
    ) -> Iterable[str]:
        now = self.clock()
        if segment_id is not None:
            found = segments.members(
                s, self.store, workspace_id=workspace_id, segment_id=segment_id, now=now
            )
            if not conditions:
                return sorted(found)
        elif not conditions:
            return sorted(unmerged_profile_ids(s, workspace_id=workspace_id))
        definition = SegmentDefinition(match="all", conditions=list(conditions))
        chosen = segments.evaluate(
            s, self.store, workspace_id=workspace_id, definition=definition, now=now
        )
        return sorted(chosen & found if segment_id is not None else chosen)

    def exists(self, s: Session, workspace_id: str, segment_id: str) -> bool:
        try:
            segments.get_segment(s, workspace_id=workspace_id, segment_id=segment_id)
        except NotFound:
            return False
        return True


class FlowEngine:
    def __init__(
        self,
        db: Database,
        store: EventStore,
        *,
        jobs: Jobs,
        enqueue: Enqueue | None = enqueue_message,
        default_tz: str,
        clock: Callable[[], datetime],
        interval_s: float = 1.0,
        wake_scheduler: Callable[[], None] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self.default_tz = default_tz
        self.audiences = Audiences(store, clock)
        #: The scheduler's message outcomes by (status, reason), for the analytics.
        self.outcomes: Outcomes | None = orchestration.outcome_counts
        self.executor = Executor(
            jobs=jobs,
            enqueue=enqueue,
            audience=self.audiences.matches,
            default_tz=default_tz,
            wake_scheduler=wake_scheduler,
            # A stand-in ``enqueue`` (tests) is called per message; the real one has a batch form.
            enqueue_many=orchestration.enqueue_messages if enqueue is enqueue_message else None,
        )
        self.runtime = EmbeddedRuntime(
            db, executor=self.executor, default_tz=default_tz, clock=clock, interval_s=interval_s
        )
        self.hook = FlowHook(db, self.runtime.wake, clock=clock)
        self.runtime.sweeper = Sweeper(db, members=self.audiences.members, default_tz=default_tz)
        #: ``SAFAR_FLOWS_RUNTIME=temporal``: instances run as Temporal workflows; the embedded
        #: worker must not run then (both would claim the new instances).
        self.temporal: Any = None
        if settings is not None and settings.flows_runtime == "temporal":
            from safar.flows.temporal.store import TemporalParts

            self.temporal = TemporalParts(settings, self.runtime)

    def start(self) -> None:
        if self.temporal is not None:
            self.temporal.start()
        else:
            self.runtime.start_worker()

    def stop(self) -> None:
        if self.temporal is not None:
            self.temporal.stop()
        self.runtime.stop()

    def publish(
        self,
        session: Session,
        *,
        workspace_id: str,
        flow_id: str,
        also_known: set[str] | frozenset[str] = frozenset(),
    ) -> Flow:
        """Publish after the workspace checks; ``also_known``: event names about to be stored
        (an import or the demo publishes its journeys before loading their events)."""
        known = set(also_known) | {
            name
            for name, _ in self.store.top_events(workspace_id, since=EPOCH, until=FAR, limit=10_000)
        }

        def survey_exists(survey_id: str) -> bool:
            try:
                get_survey(session, workspace_id=workspace_id, survey_id=survey_id)
            except NotFound:
                return False
            return True

        def segment_exists(segment_id: str) -> bool:
            return self.audiences.exists(session, workspace_id, segment_id)

        flow = service.publish(
            session,
            workspace_id=workspace_id,
            flow_id=flow_id,
            known_events=known,
            survey_exists=survey_exists,
            segment_exists=segment_exists,
            tz=self.default_tz,
            now=self.clock(),
        )
        self.hook.invalidate()
        return flow

    def enter(
        self,
        session: Session,
        *,
        workspace_id: str,
        flow_id: str,
        profile_id: str,
        key: str,
        properties: dict[str, Any],
    ) -> str | None:
        """An API-triggered entry; the instance id, or None when the rules keep them out."""
        flow = service.get_flow(session, workspace_id=workspace_id, flow_id=flow_id)
        if flow.status != "published":
            return None
        definition = service.live_definition(session, flow)
        inst = service.enter(
            session,
            flow=flow,
            definition=definition,
            profile_id=profile_id,
            entry_key=f"api:{key}",
            properties=properties,
            now=self.clock(),
        )
        if inst is None:
            return None
        self.runtime.wake_after_commit(session)
        return inst.id
