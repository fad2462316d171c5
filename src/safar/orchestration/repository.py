"""Queries of the orchestration tables, each scoped to one workspace by the kit's base."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows, insert_ignoring
from safar.orchestration.models import ContactLog, ScheduledJob, Trigger


class TriggerRepository(WorkspaceRepository[Trigger]):
    model = Trigger

    def ordered(self, workspace_id: str) -> list[Trigger]:
        return self.list(workspace_id, order_by=[Trigger.created_at])

    def many(self, workspace_id: str, ids: Sequence[str]) -> dict[str, Trigger]:
        """The workspace's triggers among ``ids``, by id, in one query."""
        return {t.id: t for t in self.list(workspace_id, Trigger.id.in_(list(ids)))}

    def active(self) -> list[Trigger]:
        """Every workspace's active triggers: the ingest hook matches rows of all of them."""
        return list(self.session.scalars(select(Trigger).where(Trigger.active.is_(True))))


class JobRepository(WorkspaceRepository[ScheduledJob]):
    model = ScheduledJob

    def status(self, job_id: int) -> str | None:
        """One job's status by id (ids are global; callers hold an id they were given)."""
        return self.session.scalar(select(ScheduledJob.status).where(ScheduledJob.id == job_id))

    def by_key(self, workspace_id: str, key: str) -> ScheduledJob | None:
        stmt = self.scoped(workspace_id).where(ScheduledJob.dedupe_key == key)
        return self.session.scalar(stmt)

    def ids_by_key(self, workspace_id: str, keys: Sequence[str]) -> dict[str, int]:
        """Job id by dedupe key, for the keys that have a job."""
        stmt = select(ScheduledJob.dedupe_key, ScheduledJob.id).where(
            ScheduledJob.workspace_id == workspace_id, ScheduledJob.dedupe_key.in_(list(keys))
        )
        return {k: int(i) for k, i in self.session.execute(stmt).tuples()}

    def insert_new(self, rows: list[dict[str, Any]]) -> None:
        """Insert jobs; one whose (workspace, dedupe key) is taken is left as it is."""
        insert_ignoring(self.session, ScheduledJob, "uq_job_dedupe", rows)

    def recent(
        self,
        workspace_id: str,
        *,
        status: str | None = None,
        trigger_id: str | None = None,
        reason: str | None = None,
        limit: int = 100,
    ) -> list[ScheduledJob]:
        """Newest first, optionally of one status, one trigger and one reason."""
        where = []
        if status:
            where.append(ScheduledJob.status == status)
        if trigger_id:
            where.append(ScheduledJob.trigger_id == trigger_id)
        if reason:
            where.append(ScheduledJob.reason == reason)
        return self.list(workspace_id, *where, order_by=[ScheduledJob.id.desc()], limit=limit)

    def outcome_counts(
        self, workspace_id: str, key_prefix: str | None = None
    ) -> dict[tuple[str, str | None], int]:
        """Jobs per (status, reason), optionally of the keys starting with ``key_prefix``."""
        stmt = (
            select(ScheduledJob.status, ScheduledJob.reason, func.count())
            .where(ScheduledJob.workspace_id == workspace_id)
            .group_by(ScheduledJob.status, ScheduledJob.reason)
        )
        if key_prefix:
            stmt = stmt.where(ScheduledJob.dedupe_key.startswith(key_prefix, autoescape=True))
        return {(st, reason): n for st, reason, n in self.session.execute(stmt).tuples()}

    def existing_keys(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (workspace, dedupe key) pairs already have a job; one batch spans workspaces."""
        found: set[tuple[str, str]] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            stmt = select(ScheduledJob.workspace_id, ScheduledJob.dedupe_key).where(
                ScheduledJob.dedupe_key.in_([k for _, k in chunk])
            )
            found.update((ws, key) for ws, key in self.session.execute(stmt).tuples())
        return found

    def pending(self, workspace_id: str, key: str) -> ScheduledJob | None:
        job = self.by_key(workspace_id, key)
        return job if job is not None and job.status == "pending" else None


class JobQueue:
    """The scheduler's queue operations: one queue spans every workspace, so these go by job
    id (taken from the queue itself, never from a caller) rather than by workspace."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def job(self, job_id: int) -> ScheduledJob | None:
        return self.session.get(ScheduledJob, job_id)

    def jobs(self, job_ids: Sequence[int]) -> list[ScheduledJob]:
        """The jobs in one query (and in the session's identity map for ``job``)."""
        return list(
            self.session.scalars(select(ScheduledJob).where(ScheduledJob.id.in_(list(job_ids))))
        )

    def to_record(self, job_ids: Sequence[int]) -> dict[int, tuple[str, int, dict[str, Any]]]:
        """(action, attempts, result) by job id: what recording a delivery reads, in one query
        (cheaper than loading the jobs: the outcomes are written by ``write_outcomes``)."""
        stmt = select(
            ScheduledJob.id, ScheduledJob.action, ScheduledJob.attempts, ScheduledJob.result
        ).where(ScheduledJob.id.in_(list(job_ids)))
        return {int(i): (a, int(n), r or {}) for i, a, n, r in self.session.execute(stmt).tuples()}

    def write_outcomes(self, rows: Sequence[dict[str, Any]]) -> None:
        """Jobs' new columns by id (``job_id`` in each row), one statement per set of columns."""
        table = cast(Table, ScheduledJob.__table__)
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_keys.setdefault(tuple(sorted(row)), []).append(row)
        for keys, some in by_keys.items():
            values: dict[str, Any] = {k: bindparam(k) for k in keys if k != "job_id"}
            stmt = update(table).where(table.c.id == bindparam("job_id")).values(values)
            self.session.execute(stmt, some)

    def due_ids(self, now: datetime, limit: int) -> list[int]:
        """Pending jobs due by ``now``, oldest due first."""
        stmt = (
            select(ScheduledJob.id)
            .where(ScheduledJob.status == "pending", ScheduledJob.due_at <= now)
            .order_by(ScheduledJob.due_at, ScheduledJob.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def recover(self, stale: datetime) -> None:
        """Unclaim claims older than ``stale``; mark sends that old as uncertain (never resent)."""
        self.session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.status == "claimed", ScheduledJob.claimed_at < stale)
            .values(status="pending")
        )
        self.session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.status == "sending", ScheduledJob.claimed_at < stale)
            .values(
                status="uncertain", reason="error", outcome="interrupted while sending; not resent"
            )
        )

    def claim(self, job_id: int, now: datetime) -> Row[Any] | None:
        """Take the job if still pending and due (one conditional UPDATE: of any number of
        claimants exactly one sees a row count of 1); its (action, kind, payload)."""
        result = self.session.execute(
            update(ScheduledJob)
            .where(
                ScheduledJob.id == job_id,
                ScheduledJob.status == "pending",
                ScheduledJob.due_at <= now,
            )
            .values(status="claimed", claimed_at=now, attempts=ScheduledJob.attempts + 1)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        stmt = select(ScheduledJob.action, ScheduledJob.kind, ScheduledJob.payload)
        return self.session.execute(stmt.where(ScheduledJob.id == job_id)).one()

    def claim_many(
        self, job_ids: Sequence[int], now: datetime
    ) -> list[tuple[int, str, str, dict[str, Any] | None]]:
        """``claim`` for many jobs in one statement: (id, action, kind, payload) of those this
        claimant took, in the order asked."""
        stmt = (
            update(ScheduledJob)
            .where(
                ScheduledJob.id.in_(list(job_ids)),
                ScheduledJob.status == "pending",
                ScheduledJob.due_at <= now,
            )
            .values(status="claimed", claimed_at=now, attempts=ScheduledJob.attempts + 1)
            .returning(
                ScheduledJob.id, ScheduledJob.action, ScheduledJob.kind, ScheduledJob.payload
            )
        )
        got = {r[0]: (int(r[0]), r[1], r[2], r[3]) for r in self.session.execute(stmt).tuples()}
        return [got[i] for i in job_ids if i in got]

    def contacted_many(self, job_ids: Sequence[int], status: str) -> None:
        """``contacted`` for many jobs in one statement."""
        if not job_ids:
            return
        stmt = (
            update(ContactLog)
            .where(ContactLog.job_id.in_(list(job_ids)), ContactLog.status == "sending")
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(stmt)

    def touch_many(self, job_ids: Sequence[int], now: datetime) -> None:
        stmt = update(ScheduledJob).where(ScheduledJob.id.in_(list(job_ids))).values(claimed_at=now)
        # Nothing to synchronise: the caller loads the jobs after this (or has none loaded).
        self.session.execute(stmt.execution_options(synchronize_session=False))

    def release(self, job_id: int, due_at: datetime) -> None:
        """A claimed job back to pending, its attempt not counted."""
        self.session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job_id, ScheduledJob.status == "claimed")
            .values(status="pending", due_at=due_at, attempts=ScheduledJob.attempts - 1)
        )

    def touch(self, job_id: int, now: datetime) -> None:
        """Renew the claim; as a write it also takes SQLite's write lock before any read."""
        stmt = update(ScheduledJob).where(ScheduledJob.id == job_id).values(claimed_at=now)
        self.session.execute(stmt)

    def contacted(self, job_id: int, status: str) -> None:
        """The delivery status of the contact-log entry the job's current attempt wrote."""
        stmt = (
            update(ContactLog)
            .where(ContactLog.job_id == job_id, ContactLog.status == "sending")
            .values(status=status)
        )
        self.session.execute(stmt)

    def listed(
        self, *, status: str | None = None, workspace_id: str | None = None, limit: int = 100
    ) -> list[ScheduledJob]:
        """Newest first across workspaces (an operator's view of the queue)."""
        stmt = select(ScheduledJob).order_by(ScheduledJob.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(ScheduledJob.status == status)
        if workspace_id:
            stmt = stmt.where(ScheduledJob.workspace_id == workspace_id)
        return list(self.session.scalars(stmt))


class ContactRepository(WorkspaceRepository[ContactLog]):
    model = ContactLog

    def count(
        self,
        workspace_id: str,
        profile_id: str,
        since: datetime,
        *,
        topic: str | None = None,
        transactional: bool | None = None,
    ) -> int:
        """Contacts made or under way (``sending``, ``sent``) with the profile since ``since``."""
        stmt = (
            select(func.count())
            .select_from(ContactLog)
            .where(
                ContactLog.workspace_id == workspace_id,
                ContactLog.profile_id == profile_id,
                ContactLog.status.in_(["sending", "sent"]),
                ContactLog.at >= since,
            )
        )
        if topic is not None:
            stmt = stmt.where(ContactLog.topic == topic)
        if transactional is not None:
            stmt = stmt.where(ContactLog.transactional.is_(transactional))
        return int(self.session.scalar(stmt) or 0)

    def latest_by_topic(
        self, workspace_id: str, profile_ids: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        """The newest contact since ``since`` made or under way per (profile, topic): fatigue
        for a batch."""
        stmt = (
            select(ContactLog.profile_id, ContactLog.topic, func.max(ContactLog.at))
            .where(
                ContactLog.workspace_id == workspace_id,
                ContactLog.profile_id.in_(list(profile_ids)),
                ContactLog.status.in_(["sending", "sent"]),
                ContactLog.at >= since,
            )
            .group_by(ContactLog.profile_id, ContactLog.topic)
        )
        return {(p, t): at for p, t, at in self.session.execute(stmt).tuples() if at is not None}

    def budget_times(
        self, workspace_id: str, profile_ids: Sequence[str], since: datetime
    ) -> dict[str, list[datetime]]:
        """When each profile's non-transactional contacts since ``since`` were made (or are
        being made): the contact budget for a batch, counted per job's own period start."""
        stmt = select(ContactLog.profile_id, ContactLog.at).where(
            ContactLog.workspace_id == workspace_id,
            ContactLog.profile_id.in_(list(profile_ids)),
            ContactLog.status.in_(["sending", "sent"]),
            ContactLog.transactional.is_(False),
            ContactLog.at >= since,
        )
        out: dict[str, list[datetime]] = {}
        for pid, at in self.session.execute(stmt).tuples():
            out.setdefault(pid, []).append(at)
        return out

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Contact-log rows in one statement (Core: the ORM's bulk path costs more per row)."""
        if rows:
            self.session.execute(insert(cast(Table, ContactLog.__table__)), list(rows))


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The jobs run about these profiles and the contacts made with them."""
    return {
        name: export_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for name, model in (("jobs", ScheduledJob), ("contacts", ContactLog))
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    return sum(
        delete_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for model in (ContactLog, ScheduledJob)
    )
