"""Entries that no event causes: schedule ticks (cron or Jalali days) and yearly date traits.

Each pass of the journey worker asks ``Sweeper.run``; it works at most every ``every`` and
otherwise returns at once. Entries are keyed (``tick:<instant>`` for a schedule, ``date:<day>``
for a date trait), so a sweep repeated after a restart, or by a second worker, enters nobody
twice. Date entries are made up to ``lookahead`` before the day: the instance then sleeps until
the local time the journey names, so a birthday message goes out at 10:00 on the day even when
the sweep ran at midnight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jdatetime
from croniter import croniter
from sqlalchemy.orm import Session

from safar.db import Database
from safar.flows import dates, service
from safar.flows.definition import DateTrigger, FlowDefinition, ScheduleTrigger
from safar.flows.models import Flow
from safar.flows.people import person
from safar.flows.repository import FlowRepository
from safar.kit.calendar import zone
from safar.kit.conditions import TraitCondition

log = logging.getLogger("safar.flows")

#: (session, workspace, conditions, segment id or None) -> the profile ids they select: the
#: segments domain's bulk evaluation (every profile when both are empty).
Members = Callable[[Session, str, Sequence[Any], str | None], Iterable[str]]


def last_tick(trigger: ScheduleTrigger, now: datetime, tz: str) -> datetime | None:
    """The latest instant at or before ``now`` the schedule names (UTC), within a year."""
    local = now.astimezone(zone(tz))
    if trigger.cron is not None:
        prev: datetime = croniter(trigger.cron, local).get_prev(datetime)
        return prev.astimezone(UTC)
    at = dates.hhmm(trigger.at)
    for back in range(0, 400):
        day = local.date() - timedelta(days=back)
        j = jdatetime.date.fromgregorian(date=day)
        if j.day != trigger.jalali_day:
            continue
        if trigger.jalali_month is not None and j.month != trigger.jalali_month:
            continue
        instant = datetime.combine(day, at, zone(tz))
        if instant <= local:
            return instant.astimezone(UTC)
    return None


class Sweeper:
    def __init__(
        self,
        db: Database,
        *,
        members: Members | None,
        default_tz: str,
        every: timedelta = timedelta(minutes=5),
        lookahead: timedelta = timedelta(hours=36),
    ) -> None:
        self.db = db
        self.members = members
        self.default_tz = default_tz
        self.every = every
        self.lookahead = lookahead
        self._next: datetime | None = None
        self._ticks_done: set[tuple[str, datetime]] = set()
        self._dates_done: dict[str, datetime] = {}

    def run(self, now: datetime) -> int:
        """Enter whoever a due schedule or a near date selects; how many entered."""
        if self.members is None or (self._next is not None and now < self._next):
            return 0
        self._next = now + self.every
        entered = 0
        with self.db.session() as s:
            flows = [
                (f, service.live_definition(s, f))
                for f in FlowRepository(s).live()
                if f.trigger_type in ("schedule", "date")
            ]
            s.expunge_all()
        for flow, definition in flows:
            try:
                if isinstance(definition.trigger, ScheduleTrigger):
                    entered += self._schedule(flow, definition, definition.trigger, now)
                elif isinstance(definition.trigger, DateTrigger):
                    entered += self._dates(flow, definition, definition.trigger, now)
            except Exception:
                log.exception("flows: the sweep of journey %s failed", flow.id)
        return entered

    def _schedule(
        self, flow: Flow, definition: FlowDefinition, trigger: ScheduleTrigger, now: datetime
    ) -> int:
        tick = last_tick(trigger, now, self.default_tz)
        if tick is None or (flow.id, tick) in self._ticks_done:
            return 0
        # A tick from before the journey went live is not a reason to enter anyone.
        if tick < flow.updated_at or now - tick > timedelta(days=1):
            self._ticks_done.add((flow.id, tick))
            return 0
        entered = self._enter_all(
            flow, definition, [], trigger.segment_id, f"tick:{tick.isoformat()}", now
        )
        self._ticks_done.add((flow.id, tick))
        return entered

    def _dates(
        self, flow: Flow, definition: FlowDefinition, trigger: DateTrigger, now: datetime
    ) -> int:
        last = self._dates_done.get(flow.id)
        if last is not None and now - last < timedelta(hours=1):
            return 0
        assert self.members is not None
        has_date = [TraitCondition(key=trigger.trait, op="exists")]
        entered = 0
        with self.db.session() as s:
            for profile_id in list(self.members(s, flow.workspace_id, has_date, None)):
                who = person(s, workspace_id=flow.workspace_id, profile_id=profile_id)
                calendar = dates.profile_calendar(trigger.calendar, who.traits, who.language)
                due = dates.next_yearly(
                    who.traits.get(trigger.trait),
                    now=now,
                    tz=who.tz(self.default_tz),
                    at=trigger.at,
                    calendar=calendar,
                    offset_days=trigger.offset_days,
                )
                if due is None or due - now > self.lookahead:
                    continue
                key = f"date:{due.date().isoformat()}:{profile_id}"
                if service.enter(
                    s,
                    flow=flow,
                    definition=definition,
                    profile_id=profile_id,
                    entry_key=key,
                    properties={"date": due.date().isoformat()},
                    now=now,
                ):
                    entered += 1
        self._dates_done[flow.id] = now
        return entered

    def _enter_all(
        self,
        flow: Flow,
        definition: FlowDefinition,
        conditions: list[Any],
        segment_id: str | None,
        key: str,
        now: datetime,
    ) -> int:
        assert self.members is not None
        entered = 0
        with self.db.session() as s:
            for profile_id in list(self.members(s, flow.workspace_id, conditions, segment_id)):
                if service.enter(
                    s,
                    flow=flow,
                    definition=definition,
                    profile_id=profile_id,
                    entry_key=f"{key}:{profile_id}",
                    properties={},
                    now=now,
                ):
                    entered += 1
        return entered
