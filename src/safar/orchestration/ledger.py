"""What the send checks read about a scheduler batch's people, read ahead in a few queries.

Per message, the checks would read the trigger, lock the profile and count its contact log
twice (fatigue, the budget): five statements a job. A ``Ledger`` does it per batch instead:
the triggers in one query, the profiles locked in one statement (after which their contact
log cannot change under us), the newest contact per topic and the recent non-transactional
contacts in one query each. The batch's own contacts are noted as they are composed and
written together by ``write``, so two messages to one person in one batch (a journey's and a
survey's) count against each other exactly as rows already in the log would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safar.identity.service import lock_profile
from safar.orchestration.limits import Guards
from safar.orchestration.models import ScheduledJob, Trigger
from safar.orchestration.recipients import Recipient
from safar.orchestration.repository import ContactRepository, TriggerRepository

#: How far back a budget period can start: a local day, week or month, plus a zone's offset.
PERIOD_REACH = {"day": timedelta(days=2), "week": timedelta(days=8), "month": timedelta(days=32)}


def _fatigue_days(job: ScheduledJob, triggers: dict[str, Trigger]) -> float:
    """The job's fatigue window as stored (an invalid one is refused by the checks later)."""
    if job.trigger_id:
        trigger = triggers.get(job.trigger_id)
        days: Any = trigger.fatigue_days if trigger is not None else 0.0
    else:
        days = (job.policy or {}).get("fatigue_days", 0.0)
    if isinstance(days, bool) or not isinstance(days, int | float):
        return 0.0
    return float(min(max(days, 0.0), 3650.0))


class Ledger:
    """The batch's triggers and contact counts; profiles it has not read are read on demand."""

    def __init__(self, session: Session, guards: Guards, now: datetime) -> None:
        self.s, self.guards, self.now = session, guards, now
        self.triggers: dict[tuple[str, str], Trigger | None] = {}
        #: Newest contact per (workspace, profile, topic) since ``fatigue_since``.
        self.latest: dict[tuple[str, str, str], datetime] = {}
        #: Non-transactional contacts per (workspace, profile) since the workspace's floor.
        self.budget: dict[tuple[str, str], list[datetime]] = {}
        self.floors: dict[str, datetime] = {}
        self.fatigue_since = now
        self.read: set[tuple[str, str]] = set()
        #: The contact-log rows of the batch's messages, inserted by ``write``.
        self.rows: list[dict[str, Any]] = []

    def read_ahead(self, jobs: Sequence[ScheduledJob], recipients: dict[str, Recipient]) -> None:
        """Triggers, locks and contact counts for every profile the batch's jobs name."""
        wanted: dict[str, set[str]] = {}
        for job in jobs:
            if job.trigger_id:
                wanted.setdefault(job.workspace_id, set()).add(job.trigger_id)
        for ws, ids in wanted.items():
            found = TriggerRepository(self.s).many(ws, sorted(ids))
            self.triggers |= {(ws, i): found.get(i) for i in ids}
        by_key = {tid: t for (_, tid), t in self.triggers.items() if t is not None}
        days = max((_fatigue_days(j, by_key) for j in jobs), default=0.0)
        self.fatigue_since = self.now - timedelta(days=days)
        people: dict[str, set[str]] = {}
        for job in jobs:
            r = recipients.get(job.profile_id or "")
            if r is not None:
                people.setdefault(job.workspace_id, set()).add(r.profile_id)
        lock_profile(self.s, *(p for pids in people.values() for p in pids))
        for ws, pids in people.items():
            self._read(ws, sorted(pids))

    def _read(self, ws: str, pids: Sequence[str]) -> None:
        repo = ContactRepository(self.s)
        if self.fatigue_since < self.now:
            for (pid, topic), at in repo.latest_by_topic(ws, pids, self.fatigue_since).items():
                self.latest[(ws, pid, topic)] = at
        budget = self.guards.budget_for(ws)
        if budget is not None:
            floor = self.floors.setdefault(ws, self.now - PERIOD_REACH[budget.period])
            for pid, times in repo.budget_times(ws, pids, floor).items():
                self.budget[(ws, pid)] = times
        self.read.update((ws, p) for p in pids)

    def trigger(self, ws: str, trigger_id: str) -> Trigger | None:
        key = (ws, trigger_id)
        if key not in self.triggers:
            self.triggers[key] = TriggerRepository(self.s).get(ws, trigger_id)
        return self.triggers[key]

    def lock(self, ws: str, profile_id: str) -> None:
        """A profile found only now (from the event's user id): lock it and read its log."""
        if (ws, profile_id) not in self.read:
            lock_profile(self.s, profile_id)
            self._read(ws, [profile_id])

    def recent(self, ws: str, profile_id: str, topic: str, days: float) -> bool:
        """Contacted about ``topic`` within ``days``, the batch's own contacts included."""
        if days <= 0:
            return False
        since = self.now - timedelta(days=days)
        if since < self.fatigue_since:  # wider than what was read: ask the log
            logged = ContactRepository(self.s).count(ws, profile_id, since, topic=topic)
            return logged > 0 or any(r["topic"] == topic for r in self._noted(ws, profile_id))
        at = self.latest.get((ws, profile_id, topic))
        return at is not None and at >= since

    def used(self, ws: str, profile_id: str, since: datetime) -> int:
        """Non-transactional contacts since ``since``, the batch's own included."""
        floor = self.floors.get(ws)
        if floor is not None and since >= floor:
            return sum(1 for t in self.budget.get((ws, profile_id), []) if t >= since)
        # Not read that far back: the log's count, and the batch's own not yet written.
        logged = ContactRepository(self.s).count(ws, profile_id, since, transactional=False)
        noted = self._noted(ws, profile_id)
        return logged + sum(1 for r in noted if not r["transactional"] and r["at"] >= since)

    def _noted(self, ws: str, profile_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["workspace_id"] == ws and r["profile_id"] == profile_id]

    def note(self, row: dict[str, Any]) -> None:
        """A contact the batch makes: counted from now on, written by ``write``."""
        self.rows.append(row)
        ws, pid, at = row["workspace_id"], row["profile_id"], row["at"]
        key = (ws, pid, row["topic"])
        if key not in self.latest or self.latest[key] < at:
            self.latest[key] = at
        if not row["transactional"] and ws in self.floors:
            self.budget.setdefault((ws, pid), []).append(at)

    def write(self) -> None:
        ContactRepository(self.s).insert_many(self.rows)
