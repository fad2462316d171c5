"""The journey workflow, its activities (the ports) and what crosses its boundary.

Imported into Temporal's workflow sandbox: everything Safar it uses is pure and passed through
(``PASSTHROUGH``). How the clock and the timers work is in the package docstring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # Pure and deterministic (pydantic models, the interpreter): the sandbox may share them.
    from safar.flows.definition import FlowDefinition
    from safar.flows.interpreter import (
        Act,
        Choose,
        Chosen,
        EventSeen,
        Facts,
        Input,
        Listen,
        Start,
        State,
        TimerFired,
        advance,
        command_dict,
    )
    from safar.flows.ports import FlowPorts, InstanceRef
    from safar.kit.container import Clock

WORKFLOW_NAME = "SafarJourney"
#: Modules the workflow sandbox passes through instead of re-importing per workflow run.
PASSTHROUGH = ("safar", "pydantic", "pydantic_core", "jdatetime", "croniter", "zoneinfo")
#: Continue as new past this many history events (about 20 per timer-and-send round).
HISTORY_LIMIT = 2_000
#: A timer that fires this close before the app clock's ``until`` counts as due.
TIMER_SLACK = timedelta(seconds=1)
#: Timers fired for one clock move at most (each fired step schedules its next timer later).
MAX_FIRES = 100
#: Shortest wait (a zero timeout would make ``wait_condition`` time out at once).
MIN_WAIT_S = 1.0
#: Actions (and the other port calls) are retried without end, backing off up to 5 minutes:
#: an action that cannot run stays in the workflow, visible, instead of being dropped.
PORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)
PORT_TIMEOUT = timedelta(seconds=60)


class InstanceClosed(Exception):
    """Raised by ports whose store ended the instance on its own (a merge kept another one of
    the same person): the workflow ends with the message as its reason, acting no more."""


CLOSED = "InstanceClosed"


def workflow_id(instance_id: str) -> str:
    return f"safar-flow-{instance_id}"


# -- what crosses the workflow boundary (JSON through Temporal's data converter) -----------------
@dataclass
class EventSignal:
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    at: str | None = None


@dataclass
class JourneyInput:
    ref: InstanceRef
    definition: dict[str, Any]
    seed: str
    properties: dict[str, Any] = field(default_factory=dict)
    history_limit: int = HISTORY_LIMIT
    #: Carried over by continue-as-new: the interpreter state, subscriptions, unread signals.
    state: dict[str, Any] | None = None
    listens: dict[str, str] = field(default_factory=dict)
    inbox: list[EventSignal] = field(default_factory=list)
    tick: bool = False
    received: int = 0
    #: When the person entered, by the app's clock (the Start input's now when earlier).
    entered_at: str | None = None


@dataclass
class FactsData:
    now: str
    tz: str
    language: str
    traits: dict[str, Any]

    def facts(self) -> Facts:
        return Facts(datetime.fromisoformat(self.now), self.tz, self.language, self.traits)


@dataclass
class NodeCall:
    """A branch to choose (``choose``) or an action to run (``act``, with key and control)."""

    ref: InstanceRef
    node: str
    now: str
    key: str = ""
    control: bool = False


@dataclass
class RecordInput:
    ref: InstanceRef
    commands: list[dict[str, Any]]
    now: str
    #: The interpreter state after the commands, for ports that keep it (``record_state``).
    state: dict[str, Any] | None = None


# -- activities: the ports, in the worker's thread pool ---------------------------------------
class JourneyActivities:
    """The ``FlowPorts`` as activities; ``now`` for facts comes from the app's clock."""

    def __init__(self, ports: FlowPorts, clock: Clock) -> None:
        self._ports = ports
        self._clock = clock

    @activity.defn(name="safar.flows.load_facts")
    def load_facts(self, ref: InstanceRef) -> FactsData:
        facts = self._ports.load_facts(ref, self._clock())
        # Traits may hold dates and other non-JSON values; the history keeps them as text.
        traits = json.loads(json.dumps(dict(facts.traits), default=str))
        return FactsData(facts.now.isoformat(), facts.tz, facts.language, traits)

    @activity.defn(name="safar.flows.choose")
    def choose(self, data: NodeCall) -> str | None:
        return self._ports.choose(data.ref, data.node, datetime.fromisoformat(data.now))

    @activity.defn(name="safar.flows.act")
    def act(self, data: NodeCall) -> dict[str, Any]:
        now = datetime.fromisoformat(data.now)
        try:
            outcome = self._ports.act(data.ref, data.node, data.key, data.control, now)
        except InstanceClosed as exc:
            raise ApplicationError(str(exc), type=CLOSED, non_retryable=True) from None
        return json.loads(json.dumps(outcome, default=str))  # type: ignore[no-any-return]

    @activity.defn(name="safar.flows.record")
    def record(self, data: RecordInput) -> None:
        now = datetime.fromisoformat(data.now)
        # Ports on a store (``store.StorePorts``) also keep the state and the waits it implies.
        keep = getattr(self._ports, "record_state", None)
        if keep is not None and data.state is not None:
            keep(data.ref, data.commands, data.state, now)
        else:
            self._ports.record(data.ref, data.commands, now)

    def all(self) -> list[Any]:
        return [self.load_facts, self.choose, self.act, self.record]


async def _port(method: Any, arg: Any, *, local: bool = True) -> Any:
    """Call a port as an activity, retried with backoff (see ``PORT_RETRY``).

    Reads and the step log run as local activities (in the worker, without a round trip
    through the server); actions as ordinary ones, which the server tracks and retries even
    when the worker that took them dies."""
    call = workflow.execute_local_activity_method if local else workflow.execute_activity_method
    return await call(method, arg, start_to_close_timeout=PORT_TIMEOUT, retry_policy=PORT_RETRY)


# -- the workflow ---------------------------------------------------------------------------
@workflow.defn(name=WORKFLOW_NAME)
class JourneyWorkflow:
    """One journey instance: the interpreter's state, fed by signals, timers and activities."""

    def __init__(self) -> None:
        self._state = State()
        self._inbox: list[EventSignal] = []
        self._tick = False
        #: Subscriptions from ``Listen``: token -> event name (token 0 is the goal).
        self._listens: dict[int, str] = {}
        #: The app clock at the last facts load, and the workflow's own time then.
        self._now: datetime | None = None
        self._loaded_at: datetime | None = None
        #: Signals received, and whether the instance sits in its wait with nothing unhandled
        #: (``snapshot`` reports both, so a caller knows its signals were acted upon).
        self._received = 0
        self._idle = False

    @workflow.signal
    def event(self, name: str, properties: dict[str, Any], at: str | None = None) -> None:
        self._inbox.append(EventSignal(name, properties, at))
        self._received, self._idle = self._received + 1, False

    @workflow.signal
    def tick(self) -> None:
        """The app clock moved: reload the facts and fire the timer if it is due."""
        self._tick = True
        self._received, self._idle = self._received + 1, False

    @workflow.query
    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self._state.model_dump(mode="json"),
            "listens": {str(k): v for k, v in self._listens.items()},
            "inbox": len(self._inbox),
            "received": self._received,
            "idle": self._idle,
        }

    @workflow.run
    async def run(self, data: JourneyInput) -> str:
        flow = FlowDefinition.model_validate(data.definition)
        self._inbox, self._tick = list(data.inbox), data.tick
        self._received += data.received
        if data.state is None:
            facts = await self._facts(data.ref)
            if data.entered_at is not None:
                # The journey starts when the person entered, not when a worker got to it.
                facts = replace(facts, now=min(facts.now, datetime.fromisoformat(data.entered_at)))
            await self._advance(flow, data.ref, Start(facts, data.seed, data.properties), facts)
        else:
            self._state = State.model_validate(data.state)
            self._listens = {int(k): v for k, v in data.listens.items()}
        while self._state.status != "done":
            if self._inbox:
                signal = self._inbox.pop(0)
                if signal.name in self._listens.values():
                    facts = await self._facts(data.ref)
                    if signal.at is not None:
                        # As of when it happened: a goal reached within its window counts.
                        facts = replace(facts, now=datetime.fromisoformat(signal.at))
                    seen = EventSeen(facts, signal.name, signal.properties)
                    await self._advance(flow, data.ref, seen, facts)
                continue
            if self._tick:
                self._tick = False
                await self._fire_if_due(flow, data.ref)
                continue
            if self._history_full(data.history_limit):
                workflow.continue_as_new(self._carry(data))
            await self._wait()
        return self._state.reason or ""

    async def _facts(self, ref: InstanceRef) -> Facts:
        data: FactsData = await _port(JourneyActivities.load_facts, ref)
        facts = data.facts()
        self._now, self._loaded_at = facts.now, workflow.now()
        return facts

    async def _fire_if_due(self, flow: FlowDefinition, ref: InstanceRef) -> None:
        """Fire the timer if the app clock reached it, and the next ones it makes due."""
        facts: Facts | None = None
        for _ in range(MAX_FIRES):
            w = self._state.waiting
            if self._state.status == "done" or w is None or w.until is None:
                return
            facts = facts or await self._facts(ref)
            if facts.now + TIMER_SLACK < w.until:
                return
            await self._advance(flow, ref, TimerFired(facts, w.token), facts)

    async def _advance(
        self, flow: FlowDefinition, ref: InstanceRef, event: Input, facts: Facts
    ) -> None:
        """Feed one input: hand all its commands to ``record`` (the step log keeps entered,
        reached and finished; store ports also keep the state and its waits), run its actions,
        and answer a ``Choose`` the same way. The record comes first so the store listens for
        the reply to a message before the message goes; the workflow keeps the new state only
        once the actions ran, so ``snapshot`` never shows a step whose actions are to come."""
        pending: Input | None = event
        # The ports act at the app clock's now (an event's facts carry when it happened).
        now = (self._now or facts.now).isoformat()
        while pending is not None:
            state, commands = advance(flow, self._state, pending)
            pending = None
            if commands:
                steps = [command_dict(c) for c in commands]
                entry = RecordInput(ref, steps, now, state.model_dump(mode="json"))
                await _port(JourneyActivities.record, entry)
            for command in commands:
                if isinstance(command, Act):
                    act = NodeCall(ref, command.node, now, command.key, command.control)
                    if not await self._act(act):
                        return
                elif isinstance(command, Listen):
                    self._listens[command.token] = command.event
            keep = {0, state.waiting.token} if state.waiting is not None else {0}
            self._listens = {k: v for k, v in self._listens.items() if k in keep}
            self._state = state
            choose = next((c for c in commands if isinstance(c, Choose)), None)
            if choose is not None:
                choice = NodeCall(ref, choose.node, now)
                edge: str | None = await _port(JourneyActivities.choose, choice)
                pending = Chosen(facts, choose.token, edge)

    async def _act(self, call: NodeCall) -> bool:
        """Run the action; False when the store had closed the instance (then it is done)."""
        try:
            await _port(JourneyActivities.act, call, local=False)
        except ActivityError as exc:
            cause = exc.cause
            if not (isinstance(cause, ApplicationError) and cause.type == CLOSED):
                raise
            self._state = self._state.model_copy(
                update={"status": "done", "waiting": None, "reason": cause.message}
            )
            return False
        return True

    async def _wait(self) -> None:
        """Until a signal, or the timer of the step the instance waits in."""
        timeout: float | None = None
        w = self._state.waiting
        if w is not None and w.until is not None and self._now and self._loaded_at:
            # The app clock, extrapolated by the workflow's time since the facts were loaded.
            now = self._now + (workflow.now() - self._loaded_at)
            timeout = max((w.until - now).total_seconds(), MIN_WAIT_S)
        self._idle = True
        try:
            await workflow.wait_condition(lambda: bool(self._inbox) or self._tick, timeout=timeout)
        except TimeoutError:
            self._tick = True
        self._idle = False

    def _history_full(self, limit: int) -> bool:
        info = workflow.info()
        return info.get_current_history_length() > limit or info.is_continue_as_new_suggested()

    def _carry(self, data: JourneyInput) -> JourneyInput:
        return replace(
            data,
            state=self._state.model_dump(mode="json"),
            listens={str(k): v for k, v in self._listens.items()},
            inbox=list(self._inbox),
            tick=self._tick,
            received=self._received,
        )
