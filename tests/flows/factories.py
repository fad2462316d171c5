"""Journey definitions the flow tests share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from safar.flows.definition import parse
from safar.flows.interpreter import (
    Act,
    Choose,
    Chosen,
    EventSeen,
    Facts,
    Input,
    Start,
    State,
    TimerFired,
    advance,
)
from safar.flows.ports import InstanceRef


def cart_flow(**changes: Any) -> dict[str, Any]:
    """Added to cart, no purchase within an hour: a reminder, then a second one a day later;
    a purchase ends it as a conversion."""
    flow: dict[str, Any] = {
        "name": "Abandoned cart",
        "trigger": {
            "type": "absence",
            "event": "Product Added",
            "missing": "Order Completed",
            "within_s": 3600,
        },
        "start": "remind",
        "nodes": [
            {
                "id": "remind",
                "type": "send",
                "channel": "sms",
                "texts": {
                    "fa": {
                        "body": "{{ traits.first_name | default('مشتری') }} عزیز، سبد شما منتظر است."
                    },
                    "en": {
                        "body": "{{ traits.first_name | default('Hi') }}, your cart is waiting."
                    },
                },
                "next": "wait_buy",
            },
            {
                "id": "wait_buy",
                "type": "wait",
                "event": "Order Completed",
                "timeout_s": 86400,
                "on_event": None,
                "on_timeout": "again",
            },
            {
                "id": "again",
                "type": "send",
                "channel": "email",
                "texts": {"en": {"subject": "Still there?", "body": "Your cart misses you."}},
            },
        ],
        "goal": {"event": "Order Completed", "within_days": 7},
    }
    flow.update(changes)
    return flow


def birthday_flow(**changes: Any) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "name": "Birthday SMS",
        "trigger": {"type": "date", "trait": "birthday", "at": "10:00", "calendar": "jalali"},
        "start": "greet",
        "nodes": [
            {
                "id": "greet",
                "type": "send",
                "channel": "sms",
                "texts": {
                    "fa": {"body": "{{ traits.first_name }} جان، تولدت مبارک!"},
                    "en": {"body": "Happy birthday, {{ traits.first_name }}!"},
                },
            }
        ],
        "policy": {"topic": "transactional", "consent_purpose": None},
    }
    flow.update(changes)
    return flow


class Clock:
    """A settable clock for the runtime (``Runtime(clock=...)``)."""

    def __init__(self, now: Any) -> None:
        self.now = now

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> Any:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
        return self.now


def event(runtime: Any, workspace_id: str, clock: Clock, **msg: Any) -> dict[str, Any]:
    """Apply one Segment message at the clock's time through the one ingestion path."""
    import uuid

    from safar.events.messages import normalize, parse_message

    msg.setdefault("messageId", "m-" + uuid.uuid4().hex)
    msg.setdefault("timestamp", clock.now.isoformat())
    row = normalize(parse_message(msg), workspace_id=workspace_id, received_at=clock.now)
    runtime.applier.apply([row])
    return dict(row)


def publish(runtime: Any, workspace_id: str, definition: dict[str, Any]) -> str:
    """Create and publish a journey through the engine; its id."""
    from safar.flows import service

    with runtime.db.session() as s:
        flow = service.create_flow(
            s, workspace_id=workspace_id, definition=definition, user="test", now=runtime.clock()
        )
        runtime.flows.publish(s, workspace_id=workspace_id, flow_id=flow.id)
        return flow.id


def pump(runtime: Any, rounds: int = 5) -> int:
    """Run the journey worker and the scheduler by hand until nothing is left to do."""
    total = 0
    for _ in range(rounds):
        n = runtime.flows.runtime.run_due() + runtime.scheduler.run_due()
        total += n
        if n == 0:
            break
    return total


def weekly_flow() -> dict[str, Any]:
    """A nudge every week without end: a loop through a delay (the history keeps growing)."""
    return {
        "name": "Weekly nudge",
        "trigger": {"type": "api"},
        "start": "nudge",
        "nodes": [
            {
                "id": "nudge",
                "type": "send",
                "channel": "sms",
                "texts": {"fa": {"body": "x"}},
                "next": "week",
            },
            {"id": "week", "type": "delay", "seconds": 604800, "next": "nudge"},
        ],
    }


def welcome_flow(delay_s: int = 3600) -> dict[str, Any]:
    """A pause, then a hello: the shortest timer a journey can hold."""
    return {
        "name": "Welcome",
        "trigger": {"type": "api"},
        "start": "pause",
        "nodes": [
            {"id": "pause", "type": "delay", "seconds": delay_s, "next": "hello"},
            {"id": "hello", "type": "send", "channel": "sms", "texts": {"fa": {"body": "سلام"}}},
        ],
    }


def detractor_flow() -> dict[str, Any]:
    """A branch the runtime answers (``FlowPorts.choose``): gold customers get a case."""
    return {
        "name": "Detractor recovery",
        "trigger": {"type": "survey", "result": "detractor"},
        "start": "vip",
        "nodes": [
            {
                "id": "vip",
                "type": "branch",
                "rules": [
                    {
                        "conditions": [{"kind": "trait", "key": "tier", "value": "gold"}],
                        "next": "call",
                    }
                ],
                "otherwise": "sorry",
            },
            {"id": "call", "type": "case", "subject": "Call this gold customer"},
            {
                "id": "sorry",
                "type": "send",
                "channel": "email",
                "texts": {"en": {"subject": "Sorry", "body": "We are sorry."}},
            },
        ],
    }


# -- a clock and ports a runtime can run on without the stores ------------------------------------
@dataclass
class Profile:
    tz: str = "Asia/Tehran"
    language: str = "fa"
    traits: dict[str, Any] = field(default_factory=dict)


class MemoryPorts:
    """``FlowPorts`` on dicts, thread-safe (activities run in threads): ``act`` is idempotent by
    (instance, key) as the real ports are; every attempt is kept apart from the effects, and
    ``fail_acts`` makes the first attempts fail (before or after the effect) to test retries."""

    def __init__(
        self,
        profiles: dict[str, Profile] | None = None,
        *,
        choices: dict[str, str | None] | None = None,
        fail_acts: int = 0,
        fail_after_effect: bool = False,
    ) -> None:
        self.profiles = profiles or {}
        self.choices = choices or {}
        self.fail_acts = fail_acts
        self.fail_after_effect = fail_after_effect
        self.attempts: list[tuple[str, str]] = []
        self.effects: dict[tuple[str, str], dict[str, Any]] = {}
        self.records: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def load_facts(self, ref: InstanceRef, now: datetime) -> Facts:
        p = self.profiles.get(ref.profile_id, Profile())
        return Facts(now=now, tz=p.tz, language=p.language, traits=dict(p.traits))

    def choose(self, ref: InstanceRef, node_id: str, now: datetime) -> str | None:
        return self.choices.get(node_id)

    def act(
        self, ref: InstanceRef, node_id: str, key: str, control: bool, now: datetime
    ) -> dict[str, Any]:
        with self._lock:
            self.attempts.append((ref.instance_id, key))
            failing = len(self.attempts) <= self.fail_acts
            if failing and not self.fail_after_effect:
                raise RuntimeError(f"the channel is down (attempt {len(self.attempts)})")
            outcome = self.effects.setdefault(
                (ref.instance_id, key),
                {"node": node_id, "control": control, "at": now.isoformat(), "status": "sent"},
            )
            if failing:
                raise RuntimeError(f"the reply was lost (attempt {len(self.attempts)})")
            return outcome

    def record(self, ref: InstanceRef, commands: list[dict[str, Any]], now: datetime) -> None:
        with self._lock:
            self.records.extend((ref.instance_id, c) for c in commands)

    def act_keys(self, instance_id: str) -> list[str]:
        """The keys the instance acted on, each once, in the order they took effect."""
        with self._lock:
            return [key for (inst, key) in self.effects if inst == instance_id]


# -- scenarios: the same journeys, moves and events on every runtime ------------------------------
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    """Move the clock (``move``, or to ``to``), let due timers fire, then deliver ``event``."""

    move: timedelta = timedelta(0)
    to: datetime | None = None
    event: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    definition: dict[str, Any]
    steps: tuple[Step, ...]
    #: What every runtime must have acted on (keys, in order) and why the instance ended
    #: (None: still running).
    acts: tuple[str, ...]
    reason: str | None
    profile: Profile = field(default_factory=Profile)
    choices: dict[str, str | None] = field(default_factory=dict)
    start: datetime = T0


HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SCENARIOS = (
    Scenario(
        "cart abandoned", cart_flow(), (Step(HOUR), Step(DAY)), ("remind:1", "again:1"), "completed"
    ),
    Scenario(
        "cart bought after the reminder",
        cart_flow(),
        (Step(HOUR), Step(2 * HOUR, event="Order Completed")),
        ("remind:1",),
        "goal",
    ),
    Scenario(
        "cart bought within the hour",
        cart_flow(),
        (Step(timedelta(minutes=10), event="Order Completed"), Step(DAY)),
        (),
        "not entered: Order Completed",
    ),
    Scenario(
        "jalali birthday at ten tehran time",
        birthday_flow(),
        # 27 Ordibehesht falls on 2027-05-17; 10:00 +03:30 is 06:30 UTC
        (Step(to=datetime(2027, 5, 17, 6, 29, tzinfo=UTC)), Step(timedelta(minutes=1))),
        ("greet:1",),
        "completed",
        profile=Profile(traits={"birthday": "1990-05-17", "first_name": "Sara"}),
    ),
    Scenario(
        "weekly loop",
        weekly_flow(),
        tuple(Step(timedelta(days=7)) for _ in range(5)),
        tuple(f"nudge:{i}" for i in range(1, 7)),
        None,
    ),
    Scenario(
        "gold detractor",
        detractor_flow(),
        (),
        ("call:1",),
        "completed",
        profile=Profile(traits={"tier": "gold"}),
        choices={"vip": "call"},
    ),
)


def scenario_ref(scenario: Scenario, instance_id: str) -> InstanceRef:
    return InstanceRef("ws1", "flow-" + scenario.name.replace(" ", "-"), 1, instance_id, "p1")


def step_time(step: Step, now: datetime) -> datetime:
    return step.to if step.to is not None else now + step.move


def play_on_interpreter(scenario: Scenario, ports: MemoryPorts, ref: InstanceRef) -> State:
    """The reference run: the pure interpreter driven directly, its commands sent to ``ports``."""
    flow = parse(scenario.definition)

    def feed(st: State, event: Input, facts: Facts) -> State:
        pending: Input | None = event
        while pending is not None:
            st, out = advance(flow, st, pending)
            pending = None
            for c in out:
                if isinstance(c, Act):
                    ports.act(ref, c.node, c.key, c.control, facts.now)
                elif isinstance(c, Choose):
                    pending = Chosen(facts, c.token, ports.choose(ref, c.node, facts.now))
        return st

    now = scenario.start
    st = feed(
        State(), Start(ports.load_facts(ref, now), seed=ref.instance_id), ports.load_facts(ref, now)
    )
    for step in scenario.steps:
        now = step_time(step, now)
        facts = ports.load_facts(ref, now)
        while (
            st.status == "waiting" and st.waiting and st.waiting.until and st.waiting.until <= now
        ):
            st = feed(st, TimerFired(facts, st.waiting.token), facts)
        if step.event:
            st = feed(st, EventSeen(facts, step.event, step.properties), facts)
    return st


def enter_scenario(rt: Any, ws: str, clock: Clock, scenario: Scenario) -> InstanceRef:
    """The scenario's person (user ``u1``) and journey in a real installation, and a new
    instance of it (status ``new``: whichever runtime is under test starts it)."""
    from safar.flows import service as flows
    from safar.flows.runtime import ref_of
    from safar.identity import service as identity

    for name in ("Product Added", "Order Completed"):
        event(rt, ws, clock, type="track", event=name, userId="seed")
    traits = {"phone": "+989121234567", "email": "u1@example.com", **scenario.profile.traits}
    event(rt, ws, clock, type="identify", userId="u1", traits=traits)
    flow_id = publish(rt, ws, scenario.definition)
    with rt.db.session() as s:
        flow = flows.get_flow(s, workspace_id=ws, flow_id=flow_id)
        inst = flows.enter(
            s,
            flow=flow,
            definition=flows.live_definition(s, flow),
            profile_id=identity.lookup(s, workspace_id=ws, type_="user_id", value="u1"),
            entry_key="test:1",
            properties={},
            now=clock(),
        )
        assert inst is not None
        return ref_of(inst)


def acted_keys(rt: Any, instance_id: str) -> list[str]:
    """The keys of the state store's actions of one instance, in the order they ran."""
    from sqlalchemy import select

    from safar.flows.models import FlowAction

    with rt.db.session() as s:
        query = select(FlowAction.key).where(FlowAction.instance_id == instance_id)
        return list(s.scalars(query.order_by(FlowAction.id)))


#: ``pumps(rt)()`` runs what is due on the runtime under test (fixture ``pumps``).
Pumps = Callable[[Any], Callable[[], int]]


class TemporalPump:
    """``pump`` for the Temporal runtime: what the forwarder hands on goes to a real worker, each
    live instance is told the clock moved (``tick``) and waited for until it has acted on
    everything it was sent, then the scheduler sends. Used as a context manager (the worker
    runs inside it); a call returns how much was done, as ``pump`` does."""

    SETTLE_S = 30.0

    def __init__(self, rt: Any, clock: Clock, address: str) -> None:
        import uuid

        from safar.flows.temporal import TemporalRuntime, TemporalWorker
        from safar.flows.temporal.store import Forwarder, StorePorts

        queue = "safar-flows-test-" + uuid.uuid4().hex[:10]
        self.rt = rt
        self.temporal = TemporalRuntime(address=address, task_queue=queue, clock=clock)
        self.forwarder = Forwarder(rt.flows.runtime, self.temporal)
        self.worker = TemporalWorker(
            StorePorts(rt.flows.runtime), clock=clock, address=address, task_queue=queue, threads=4
        )

    def __enter__(self) -> TemporalPump:
        self.worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.worker.stop()
        finally:
            self.temporal.close()

    def _live(self) -> list[Any]:
        from sqlalchemy import select

        from safar.flows.models import FlowInstance
        from safar.flows.runtime import ref_of

        with self.rt.db.session() as s:
            rows = s.scalars(select(FlowInstance).where(FlowInstance.status != "done"))
            return [ref_of(i) for i in rows if i.status != "new"]

    def _where(self) -> list[tuple[str, str, str | None]]:
        from sqlalchemy import select

        from safar.flows.models import FlowInstance

        with self.rt.db.session() as s:
            rows = s.scalars(select(FlowInstance).order_by(FlowInstance.id))
            return [(i.id, i.status, i.node) for i in rows]

    def settle(self, ref: Any) -> None:
        """Until the workflow has ended, or sits in its wait with every signal handled (a
        query sees every signal the server accepted before it)."""
        import time

        deadline = time.monotonic() + self.SETTLE_S
        snap: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                snap = self.temporal.snapshot(ref)
            except Exception:  # not started by the worker yet, or just ended
                snap = {}
            if snap.get("state", {}).get("status") == "done" or (
                snap.get("idle") and not snap.get("inbox")
            ):
                return
            if not snap and self._ended(ref.instance_id):
                return
            time.sleep(0.05)
        raise AssertionError(f"instance {ref.instance_id} did not settle: {snap}")

    def _ended(self, instance_id: str) -> bool:
        return any(i == instance_id and status == "done" for i, status, _ in self._where())

    def __call__(self, rounds: int = 5) -> int:
        total = 0
        for _ in range(rounds):
            before = self._where()
            n = self.forwarder.run_due()
            live = self._live()
            for ref in live:
                self.temporal.tick(ref)
            for ref in live:
                self.settle(ref)
            n += self.rt.scheduler.run_due()
            total += n
            if n == 0 and self._where() == before:
                break
        return total
