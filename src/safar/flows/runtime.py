"""The embedded journey runtime: instances, timers, waits and an inbox in the state store.

One worker thread (``safar-flows``) pumps three queues, oldest first: instances to start,
events in the inbox, timers due, up to 50 items per unit of work (``batch.Batch``). An item's
new state, its timers and waits, its actions (message jobs for the orchestration scheduler,
which sends them once) and its step log commit together, so a crash replays it whole or not
at all. Items are claimed by one conditional statement a batch (``FlowQueue.claim``: the rows
RETURNING names), so several workers (on PostgreSQL) never run one twice.

``EmbeddedPorts`` are the ports on the same tables; the Temporal runtime's activities call them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from safar.db import Database, utcnow
from safar.errors import is_transient
from safar.flows import actions
from safar.flows.batch import Batch, Make, step_rows, waits_of
from safar.flows.definition import FlowDefinition
from safar.flows.interpreter import (
    Act,
    Choose,
    Chosen,
    Entered,
    EventSeen,
    Facts,
    Finished,
    Input,
    Sleep,
    Start,
    State,
    TimerFired,
    advance,
    command_dict,
)
from safar.flows.models import FlowInstance
from safar.flows.people import Person, person
from safar.flows.ports import FlowPorts, FlowRuntime, InstanceRef
from safar.flows.repository import (
    FlowQueue,
    InstanceRepository,
    StepRepository,
    VersionRepository,
)
from safar.flows.schedules import Sweeper
from safar.identity.service import person_profile_ids

log = logging.getLogger("safar.flows")
PASS_LIMIT = 200
#: Items per unit of work: few enough that the state store's write lock is held briefly.
BATCH = 50
#: Claims older than this belong to a worker that died.
LEASE = timedelta(minutes=5)


class Definitions:
    """Published versions by (flow, version): immutable once published, so cached for good."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int], FlowDefinition] = {}
        self._lock = threading.Lock()

    def find(
        self, session: Session, workspace_id: str, flow_id: str, version: int
    ) -> FlowDefinition | None:
        """The version's definition; None when the workspace has no such version."""
        key = (workspace_id, flow_id, version)
        with self._lock:
            found = self._cache.get(key)
        if found is not None:
            return found
        row = VersionRepository(session).of(workspace_id, flow_id, version)
        if row is None:
            return None
        flow = FlowDefinition.model_validate(row.definition)
        if row.published_at is not None:
            with self._lock:
                self._cache[key] = flow
        return flow

    def get(
        self, session: Session, workspace_id: str, flow_id: str, version: int
    ) -> FlowDefinition:
        flow = self.find(session, workspace_id, flow_id, version)
        assert flow is not None, f"flow {flow_id} has no version {version}"
        return flow


class Pump:
    """A thread that calls ``run_due`` until nothing is due, then sleeps until woken (or
    ``interval_s``): the embedded worker, and the Temporal forwarder in its place. A failing
    pass is recorded in ``last_error`` and tried again on the next one."""

    #: Says in the log which pump failed.
    what = "flows"

    def __init__(self, wake_event: threading.Event, interval_s: float) -> None:
        self.wake_event = wake_event
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def run_due(self, limit: int = PASS_LIMIT) -> int:
        raise NotImplementedError

    def start_worker(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="safar-flows", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake_event.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.run_due() >= PASS_LIMIT and not self._stop.is_set():
                    pass
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if is_transient(exc):
                    log.error("%s: store error (%s); retrying", self.what, exc)
                else:
                    log.exception("%s: pass failed", self.what)
            self.wake_event.wait(self.interval_s)
            self.wake_event.clear()


def ref_of(instance: FlowInstance) -> InstanceRef:
    return InstanceRef(
        instance.workspace_id, instance.flow_id, instance.version, instance.id, instance.profile_id
    )


class EmbeddedRuntime(Pump):
    """Runs instances on the state store; ``start``/``deliver`` only wake the worker, since the
    rows they concern were written in the caller's unit of work."""

    name = "embedded"

    def __init__(
        self,
        db: Database,
        *,
        executor: actions.Executor,
        default_tz: str = "Asia/Tehran",
        clock: Callable[[], datetime] = utcnow,
        interval_s: float = 1.0,
    ) -> None:
        super().__init__(threading.Event(), interval_s)
        self.db = db
        self.executor = executor
        self.default_tz = default_tz
        self.clock = clock
        self.definitions = Definitions()
        #: Schedule ticks and date traits (set by the engine when segments can list members).
        self.sweeper: Sweeper | None = None
        #: Timers are claimed by deleting them now; a timer an earlier version claimed (and
        #: whose worker died) is released once, on the first pass, not on every pass: that
        #: UPDATE scans every timer (a million waiting: 65 ms and SQLite's write lock a pass).
        self._released = False

    def wake(self) -> None:
        self.wake_event.set()

    def wake_after_commit(self, session: Session) -> None:
        """Wake the worker once the caller's unit of work (with the new rows) commits."""
        orm_event.listen(session, "after_commit", lambda _s: self.wake_event.set(), once=True)

    # -- FlowRuntime -----------------------------------------------------------------------------
    def start(
        self, ref: InstanceRef, definition: dict[str, Any], seed: str, properties: dict[str, Any]
    ) -> None:
        self.wake()

    def deliver(
        self, ref: InstanceRef, event: str, properties: dict[str, Any], at: datetime
    ) -> None:
        self.wake()

    # -- the pump --------------------------------------------------------------------------------
    def run_due(self, limit: int = PASS_LIMIT) -> int:
        """Start new instances, hand inbox events in, fire due timers; how many items ran.

        Items run in batches of ``BATCH`` per unit of work (``batch.Batch``: set-based reads
        and writes, one commit and one fsync a batch). A batch whose writes fail for a reason
        other than the store is run again item by item, each in its own savepoint, so an item
        that fails is ended with its error instead of failing the others. A store error rolls
        the batch back whole; the next pass runs it again (its claims were not committed).
        """
        now = self.clock()
        done = self.sweeper.run(now) if self.sweeper is not None else 0
        with self.db.session() as s:
            queue = FlowQueue(s)
            if not self._released:
                queue.unclaim_stale(now - LEASE)
                self._released = True
            new = queue.new_ids(limit)
        done += self._fast("new", [(i, i, _start_input(now, self.default_tz)) for i in new], now)
        with self.db.session() as s:
            inbox = [
                (
                    i.id,
                    i.instance_id,
                    _event_input(i.event, dict(i.properties), i.at, self.default_tz),
                )
                for i in FlowQueue(s).inbox(limit)
            ]
        done += self._fast("inbox", inbox, now)
        with self.db.session() as s:
            due = [
                (t, iid, _timer_input(token, now, self.default_tz))
                for t, iid, token in FlowQueue(s).due_timers(now, limit)
            ]
        done += self._fast("timer", due, now)
        return done

    def _fast(self, kind: str, items: list[tuple[Any, str, Make]], now: datetime) -> int:
        """Run (claim key, instance id, input) items a batch per unit of work."""
        done = 0
        for i in range(0, len(items), BATCH):
            chunk = items[i : i + BATCH]
            try:
                done += self._run_batch(kind, chunk, now)
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.warning("flows: a batch failed (%s); running its items one by one", exc)
                done += self._batched([((kind, k, m), iid) for k, iid, m in chunk], now)
        return done

    def _run_batch(self, kind: str, chunk: list[tuple[Any, str, Make]], now: datetime) -> int:
        with self.db.session() as s:
            b = Batch(self, s, now)
            claimed = FlowQueue(s).claim(kind, [key for key, _, _ in chunk])
            inputs = [(iid, make) for key, iid, make in chunk if key in claimed]
            b.run(inputs)
            b.write()
            for instance_id, make in b.slow:
                self._isolated(s, instance_id, now, self._step_one, s, instance_id, make, now)
            return len(inputs)

    def _batched(self, items: list[tuple[tuple[str, Any, Make], str]], now: datetime) -> int:
        """The per-item path: claim and step each item in its own savepoint, a batch per unit
        of work; an item that fails is ended with its error."""
        done = 0
        for i in range(0, len(items), BATCH):
            with self.db.session() as s:
                for item, instance_id in items[i : i + BATCH]:
                    done += self._isolated(
                        s, instance_id, now, self._run_one, s, item, instance_id, now
                    )
        return done

    def _isolated(
        self, s: Session, instance_id: str, now: datetime, step: Callable[..., Any], *args: Any
    ) -> bool:
        """``step(*args)`` in its own savepoint: when it raises (not a store error) the
        instance ends with its error instead, and the others of the batch go on. The step's
        result as a bool (False when it raised)."""
        try:
            with s.begin_nested():
                return bool(step(*args))
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("flows: instance %s failed", instance_id)
            with s.begin_nested():
                self._fail(s, instance_id, exc, now)
            return False

    def _run_one(
        self, s: Session, item: tuple[str, Any, Make], instance_id: str, now: datetime
    ) -> bool:
        kind, key, make = item
        claimed = key in FlowQueue(s).claim(kind, [key])
        if claimed:
            self._step_one(s, instance_id, make, now)
        return claimed

    def _step_one(self, s: Session, instance_id: str, make: Make, now: datetime) -> None:
        """One claimed item on the per-item path: its input from the instance as it is now."""
        inst = FlowQueue(s).instance(instance_id)
        if inst is None or inst.status == "done":
            return
        row = {
            c: getattr(inst, c)
            for c in ("flow_id", "profile_id", "properties", "trigger_at", "created_at")
        }
        self._feed(s, inst, lambda who: make(row, who), now)

    def _fail(self, s: Session, instance_id: str, exc: Exception, now: datetime) -> None:
        """An instance whose step raised ends, with the error as its reason (never silently),
        and its timers and inbox go with it, so it cannot fail every pass."""
        inst = FlowQueue(s).instance(instance_id)
        if inst is None:
            return
        self._close(s, inst, f"error: {type(exc).__name__}: {exc}"[:200], now)

    def _feed(
        self, s: Session, inst: FlowInstance, make: Callable[[Person], Input], now: datetime
    ) -> None:
        """One input, then the branch decisions it asks for, in the caller's unit of work."""
        who = self.follow(s, inst, now)
        if who is None:
            return
        flow = self.definitions.get(s, inst.workspace_id, inst.flow_id, inst.version)
        state = State.model_validate(inst.state) if inst.state else State()
        event = make(who)
        for _ in range(50):
            state, commands = advance(flow, state, event)
            self._apply(s, inst, flow, state, commands, now, who)
            choose = next((c for c in commands if isinstance(c, Choose)), None)
            if choose is None:
                return
            edge = self.executor.choose(s, ref_of(inst), flow, choose.node, who, now)
            event = Chosen(who.facts(now, self.default_tz), choose.token, edge)

    def follow(self, s: Session, inst: FlowInstance, now: datetime) -> Person | None:
        """The person now. When merged profiles of one person each had an instance of the
        flow, the oldest goes on and the others end as merged, so the person hears once."""
        who = person(s, workspace_id=inst.workspace_id, profile_id=inst.profile_id)
        repo = InstanceRepository(s)
        if who.profile_id != inst.profile_id:
            repo.rekey(inst, who.profile_id)
        ids = person_profile_ids(s, workspace_id=inst.workspace_id, profile_id=who.profile_id)
        if len(ids) > 1:
            for other in repo.of_profiles(inst.workspace_id, inst.flow_id, ids):
                older = (other.created_at, other.id) < (inst.created_at, inst.id)
                overlapping = other.status != "done" or (
                    other.finished_at is not None and other.finished_at >= inst.created_at
                )
                if other.id != inst.id and older and overlapping:
                    self._close(s, inst, f"merged into {other.id}", now)
                    return None
        return who

    def _close(self, s: Session, inst: FlowInstance, reason: str, now: datetime) -> None:
        state = State.model_validate(inst.state) if inst.state else State()
        state.status, state.waiting, state.reason = "done", None, reason
        flow = self.definitions.get(s, inst.workspace_id, inst.flow_id, inst.version)
        self._apply(s, inst, flow, state, [Finished(reason)], now)

    def _apply(
        self,
        s: Session,
        inst: FlowInstance,
        flow: FlowDefinition,
        state: State,
        commands: list[Any],
        now: datetime,
        who: Person | None = None,
    ) -> None:
        repo = InstanceRepository(s)
        inst.state = state.model_dump(mode="json")
        inst.node = state.waiting.node if state.waiting is not None else None
        inst.status = "done" if state.status == "done" else "waiting"
        inst.updated_at = now
        ref = ref_of(inst)
        if any(isinstance(c, (Sleep, Finished)) for c in commands):
            repo.clear_timers(inst.id)
        for command in commands:
            if isinstance(command, Entered):
                inst.entered_at, inst.control = now, command.control
            elif isinstance(command, Sleep):
                repo.add_timer(inst, command.token, command.until)
            elif isinstance(command, Act):
                self.executor.act(
                    s, ref, flow, command.node, command.key, command.control, now, who
                )
            elif isinstance(command, Finished):
                inst.finished_at, inst.reason = now, command.reason[:200]
        repo.set_waits(inst, waits_of(flow, state))
        record(s, ref, [command_dict(c) for c in commands], control=inst.control, now=now)


def _start_input(now: datetime, tz: str) -> Make:
    """The start, as of when the person entered (the triggering event's arrival), not when
    the worker got to it: an hour's absence window is an hour after the cart."""

    def make(row: dict[str, Any], who: Person) -> Input:
        entered = min(row["trigger_at"] or row["created_at"], now)
        seed = f"{row['flow_id']}:{row['profile_id']}"
        return Start(who.facts(entered, tz), seed, dict(row["properties"] or {}))

    return make


def _event_input(event: str, props: dict[str, Any], at: datetime, tz: str) -> Make:
    """The event as of when it happened (a goal reached within the window counts)."""

    def make(_row: dict[str, Any], who: Person) -> Input:
        return EventSeen(who.facts(at, tz), event, props)

    return make


def _timer_input(token: int, now: datetime, tz: str) -> Make:
    def make(_row: dict[str, Any], who: Person) -> Input:
        return TimerFired(who.facts(now, tz), token)

    return make


def record(
    s: Session, ref: InstanceRef, commands: list[dict[str, Any]], *, control: bool, now: datetime
) -> None:
    """The step log: what the analytics count (entered, reached, finished)."""
    StepRepository(s).append(step_rows(ref, commands, control=control, now=now))


class EmbeddedPorts:
    """``FlowPorts`` on the state store, each call its own unit of work: what the Temporal
    runtime's activities call (the embedded runtime uses the same parts in its own units)."""

    def __init__(self, runtime: EmbeddedRuntime) -> None:
        self.runtime = runtime

    def _instance(self, s: Session, ref: InstanceRef) -> FlowInstance:
        inst = InstanceRepository(s).get(ref.workspace_id, ref.instance_id)
        if inst is None:
            raise LookupError(f"no journey instance {ref.instance_id}")
        return inst

    def load_facts(self, ref: InstanceRef, now: datetime) -> Facts:
        with self.runtime.db.session() as s:
            who = person(s, workspace_id=ref.workspace_id, profile_id=ref.profile_id)
            return who.facts(now, self.runtime.default_tz)

    def choose(self, ref: InstanceRef, node_id: str, now: datetime) -> str | None:
        with self.runtime.db.session() as s:
            flow = self.runtime.definitions.get(s, ref.workspace_id, ref.flow_id, ref.version)
            who = person(s, workspace_id=ref.workspace_id, profile_id=ref.profile_id)
            return self.runtime.executor.choose(s, ref, flow, node_id, who, now)

    def act(
        self, ref: InstanceRef, node_id: str, key: str, control: bool, now: datetime
    ) -> dict[str, Any]:
        with self.runtime.db.session() as s:
            flow = self.runtime.definitions.get(s, ref.workspace_id, ref.flow_id, ref.version)
            return self.runtime.executor.act(s, ref, flow, node_id, key, control, now)

    def record(self, ref: InstanceRef, commands: list[dict[str, Any]], now: datetime) -> None:
        """The step log, and the instance row kept in step (status, entry, exit) for the counts."""
        with self.runtime.db.session() as s:
            inst = self._instance(s, ref)
            for c in commands:
                if c["kind"] == "entered":
                    inst.entered_at, inst.control = now, bool(c["control"])
                elif c["kind"] == "finished":
                    inst.status, inst.finished_at = "done", now
                    inst.reason, inst.node = str(c["reason"])[:200], None
                elif c["kind"] in ("sleep", "listen", "choose") and inst.status != "done":
                    inst.status = "waiting"
                elif c["kind"] == "reached" and inst.status != "done":
                    inst.node = c["node"]
            inst.updated_at = now
            record(s, ref, commands, control=inst.control, now=now)


def _conforms(ports: EmbeddedPorts, runtime: EmbeddedRuntime) -> tuple[FlowPorts, FlowRuntime]:
    """Nothing calls this: mypy checks that the embedded parts satisfy the ports' protocols."""
    return ports, runtime
