"""The journey worker's fast lane: a batch of instances stepped with set-based reads and writes.

The per-item path (``EmbeddedRuntime._feed`` through the ORM) costs about two dozen
statements an instance; a batch here costs about twenty in all: one claim, one read of the
instances, the people in four, the actions and their message jobs in a few, and each table
written once. The interpreter and the branch decisions are the same calls, so a batch acts
exactly as the items would one by one.

What the fast lane does not take goes to the per-item path in the same unit of work: an
instance whose person was merged (it may be re-keyed or end as merged), and one whose step
raised (the per-item path ends it with its error). A write that fails rolls the batch back
and the caller runs its items one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from safar.flows.actions import PendingAct
from safar.flows.definition import FlowDefinition
from safar.flows.interpreter import (
    Act,
    Choose,
    Chosen,
    Entered,
    Finished,
    Input,
    Sleep,
    State,
    advance,
    command_dict,
)
from safar.flows.people import Person, persons
from safar.flows.ports import InstanceRef
from safar.flows.repository import InstanceRepository, StepRepository

if TYPE_CHECKING:
    from safar.flows.runtime import EmbeddedRuntime


def waits_of(flow: FlowDefinition, state: State) -> list[tuple[str, datetime]]:
    """What the instance listens for now, derived from its state (never from old commands)."""
    if state.status == "done":
        return []
    found: list[tuple[str, datetime]] = []
    if flow.goal is not None and state.entered_at is not None:
        found.append((flow.goal.event, state.entered_at + timedelta(days=flow.goal.within_days)))
    w = state.waiting
    if w is not None and w.event and w.until is not None:
        found.append((w.event, w.until))
    return found


def step_rows(
    ref: InstanceRef, commands: list[dict[str, Any]], *, control: bool, now: datetime
) -> list[dict[str, Any]]:
    """The step log's rows for these commands: what the analytics count (entered, reached,
    finished); a reached step is marked with its visit, so a replay logs it once."""
    return [
        {
            "workspace_id": ref.workspace_id,
            "flow_id": ref.flow_id,
            "version": ref.version,
            "instance_id": ref.instance_id,
            "profile_id": ref.profile_id,
            "kind": c["kind"],
            "node": c.get("node"),
            "detail": str(c["reason"])[:200] if c.get("reason") else None,
            "mark": f"{c['node']}:{c['visit']}" if c["kind"] == "reached" else "",
            "control": bool(c.get("control", control)),
            "at": now,
        }
        for c in commands
        if c["kind"] in ("entered", "reached", "finished")
    ]


#: The input an instance is stepped with, from its row (a start reads its trigger) and person.
Make = Callable[[dict[str, Any], Person], Input]


@dataclass(slots=True)
class Item:
    """One instance as the batch holds it: its row, and what stepping it wrote."""

    row: dict[str, Any]
    make: Make
    clear_timers: bool = False
    timers: list[tuple[int, datetime]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.row["id"])

    def ref(self) -> InstanceRef:
        r = self.row
        return InstanceRef(r["workspace_id"], r["flow_id"], r["version"], r["id"], r["profile_id"])


class Batch:
    """Claimed instances stepped together; ``slow`` lists the ids left to the per-item path."""

    def __init__(self, runtime: EmbeddedRuntime, s: Session, now: datetime) -> None:
        self.rt = runtime
        self.s = s
        self.now = now
        self.items: list[Item] = []
        self.acts: list[PendingAct] = []
        #: (instance id, input) left to the per-item path, in the order they came.
        self.slow: list[tuple[str, Make]] = []

    # -- stepping --------------------------------------------------------------------------------
    def run(self, inputs: Sequence[tuple[str, Make]]) -> int:
        """Step each claimed instance with its input; how many the fast lane took. An instance
        that comes twice (two events in the inbox) has its later inputs run by the per-item
        path after this batch's writes, so each sees the state the one before left."""
        ids = list(dict.fromkeys(i for i, _ in inputs))
        rows = InstanceRepository(self.s).rows(ids)
        by_ws: dict[str, list[str]] = defaultdict(list)
        for r in rows.values():
            by_ws[r["workspace_id"]].append(r["profile_id"])
        people: dict[tuple[str, str], tuple[Person, list[str]]] = {}
        for ws, pids in by_ws.items():
            for pid, record in persons(self.s, workspace_id=ws, profile_ids=pids).items():
                people[(ws, pid)] = record
        held: dict[str, Item] = {}
        slow: set[str] = set()
        for instance_id, make in inputs:
            row = rows.get(instance_id)
            if row is None:
                continue
            if instance_id in slow or instance_id in held:
                self.slow.append((instance_id, make))
                slow.add(instance_id)
                continue
            if row["status"] == "done":
                continue
            found = people.get((row["workspace_id"], row["profile_id"]))
            if found is None or found[0].profile_id != row["profile_id"] or len(found[1]) > 1:
                # A merged person: the per-item path re-keys the instance or ends it as merged.
                self.slow.append((instance_id, make))
                slow.add(instance_id)
                continue
            item = Item(row, make)
            try:
                self._step(item, found[0])
            except Exception:
                # The per-item path runs it again and ends it with its error.
                self.slow.append((instance_id, make))
                slow.add(instance_id)
                continue
            held[instance_id] = item
        self.items = list(held.values())
        return len(self.items)

    def _step(self, item: Item, who: Person) -> None:
        row, rt = item.row, self.rt
        flow = rt.definitions.get(self.s, row["workspace_id"], row["flow_id"], row["version"])
        state = State.model_validate(row["state"]) if row["state"] else State()
        event = item.make(row, who)
        acts: list[PendingAct] = []
        for _ in range(50):
            state, commands = advance(flow, state, event)
            self._apply(item, flow, state, commands, who, acts)
            choose = next((c for c in commands if isinstance(c, Choose)), None)
            if choose is None:
                break
            edge = rt.executor.choose(self.s, item.ref(), flow, choose.node, who, self.now)
            event = Chosen(who.facts(self.now, rt.default_tz), choose.token, edge)
        self.acts += acts

    def _apply(
        self,
        item: Item,
        flow: FlowDefinition,
        state: State,
        commands: list[Any],
        who: Person,
        acts: list[PendingAct],
    ) -> None:
        row, now = item.row, self.now
        row["state"] = state.model_dump(mode="json")
        row["node"] = state.waiting.node if state.waiting is not None else None
        row["status"] = "done" if state.status == "done" else "waiting"
        if any(isinstance(c, (Sleep, Finished)) for c in commands):
            item.clear_timers, item.timers = True, []
        for command in commands:
            if isinstance(command, Entered):
                row["entered_at"], row["control"] = now, command.control
            elif isinstance(command, Sleep):
                item.timers.append((command.token, command.until))
            elif isinstance(command, Act):
                acts.append(
                    PendingAct(item.ref(), flow, command.node, command.key, command.control, who)
                )
            elif isinstance(command, Finished):
                row["finished_at"], row["reason"] = now, command.reason[:200]
        item.steps += step_rows(
            item.ref(), [command_dict(c) for c in commands], control=row["control"], now=now
        )
        row["_waits"] = waits_of(flow, state)

    # -- writing ---------------------------------------------------------------------------------
    def write(self) -> None:
        """Every table written once for the whole batch."""
        if not self.items:
            return
        s, now = self.s, self.now
        self.rt.executor.act_many(s, self.acts, now)
        repo = InstanceRepository(s)
        repo.write_back([i.row | {"updated_at": now} for i in self.items])
        repo.replace_timers(
            [i.id for i in self.items if i.clear_timers],
            [(i.row["workspace_id"], i.id, t, d) for i in self.items for t, d in i.timers],
        )
        repo.replace_waits(
            [i.id for i in self.items],
            [
                (i.row["workspace_id"], i.id, i.row["profile_id"], event, until)
                for i in self.items
                for event, until in i.row["_waits"]
            ],
        )
        StepRepository(s).append([r for i in self.items for r in i.steps])
