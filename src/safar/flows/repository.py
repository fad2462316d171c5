"""Queries of the journey tables, each scoped to one workspace by the kit's base.

The runtime's queue operations (due timers, instances to start) span every workspace, like the
scheduler's queue, and go by id taken from the queue itself (``FlowQueue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from safar.flows.models import (
    Flow,
    FlowAction,
    FlowInbox,
    FlowInstance,
    FlowStep,
    FlowTimer,
    FlowVersion,
    FlowWait,
)
from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows, insert_ignoring


class FlowRepository(WorkspaceRepository[Flow]):
    model = Flow

    def ordered(self, workspace_id: str) -> list[Flow]:
        return self.list(workspace_id, Flow.status != "archived", order_by=[Flow.created_at])

    def live(self, workspace_id: str | None = None) -> list[Flow]:
        """Published flows (of every workspace when None): what ingest matches events against."""
        stmt = select(Flow).where(Flow.status == "published")
        if workspace_id is not None:
            stmt = stmt.where(Flow.workspace_id == workspace_id)
        return list(self.session.scalars(stmt))


class VersionRepository(WorkspaceRepository[FlowVersion]):
    model = FlowVersion

    def of(self, workspace_id: str, flow_id: str, version: int) -> FlowVersion | None:
        stmt = self.scoped(workspace_id).where(
            FlowVersion.flow_id == flow_id, FlowVersion.version == version
        )
        return self.session.scalar(stmt)

    def published_everywhere(self) -> list[FlowVersion]:
        """Every published version of every workspace's flows that are not archived (their
        running instances may wait for events); the ingest hook's index spans workspaces."""
        stmt = (
            select(FlowVersion)
            .join(Flow, Flow.id == FlowVersion.flow_id)
            .where(FlowVersion.published_at.is_not(None), Flow.status != "archived")
        )
        return list(self.session.scalars(stmt))

    def history(self, workspace_id: str, flow_id: str) -> list[FlowVersion]:
        return self.list(
            workspace_id, FlowVersion.flow_id == flow_id, order_by=[FlowVersion.version.desc()]
        )


#: The instance columns the journey worker's batches read, and those they write back.
_COLUMNS = (
    "id",
    "workspace_id",
    "flow_id",
    "version",
    "profile_id",
    "status",
    "properties",
    "state",
    "control",
    "trigger_at",
    "entered_at",
    "finished_at",
    "reason",
    "node",
    "created_at",
)
_WRITTEN = (
    "state",
    "node",
    "status",
    "updated_at",
    "entered_at",
    "control",
    "finished_at",
    "reason",
)
_ROWS = select(*(getattr(FlowInstance, c) for c in _COLUMNS)).where(
    FlowInstance.id.in_(bindparam("ids", expanding=True))
)
_INSTANCES_TABLE: Any = FlowInstance.__table__
_WRITE_BACK = (
    update(_INSTANCES_TABLE)
    .where(_INSTANCES_TABLE.c.id == bindparam("b_id"))
    .values({c: bindparam(f"b_{c}") for c in _WRITTEN})
)


class InstanceRepository(WorkspaceRepository[FlowInstance]):
    model = FlowInstance

    def properties(self, workspace_id: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The instances' entry properties by id, in one query (a scheduler batch's sends).

        Keyed by id alone, the workspace checked on the rows: with the workspace in the
        statement SQLite (no statistics) walked the workspace's index, every instance of it,
        and a batch took seconds with a million instances waiting."""
        i = FlowInstance
        stmt = select(i.id, i.workspace_id, i.properties).where(i.id.in_(list(ids)))
        rows = self.session.execute(stmt).tuples()
        return {n: dict(p or {}) for n, w, p in rows if w == workspace_id}

    def by_entry(self, workspace_id: str, flow_id: str, entry_key: str) -> FlowInstance | None:
        stmt = self.scoped(workspace_id).where(
            FlowInstance.flow_id == flow_id, FlowInstance.entry_key == entry_key
        )
        return self.session.scalar(stmt)

    def of_profiles(
        self, workspace_id: str, flow_id: str, profile_ids: Sequence[str]
    ) -> list[FlowInstance]:
        """Every instance of the flow about these profiles, newest first (re-entry rules)."""
        return self.list(
            workspace_id,
            FlowInstance.flow_id == flow_id,
            FlowInstance.profile_id.in_(list(profile_ids)),
            order_by=[FlowInstance.created_at.desc()],
        )

    def of_person(
        self, workspace_id: str, profile_ids: Sequence[str], limit: int
    ) -> list[tuple[FlowInstance, str]]:
        """(instance, journey name) of every journey these profiles entered, newest first."""
        stmt = (
            self.scoped(workspace_id)
            .add_columns(Flow.name)
            .join(Flow, Flow.id == FlowInstance.flow_id)
            .where(FlowInstance.profile_id.in_(list(profile_ids)))
            .order_by(FlowInstance.created_at.desc(), FlowInstance.id.desc())
            .limit(limit)
        )
        return [(i, name) for i, name in self.session.execute(stmt).tuples()]

    def listening(
        self, workspace_id: str, events: Sequence[str], profile_ids: Sequence[str], at: datetime
    ) -> list[tuple[str, str, str]]:
        """(instance id, event, profile id) of the waits these events of these profiles meet."""
        stmt = (
            select(FlowWait.instance_id, FlowWait.event, FlowWait.profile_id)
            .where(
                FlowWait.workspace_id == workspace_id,
                FlowWait.event.in_(list(events)),
                FlowWait.profile_id.in_(list(profile_ids)),
                FlowWait.until >= at,
            )
            .distinct()
        )
        return [tuple(r) for r in self.session.execute(stmt).all()]  # type: ignore[misc]

    def waits_for(
        self, workspace_id: str, events: Sequence[str], profile_ids: Sequence[str], at: datetime
    ) -> list[tuple[str, str, str, datetime]]:
        """(instance, event, profile, until) of the waits on these events of these profiles
        that last until ``at`` or later (the caller checks each event's own time)."""
        stmt = select(
            FlowWait.instance_id, FlowWait.event, FlowWait.profile_id, FlowWait.until
        ).where(
            FlowWait.workspace_id == workspace_id,
            FlowWait.event.in_(list(events)),
            FlowWait.profile_id.in_(list(profile_ids)),
            FlowWait.until >= at,
        )
        return [(i, e, p, u) for i, e, p, u in self.session.execute(stmt).tuples()]

    def add_inbox(self, rows: list[dict[str, Any]]) -> bool:
        """Hand events in; one already handed to the instance (a replay) is left out. True
        when there were rows to add."""
        insert_ignoring(self.session, FlowInbox, "uq_flow_inbox", rows)
        return bool(rows)

    def counts(self, workspace_id: str, flow_id: str) -> dict[tuple[str, str | None], int]:
        """Instances by (status, node): live counts per step."""
        stmt = (
            select(FlowInstance.status, FlowInstance.node, func.count())
            .where(FlowInstance.workspace_id == workspace_id, FlowInstance.flow_id == flow_id)
            .group_by(FlowInstance.status, FlowInstance.node)
        )
        return {(s, n): c for s, n, c in self.session.execute(stmt).tuples()}

    def entered(self, workspace_id: str, flow_id: str) -> list[tuple[str, bool, datetime]]:
        """(profile, control, entered at) of every instance that entered."""
        stmt = select(FlowInstance.profile_id, FlowInstance.control, FlowInstance.entered_at).where(
            FlowInstance.workspace_id == workspace_id,
            FlowInstance.flow_id == flow_id,
            FlowInstance.entered_at.is_not(None),
        )
        rows = self.session.execute(stmt).tuples()
        return [(p, bool(c), at) for p, c, at in rows if at is not None]

    def taken_entries(self, flow_id: str, keys: Sequence[str]) -> set[str]:
        """The entry keys of these that already entered the flow."""
        stmt = select(FlowInstance.entry_key).where(
            FlowInstance.flow_id == flow_id, FlowInstance.entry_key.in_(list(keys))
        )
        return set(self.session.scalars(stmt))

    def history(
        self, workspace_id: str, flow_id: str, profile_ids: Sequence[str]
    ) -> list[tuple[str, str, datetime]]:
        """(profile, status, created at) of every instance of the flow about these profiles."""
        stmt = select(FlowInstance.profile_id, FlowInstance.status, FlowInstance.created_at).where(
            FlowInstance.workspace_id == workspace_id,
            FlowInstance.flow_id == flow_id,
            FlowInstance.profile_id.in_(list(profile_ids)),
        )
        return [(p, s, c) for p, s, c in self.session.execute(stmt).tuples()]

    def insert_new(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert instances; one whose entry key the flow has (another process entered it
        first) is left out. The ids inserted."""
        if not rows:
            return set()
        insert_ignoring(self.session, FlowInstance, "uq_flow_entry", rows)
        found = select(FlowInstance.id).where(FlowInstance.id.in_([r["id"] for r in rows]))
        return set(self.session.scalars(found))

    def add_waits(self, waits: Sequence[tuple[str, str, str, str, datetime]]) -> None:
        """Insert (workspace, instance, profile, event, until) subscriptions (Core inserts: no
        unit-of-work bookkeeping for rows nothing reads back here)."""
        if waits:
            self.session.execute(
                insert(FlowWait),
                [
                    {"workspace_id": w, "instance_id": i, "profile_id": p, "event": e, "until": u}
                    for w, i, p, e, u in waits
                ],
            )

    def rows(self, instance_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The instances as plain rows by id (the worker's batches: no ORM bookkeeping)."""
        found = self.session.execute(_ROWS, {"ids": list(instance_ids)}).mappings()
        return {r["id"]: dict(r) for r in found}

    def write_back(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each row's stepped columns (``_WRITTEN``) back to its instance, one statement."""
        if rows:
            self.session.execute(
                _WRITE_BACK,
                [{"b_id": r["id"]} | {f"b_{c}": r[c] for c in _WRITTEN} for r in rows],
            )

    def replace_timers(
        self, cleared: Sequence[str], timers: Sequence[tuple[str, str, int, datetime]]
    ) -> None:
        """Drop the timers of the ``cleared`` instances, then add (workspace, instance,
        token, due) timers."""
        if cleared:
            self.session.execute(delete(FlowTimer).where(FlowTimer.instance_id.in_(list(cleared))))
        if timers:
            self.session.execute(
                insert(FlowTimer),
                [
                    {"workspace_id": w, "instance_id": i, "token": t, "due_at": d}
                    for w, i, t, d in timers
                ],
            )

    def replace_waits(
        self, instance_ids: Sequence[str], waits: Sequence[tuple[str, str, str, str, datetime]]
    ) -> None:
        """``set_waits`` for many instances: theirs replaced by these (workspace, instance,
        profile, event, until) subscriptions."""
        if instance_ids:
            self.session.execute(
                delete(FlowWait).where(FlowWait.instance_id.in_(list(instance_ids)))
            )
        self.add_waits(waits)

    def set_waits(self, instance: FlowInstance, waits: Sequence[tuple[str, datetime]]) -> None:
        """Replace the instance's subscriptions with ``waits`` (event, until)."""
        ws, iid, pid = instance.workspace_id, instance.id, instance.profile_id
        self.replace_waits([iid], [(ws, iid, pid, event, until) for event, until in waits])

    def rekey(self, instance: FlowInstance, profile_id: str) -> None:
        """The person's profile changed (a merge): the instance and its waits follow."""
        instance.profile_id = profile_id
        self.session.execute(
            update(FlowWait)
            .where(FlowWait.instance_id == instance.id)
            .values(profile_id=profile_id)
        )

    def add_timer(self, instance: FlowInstance, token: int, due_at: datetime) -> None:
        self.session.execute(
            insert(FlowTimer).values(
                workspace_id=instance.workspace_id,
                instance_id=instance.id,
                token=token,
                due_at=due_at,
            )
        )

    def clear_timers(self, instance_id: str) -> None:
        self.session.execute(delete(FlowTimer).where(FlowTimer.instance_id == instance_id))


class ActionRepository(WorkspaceRepository[FlowAction]):
    model = FlowAction

    def by_key(self, workspace_id: str, instance_id: str, key: str) -> FlowAction | None:
        stmt = self.scoped(workspace_id).where(
            FlowAction.instance_id == instance_id, FlowAction.key == key
        )
        return self.session.scalar(stmt)

    def acted(self, instance_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(instance, key) of the actions these instances already ran."""
        stmt = select(FlowAction.instance_id, FlowAction.key).where(
            FlowAction.instance_id.in_(list(instance_ids))
        )
        return {(i, k) for i, k in self.session.execute(stmt).tuples()}

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(FlowAction), rows)

    def counts(self, workspace_id: str, flow_id: str) -> dict[tuple[str, str, bool], int]:
        """Actions by (node, status, control)."""
        stmt = (
            select(FlowAction.node, FlowAction.status, FlowAction.control, func.count())
            .where(FlowAction.workspace_id == workspace_id, FlowAction.flow_id == flow_id)
            .group_by(FlowAction.node, FlowAction.status, FlowAction.control)
        )
        return {(n, s, bool(c)): k for n, s, c, k in self.session.execute(stmt).tuples()}

    def jobs(self, workspace_id: str, flow_id: str) -> list[tuple[str, int]]:
        """(node, job id) of every message the flow queued."""
        stmt = select(FlowAction.node, FlowAction.job_id).where(
            FlowAction.workspace_id == workspace_id,
            FlowAction.flow_id == flow_id,
            FlowAction.job_id.is_not(None),
        )
        return [(n, j) for n, j in self.session.execute(stmt).tuples() if j is not None]


class StepRepository(WorkspaceRepository[FlowStep]):
    model = FlowStep

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Insert the steps; one already logged (same instance, kind and mark) is left as is."""
        insert_ignoring(self.session, FlowStep, "uq_flow_step", rows)

    def counts(
        self, workspace_id: str, flow_id: str
    ) -> dict[tuple[str, str | None, str | None, bool], int]:
        """Steps by (kind, node, detail, control)."""
        stmt = (
            select(FlowStep.kind, FlowStep.node, FlowStep.detail, FlowStep.control, func.count())
            .where(FlowStep.workspace_id == workspace_id, FlowStep.flow_id == flow_id)
            .group_by(FlowStep.kind, FlowStep.node, FlowStep.detail, FlowStep.control)
        )
        return {(k, n, d, bool(c)): x for k, n, d, c, x in self.session.execute(stmt).tuples()}


class FlowQueue:
    """The runtime's queue over every workspace: instances to start and timers due."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def instance(self, instance_id: str) -> FlowInstance | None:
        return self.session.get(FlowInstance, instance_id)

    def new_ids(self, limit: int) -> list[str]:
        stmt = (
            select(FlowInstance.id)
            .join(Flow, Flow.id == FlowInstance.flow_id)
            .where(FlowInstance.status == "new", Flow.status == "published")
            .order_by(FlowInstance.created_at, FlowInstance.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def due_timers(self, now: datetime, limit: int) -> list[tuple[int, str, int]]:
        """(timer id, instance id, token) due by ``now`` and not claimed; a paused journey's
        timers wait (they fire when it resumes)."""
        stmt = (
            select(FlowTimer.id, FlowTimer.instance_id, FlowTimer.token)
            .join(FlowInstance, FlowInstance.id == FlowTimer.instance_id)
            .join(Flow, Flow.id == FlowInstance.flow_id)
            .where(FlowTimer.due_at <= now, FlowTimer.claimed_at.is_(None))
            .where(Flow.status == "published")
            .order_by(FlowTimer.due_at, FlowTimer.id)
            .limit(limit)
        )
        return [(i, s, t) for i, s, t in self.session.execute(stmt).tuples()]

    def claim(self, kind: str, keys: Sequence[Any]) -> set[Any]:
        """Take queue items for this unit of work, one statement for any number: instances to
        start (``new``: marked running), inbox rows and due timers (deleted; the unit of work
        that steps them commits the deletion). Of any number of workers each item goes to one
        (the rows RETURNING names); the keys taken."""
        stmt: Any
        if kind == "new":
            stmt = (
                update(FlowInstance)
                .where(FlowInstance.id.in_(list(keys)), FlowInstance.status == "new")
                .values(status="running")
                .returning(FlowInstance.id)
            )
        elif kind == "inbox":
            stmt = delete(FlowInbox).where(FlowInbox.id.in_(list(keys))).returning(FlowInbox.id)
        else:
            stmt = (
                delete(FlowTimer)
                .where(FlowTimer.id.in_(list(keys)), FlowTimer.claimed_at.is_(None))
                .returning(FlowTimer.id)
            )
        return set(self.session.scalars(stmt))

    def unclaim_stale(self, stale: datetime) -> None:
        """Timers claimed by a worker that died before firing them are due again."""
        self.session.execute(
            update(FlowTimer).where(FlowTimer.claimed_at < stale).values(claimed_at=None)
        )

    def claim_new(self, instance_id: str) -> bool:
        return instance_id in self.claim("new", [instance_id])

    def inbox(self, limit: int) -> list[FlowInbox]:
        stmt = (
            select(FlowInbox)
            .join(FlowInstance, FlowInstance.id == FlowInbox.instance_id)
            .join(Flow, Flow.id == FlowInstance.flow_id)
            .where(Flow.status == "published")
            .order_by(FlowInbox.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def drop_inbox(self, inbox_id: int) -> bool:
        return inbox_id in self.claim("inbox", [inbox_id])

    def waiting_count(self) -> int:
        stmt = (
            select(func.count()).select_from(FlowInstance).where(FlowInstance.status == "waiting")
        )
        return int(self.session.scalar(stmt) or 0)


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The journeys a person is or was in, and what they did to them."""
    return {
        name: export_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for name, model in (
            ("flow_instances", FlowInstance),
            ("flow_actions", FlowAction),
            ("flow_steps", FlowStep),
        )
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the person's journey rows, their instances' timers and inbox included."""
    ids = select(FlowInstance.id).where(
        FlowInstance.workspace_id == workspace_id, FlowInstance.profile_id.in_(profile_ids)
    )
    for model in (FlowTimer, FlowInbox):
        session.execute(delete(model).where(model.instance_id.in_(ids)))
    return sum(
        delete_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for model in (FlowStep, FlowAction, FlowWait, FlowInstance)
    )
