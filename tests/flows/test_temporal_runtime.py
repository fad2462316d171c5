"""The Temporal runtime on a real dev server: the same journeys give the same acts as the pure
interpreter, timers follow the injectable clock (a ``tick`` after each move), a worker restart
during a wait fires once, failing actions are retried and act once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("temporalio", reason="temporalio not installed (the Temporal journey runtime)")

from sqlalchemy import select
from temporalio.client import Client

from safar.flows.definition import parse
from safar.flows.models import FlowInstance
from safar.flows.ports import InstanceRef
from safar.flows.runtime import EmbeddedPorts, ref_of
from safar.flows.temporal import TemporalRuntime, TemporalWorker, workflow_id
from safar.flows.temporal.store import Forwarder, StorePorts, TemporalParts
from safar.identity import service as identity
from safar.kit.db import utcnow
from safar.runtime import Runtime
from tests.flows.factories import (
    SCENARIOS,
    Clock,
    MemoryPorts,
    Profile,
    Scenario,
    acted_keys,
    birthday_flow,
    cart_flow,
    detractor_flow,
    enter_scenario,
    event,
    play_on_interpreter,
    publish,
    scenario_ref,
    step_time,
    weekly_flow,
    welcome_flow,
)
from tests.orchestration.factories import Gateway

SETTLE_S = 30.0


@pytest.fixture
def task_queue() -> str:
    """A queue per test, so tests on the shared server never run each other's workflows."""
    return "safar-flows-test-" + uuid.uuid4().hex[:10]


@pytest.fixture
def runtime(temporal_address: str, task_queue: str) -> Iterator[TemporalRuntime]:
    rt = TemporalRuntime(address=temporal_address, task_queue=task_queue)
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def worker(
    ports: Any,
    clock: Callable[[], datetime],
    address: str,
    task_queue: str,
    sandboxed: bool = True,
) -> Iterator[TemporalWorker]:
    w = TemporalWorker(
        ports, clock=clock, address=address, task_queue=task_queue, threads=4, sandboxed=sandboxed
    )
    w.start()
    try:
        yield w
    finally:
        w.stop()


class Driver:
    """Plays inputs to instances and waits until each has handled what it was sent."""

    def __init__(self, runtime: TemporalRuntime) -> None:
        self.runtime = runtime
        self.sent: dict[str, int] = {}

    def start(self, ref: InstanceRef, definition: dict[str, Any], settle: bool = True) -> None:
        self.runtime.start(ref, definition, ref.instance_id, {})
        self.sent[ref.instance_id] = 0
        if settle:
            self.settle(ref)

    def tick(self, ref: InstanceRef, settle: bool = True) -> None:
        self.runtime.tick(ref)
        self.sent[ref.instance_id] += 1
        if settle:
            self.settle(ref)

    def deliver(self, ref: InstanceRef, event: str, at: datetime) -> None:
        self.runtime.deliver(ref, event, {}, at)
        self.sent[ref.instance_id] += 1
        self.settle(ref)

    def settle(self, ref: InstanceRef) -> dict[str, Any]:
        """The snapshot once the instance waits with all it was sent handled (or has ended)."""
        deadline = time.monotonic() + SETTLE_S
        snap: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                snap = self.runtime.snapshot(ref)
            except Exception:
                time.sleep(0.05)
                continue
            if snap["state"]["status"] == "done":
                self.runtime.result(ref)  # and the workflow has returned
                return snap
            if snap["idle"] and snap["received"] >= self.sent[ref.instance_id]:
                return snap
            time.sleep(0.05)
        raise AssertionError(f"instance {ref.instance_id} did not settle: {snap}")


def play_on_temporal(scenario: Scenario, driver: Driver, clock: Clock, ref: InstanceRef) -> Any:
    clock.now = scenario.start
    driver.start(ref, scenario.definition)
    for step in scenario.steps:
        clock.now = step_time(step, clock())
        driver.tick(ref)
        if step.event:
            driver.deliver(ref, step.event, clock())
    return driver.settle(ref)["state"]


def ref_for(name: str) -> InstanceRef:
    return InstanceRef("ws1", "flow-" + name, 1, name + "-" + uuid.uuid4().hex[:8], "p1")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_interpreter_and_temporal_act_on_the_same_keys(
    scenario: Scenario, temporal_address: str, task_queue: str, runtime: TemporalRuntime
) -> None:
    reference = MemoryPorts({"p1": scenario.profile}, choices=scenario.choices)
    ref = scenario_ref(scenario, "i-" + uuid.uuid4().hex[:8])
    state = play_on_interpreter(scenario, reference, ref)
    assert reference.act_keys(ref.instance_id) == list(scenario.acts)
    assert state.reason == scenario.reason

    ports = MemoryPorts({"p1": scenario.profile}, choices=scenario.choices)
    clock = Clock(scenario.start)
    with worker(ports, clock, temporal_address, task_queue):
        final = play_on_temporal(scenario, Driver(runtime), clock, ref)
    assert ports.act_keys(ref.instance_id) == list(scenario.acts)
    # each act ran once: no retry, no replay ran it again
    assert [key for _, key in ports.attempts] == list(scenario.acts)
    assert final["reason"] == scenario.reason


def test_the_cart_journey_waits_reminds_once_and_ends_on_purchase(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime, clock: Clock
) -> None:
    ports, driver, ref = MemoryPorts(), Driver(runtime), ref_for("cart")
    with worker(ports, clock, temporal_address, task_queue):
        driver.start(ref, cart_flow())
        snap = driver.settle(ref)
        assert snap["state"]["waiting"]["kind"] == "absence"
        assert snap["listens"] == {"1": "Order Completed"}
        # a tick before the hour is up changes nothing
        clock.advance(minutes=59)
        driver.tick(ref)
        assert ports.act_keys(ref.instance_id) == []
        clock.advance(minutes=1)
        driver.tick(ref)
        driver.tick(ref)  # a second tick at the same time does not remind again
        assert ports.attempts == [(ref.instance_id, "remind:1")]
        assert driver.settle(ref)["state"]["waiting"]["node"] == "wait_buy"
        clock.advance(hours=2)
        driver.deliver(ref, "Order Completed", clock())
        assert runtime.result(ref) == "goal"
    logged = ("entered", "reached", "finished")
    steps = [(c["kind"], c.get("node")) for _, c in ports.records if c["kind"] in logged]
    assert steps == [
        ("entered", None),
        ("reached", "remind"),
        ("reached", "wait_buy"),
        ("finished", None),
    ]
    assert ports.records[-1][1]["reason"] == "goal"
    # an event for an ended instance is dropped, not an error
    runtime.deliver(ref, "Order Completed", {}, clock())


def test_the_birthday_journey_sleeps_until_ten_tehran_time_on_the_jalali_day(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime, clock: Clock
) -> None:
    profile = Profile(traits={"birthday": "1369/02/27", "first_name": "سارا"})
    ports, driver, ref = MemoryPorts({"p1": profile}), Driver(runtime), ref_for("birthday")
    with worker(ports, clock, temporal_address, task_queue):
        driver.start(ref, birthday_flow())
        waiting = driver.settle(ref)["state"]["waiting"]
        assert datetime.fromisoformat(waiting["until"]) == datetime(2027, 5, 17, 6, 30, tzinfo=UTC)
        clock.now = datetime(2027, 5, 17, 6, 0, tzinfo=UTC)  # 09:30 in Tehran
        driver.tick(ref)
        assert ports.act_keys(ref.instance_id) == []
        clock.now = datetime(2027, 5, 17, 6, 30, tzinfo=UTC)
        driver.tick(ref)
        assert runtime.result(ref) == "completed"
    (outcome,) = ports.effects.values()
    assert outcome["node"] == "greet" and outcome["at"] == "2027-05-17T06:30:00+00:00"


def test_a_worker_restart_during_a_wait_fires_once(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime, clock: Clock
) -> None:
    ports, driver, ref = MemoryPorts(), Driver(runtime), ref_for("restart")
    with worker(ports, clock, temporal_address, task_queue):
        driver.start(ref, cart_flow())
    # the worker is gone; the hour passes and the tick waits on the server
    clock.advance(hours=1)
    driver.tick(ref, settle=False)
    with worker(ports, clock, temporal_address, task_queue):
        driver.settle(ref)
        assert ports.attempts == [(ref.instance_id, "remind:1")]
    # once more: a new worker replays the whole history and acts on nothing again
    with worker(ports, clock, temporal_address, task_queue):
        driver.tick(ref)
        clock.advance(days=1)
        driver.tick(ref)
        assert runtime.result(ref) == "completed"
    assert [key for _, key in ports.attempts] == ["remind:1", "again:1"]


@pytest.mark.parametrize("after_effect", [False, True], ids=["before", "after the effect"])
def test_a_failing_action_is_retried_and_acts_once(
    after_effect: bool,
    temporal_address: str,
    task_queue: str,
    runtime: TemporalRuntime,
    clock: Clock,
) -> None:
    ports = MemoryPorts(choices={"vip": "sorry"}, fail_acts=2, fail_after_effect=after_effect)
    driver, ref = Driver(runtime), ref_for("retry")
    with worker(ports, clock, temporal_address, task_queue):
        driver.start(ref, detractor_flow())
        assert runtime.result(ref) == "completed"
    assert ports.attempts == [(ref.instance_id, "sorry:1")] * 3
    assert ports.act_keys(ref.instance_id) == ["sorry:1"]


def test_a_second_start_of_an_instance_is_a_no_op(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime, clock: Clock
) -> None:
    ports, driver, ref = MemoryPorts(), Driver(runtime), ref_for("twice")
    with worker(ports, clock, temporal_address, task_queue):
        driver.start(ref, cart_flow())
        driver.start(ref, cart_flow())  # running: the same workflow
        clock.advance(hours=1)
        driver.tick(ref)
        runtime.start(ref, detractor_flow(), ref.instance_id, {})
        clock.advance(days=1)
        driver.tick(ref)
        assert runtime.result(ref) == "completed"
        runtime.start(ref, detractor_flow(), ref.instance_id, {})  # ended: never again
        time.sleep(0.5)
    assert [key for _, key in ports.attempts] == ["remind:1", "again:1"]


async def _runs(address: str, wid: str) -> tuple[str, str]:
    client = await Client.connect(address)
    desc = await client.get_workflow_handle(wid).describe()
    return desc.raw_description.workflow_execution_info.first_run_id, desc.run_id


def test_a_long_loop_continues_as_new_with_its_state(
    temporal_address: str, task_queue: str, clock: Clock
) -> None:
    runtime = TemporalRuntime(address=temporal_address, task_queue=task_queue, history_limit=25)
    ports, driver, ref = MemoryPorts(), Driver(runtime), ref_for("weekly")
    try:
        with worker(ports, clock, temporal_address, task_queue):
            driver.start(ref, weekly_flow())
            for _ in range(6):
                clock.advance(days=7)
                driver.tick(ref)
            snap = driver.settle(ref)
        first, current = asyncio.run(_runs(temporal_address, workflow_id(ref.instance_id)))
    finally:
        runtime.close()
    assert first != current
    assert snap["state"]["visits"] == {"nudge": 7, "week": 7}
    assert [key for _, key in ports.attempts] == [f"nudge:{i}" for i in range(1, 8)]


def test_with_the_real_clock_timers_fire_by_themselves(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime
) -> None:
    ports, driver, ref = MemoryPorts(), Driver(runtime), ref_for("welcome")
    with worker(ports, utcnow, temporal_address, task_queue):
        started = utcnow()
        driver.start(ref, welcome_flow(delay_s=2))
        assert ports.act_keys(ref.instance_id) == []
        assert runtime.result(ref, timeout=20) == "completed"  # no tick: the timer fired
    (outcome,) = ports.effects.values()
    sent = datetime.fromisoformat(outcome["at"])
    assert timedelta(seconds=2) <= sent - started < timedelta(seconds=10)


# -- on the state store: the real ports (identity graph, branch rules, message jobs) -----------
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_on_the_embedded_ports_temporal_acts_on_the_same_keys(
    scenario: Scenario,
    frt: Runtime,
    fws: str,
    clock: Clock,
    sms_gateway: Gateway,
    temporal_address: str,
    task_queue: str,
) -> None:
    """The embedded runtime's own ports under the Temporal workflow: the acts land as the
    state store's idempotent actions and message jobs, and the scheduler sends them."""
    clock.now = scenario.start
    ref = enter_scenario(frt, fws, clock, scenario)
    ports = EmbeddedPorts(frt.flows.runtime)
    runtime = TemporalRuntime(address=temporal_address, task_queue=task_queue, clock=clock)
    try:
        with worker(ports, clock, temporal_address, task_queue):
            final = play_on_temporal(scenario, Driver(runtime), clock, ref)
    finally:
        runtime.close()
    assert acted_keys(frt, ref.instance_id) == list(scenario.acts)
    with frt.db.session() as s:
        inst = s.get(FlowInstance, ref.instance_id)
        assert inst is not None
        assert inst.status == ("done" if scenario.reason else "waiting")
        assert inst.reason == scenario.reason
    assert final["reason"] == scenario.reason
    frt.scheduler.run_due()
    flow = parse(scenario.definition)
    sms = [
        key
        for key in scenario.acts
        if getattr(flow.node(key.split(":")[0]), "channel", "") == "sms"
    ]
    assert len(sms_gateway.wait(len(sms))) == len(sms)


def until(check: Callable[[], Any], timeout: float = SETTLE_S) -> Any:
    """The first truthy answer of ``check`` (polled), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"still not so after {timeout} s: {check}")


def instance_of(rt: Runtime, ws: str, user: str) -> FlowInstance | None:
    with rt.db.session() as s:
        profile_id = identity.lookup(s, workspace_id=ws, type_="user_id", value=user)
        found = s.scalars(select(FlowInstance).where(FlowInstance.profile_id == profile_id))
        inst = found.first()
        if inst is not None:
            s.expunge(inst)
        return inst


def test_the_cart_journey_end_to_end_on_temporal_through_ingestion(
    frt: Runtime,
    fws: str,
    clock: Clock,
    sms_gateway: Gateway,
    temporal_address: str,
    task_queue: str,
) -> None:
    """Events in through the ingest path, instances out to Temporal by the forwarder, the
    purchase back in through the waits the workflow keeps on the store, one SMS out."""
    for name in ("Product Added", "Order Completed"):
        event(frt, fws, clock, type="track", event=name, userId="seed")
    publish(frt, fws, cart_flow())
    for user, name in (("sara", "سارا"), ("john", "John")):
        traits = {"first_name": name, "phone": "+989121234567", "language": "fa"}
        event(frt, fws, clock, type="identify", userId=user, traits=traits)
        event(frt, fws, clock, type="track", event="Product Added", userId=user)
    runtime = TemporalRuntime(address=temporal_address, task_queue=task_queue, clock=clock)
    forwarder = Forwarder(frt.flows.runtime, runtime)

    def status(user: str) -> tuple[str, str | None]:
        inst = instance_of(frt, fws, user)
        assert inst is not None
        return inst.status, inst.reason

    try:
        with worker(StorePorts(frt.flows.runtime), clock, temporal_address, task_queue):
            assert forwarder.run_due() == 2
            until(lambda: status("sara")[0] == status("john")[0] == "waiting")
            clock.advance(minutes=30)
            event(frt, fws, clock, type="track", event="Order Completed", userId="john")
            assert forwarder.run_due() == 1  # the inbox row the waits led the hook to write
            until(lambda: status("john") == ("done", "not entered: Order Completed"))
            clock.advance(minutes=31)
            sara = instance_of(frt, fws, "sara")
            assert sara is not None
            runtime.tick(ref_of(sara))
            until(lambda: acted_keys(frt, sara.id) == ["remind:1"])
            frt.scheduler.run_due()
            (sms,) = sms_gateway.wait(1)
            assert sms["body"]["text"] == "سارا عزیز، سبد شما منتظر است."
            clock.advance(hours=3)
            event(frt, fws, clock, type="track", event="Order Completed", userId="sara")
            assert forwarder.run_due() == 1
            until(lambda: status("sara") == ("done", "goal"))
            clock.advance(days=2)
            runtime.tick(ref_of(sara))  # ended: dropped
            frt.scheduler.run_due()
    finally:
        runtime.close()
    assert len(sms_gateway.received) == 1 and acted_keys(frt, sara.id) == ["remind:1"]


def test_the_temporal_parts_run_an_api_entry_in_the_background(
    frt: Runtime, fws: str, clock: Clock, temporal_address: str, task_queue: str
) -> None:
    """What ``SAFAR_FLOWS_RUNTIME=temporal`` runs: the forwarder's thread and a worker."""
    settings = frt.settings.model_copy(
        update={"temporal_address": temporal_address, "temporal_task_queue": task_queue}
    )
    event(frt, fws, clock, type="identify", userId="u1", traits={"phone": "+989121234567"})
    flow_id = publish(frt, fws, welcome_flow(delay_s=3600))
    parts = TemporalParts(settings, frt.flows.runtime)
    parts.start()
    try:
        with frt.db.session() as s:
            profile_id = identity.lookup(s, workspace_id=fws, type_="user_id", value="u1")
            instance_id = frt.flows.enter(
                s, workspace_id=fws, flow_id=flow_id, profile_id=profile_id, key="k1", properties={}
            )
        assert instance_id is not None  # the entry's commit woke the forwarder
        until(lambda: (instance_of(frt, fws, "u1") or FlowInstance()).node == "pause")
        inst = instance_of(frt, fws, "u1")
        assert inst is not None and acted_keys(frt, instance_id) == []
        clock.advance(hours=1)
        parts.runtime.tick(ref_of(inst))
        until(lambda: acted_keys(frt, instance_id) == ["hello:1"])
        until(lambda: (instance_of(frt, fws, "u1") or FlowInstance()).reason == "completed")
    finally:
        parts.stop()


def test_a_merge_during_a_wait_sends_one_message_on_temporal(
    frt: Runtime, fws: str, clock: Clock, temporal_address: str, task_queue: str
) -> None:
    """The same person added to the cart on the web (anonymous) and in the app (user id): two
    instances; an identify joins them while they wait; only the older one reminds."""
    for name in ("Product Added", "Order Completed"):
        event(frt, fws, clock, type="track", event=name, userId="seed")
    publish(frt, fws, cart_flow())
    event(frt, fws, clock, type="track", event="Product Added", anonymousId="anon-7")
    clock.advance(seconds=1)
    event(frt, fws, clock, type="track", event="Product Added", userId="u7")
    runtime = TemporalRuntime(address=temporal_address, task_queue=task_queue, clock=clock)
    forwarder = Forwarder(frt.flows.runtime, runtime)

    def rows() -> list[FlowInstance]:
        with frt.db.session() as s:
            found = list(s.scalars(select(FlowInstance).order_by(FlowInstance.created_at)))
            s.expunge_all()
            return found

    try:
        with worker(StorePorts(frt.flows.runtime), clock, temporal_address, task_queue):
            assert forwarder.run_due() == 2
            until(lambda: [i.status for i in rows()] == ["waiting", "waiting"])
            event(frt, fws, clock, type="identify", userId="u7", anonymousId="anon-7")
            clock.advance(hours=1)
            for inst in rows():
                runtime.tick(ref_of(inst))
            until(lambda: [i.status for i in rows()] == ["waiting", "done"])
            older, newer = rows()
            until(lambda: acted_keys(frt, older.id) == ["remind:1"])
            assert runtime.result(ref_of(newer)).startswith("merged into")
    finally:
        runtime.close()
    older, newer = rows()
    assert acted_keys(frt, newer.id) == [] and newer.reason == f"merged into {older.id}"
    assert older.profile_id == newer.profile_id  # both follow the person


def test_without_the_sandbox_the_scenarios_act_the_same(
    temporal_address: str, task_queue: str, runtime: TemporalRuntime
) -> None:
    for scenario in SCENARIOS[:2]:
        ports = MemoryPorts({"p1": scenario.profile}, choices=scenario.choices)
        ref = scenario_ref(scenario, "u-" + uuid.uuid4().hex[:8])
        clock = Clock(scenario.start)
        with worker(ports, clock, temporal_address, task_queue, sandboxed=False):
            final = play_on_temporal(scenario, Driver(runtime), clock, ref)
        assert ports.act_keys(ref.instance_id) == list(scenario.acts)
        assert final["reason"] == scenario.reason
