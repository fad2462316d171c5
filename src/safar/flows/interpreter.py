"""The journey interpreter: one pure, deterministic step function that both runtimes run.

``advance(flow, state, input) -> (state, commands)``: no clock (the input carries ``now``), no
randomness (splits and the holdout hash the instance's seed), no I/O. The embedded runtime
stores the state in the instance row and turns the commands into timers, waits and jobs;
the Temporal runtime keeps the state in a workflow and turns them into timers, signals and
activities. The same definition and the same inputs give the same sends on both.

Conditions that need the stores (a branch on event history or a segment) are not evaluated
here: the interpreter stops with ``Choose`` and the runtime answers with ``Chosen``, so the
decision is recorded as an input (replayable on Temporal) instead of read behind its back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from safar.flows import dates
from safar.flows.definition import FlowDefinition
from safar.kit.conditions import PropertyCondition, matches

#: Nodes run in one step at most this many times (a guard; ``check`` refuses instant loops).
MAX_STEPS = 200


@dataclass(frozen=True, slots=True)
class Facts:
    """What the runtime knows of the profile when it hands an input in."""

    now: datetime
    tz: str = "Asia/Tehran"
    language: str = "fa"
    traits: Mapping[str, Any] = field(default_factory=dict)


# -- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Start:
    facts: Facts
    #: Stable per instance (flow, profile, entry): splits and the holdout hash it.
    seed: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerFired:
    facts: Facts
    token: int


@dataclass(frozen=True, slots=True)
class EventSeen:
    facts: Facts
    event: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chosen:
    """The runtime's answer to ``Choose``: the edge the branch takes (None ends the journey)."""

    facts: Facts
    token: int
    next: str | None


Input = Start | TimerFired | EventSeen | Chosen


# -- commands -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Entered:
    control: bool


@dataclass(frozen=True, slots=True)
class Reached:
    node: str
    visit: int


@dataclass(frozen=True, slots=True)
class Sleep:
    """Fire ``TimerFired(token)`` at ``until``."""

    until: datetime
    token: int


@dataclass(frozen=True, slots=True)
class Listen:
    """Hand ``EventSeen`` in when ``event`` arrives (``Sleep`` comes with it for the timeout)."""

    event: str
    where: tuple[PropertyCondition, ...]
    until: datetime
    token: int


@dataclass(frozen=True, slots=True)
class Choose:
    """Evaluate the branch ``node``'s rules for the profile; answer ``Chosen(token, next)``."""

    node: str
    token: int


@dataclass(frozen=True, slots=True)
class Act:
    """Run the action node once: ``key`` is its idempotency key within the instance.
    ``control``: a holdout instance; the runtime records what contacting actions
    (``definition.CONTACTING``) would have sent instead of sending it."""

    node: str
    visit: int
    key: str
    control: bool


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str


Command = Entered | Reached | Sleep | Listen | Choose | Act | Finished


# -- state ----------------------------------------------------------------------------------------
class Waiting(BaseModel):
    kind: Literal["timer", "event", "absence", "choice", "date"]
    node: str | None = None
    token: int
    until: datetime | None = None
    event: str | None = None
    where: list[PropertyCondition] = Field(default_factory=list)


class State(BaseModel):
    """An instance's whole state: JSON in the instance row, or a Temporal workflow's memory."""

    status: Literal["new", "waiting", "done"] = "new"
    seed: str = ""
    control: bool = False
    entered_at: datetime | None = None
    waiting: Waiting | None = None
    token: int = 0
    visits: dict[str, int] = Field(default_factory=dict)
    reason: str | None = None


def bucket(seed: str, salt: str) -> float:
    """A number in [0, 100) fixed by ``seed`` and ``salt``."""
    digest = hashlib.blake2b(f"{seed}\x00{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100


def advance(flow: FlowDefinition, state: State, event: Input) -> tuple[State, list[Command]]:
    """The instance's next state and what the runtime must do; ``state`` is not modified."""
    st = state.model_copy(deep=True)
    out: list[Command] = []
    if st.status == "done":
        return st, out
    if isinstance(event, Start):
        _start(flow, st, event, out)
    elif isinstance(event, EventSeen):
        _event(flow, st, event, out)
    elif isinstance(event, TimerFired):
        _timer(flow, st, event, out)
    elif isinstance(event, Chosen):
        w = st.waiting
        if w is not None and w.kind == "choice" and w.token == event.token:
            _run(flow, st, event.next, event.facts, out)
    return st, out


def _finish(st: State, reason: str, out: list[Command]) -> None:
    st.status, st.waiting, st.reason = "done", None, reason
    out.append(Finished(reason))


def _hold(st: State, out: list[Command], waiting: Waiting) -> None:
    st.status, st.waiting = "waiting", waiting
    if waiting.until is not None:
        out.append(Sleep(waiting.until, waiting.token))


def _next_token(st: State) -> int:
    st.token += 1
    return st.token


def _start(flow: FlowDefinition, st: State, event: Start, out: list[Command]) -> None:
    if st.status != "new":
        return
    st.seed = event.seed
    st.control = bucket(event.seed, "holdout") < flow.holdout_percent
    trigger, facts = flow.trigger, event.facts
    if trigger.type == "absence":
        until = facts.now + timedelta(seconds=trigger.within_s)
        token = _next_token(st)
        out.append(Listen(trigger.missing, (), until, token))
        _hold(st, out, Waiting(kind="absence", token=token, until=until, event=trigger.missing))
        return
    if trigger.type == "date":
        calendar = dates.profile_calendar(trigger.calendar, dict(facts.traits), facts.language)
        due = dates.next_yearly(
            facts.traits.get(trigger.trait),
            now=facts.now,
            tz=facts.tz,
            at=trigger.at,
            calendar=calendar,
            offset_days=trigger.offset_days,
        )
        if due is None:
            _finish(st, f"missing trait {trigger.trait}", out)
            return
        _hold(st, out, Waiting(kind="date", token=_next_token(st), until=due))
        return
    _enter(flow, st, facts, out)


def _enter(flow: FlowDefinition, st: State, facts: Facts, out: list[Command]) -> None:
    st.entered_at = facts.now
    out.append(Entered(st.control))
    if flow.goal is not None:
        until = facts.now + timedelta(days=flow.goal.within_days)
        out.append(Listen(flow.goal.event, tuple(flow.goal.where), until, 0))
    _run(flow, st, flow.start, facts, out)


def _event(flow: FlowDefinition, st: State, event: EventSeen, out: list[Command]) -> None:
    props = dict(event.properties)
    goal = flow.goal
    if (
        st.entered_at is not None
        and goal is not None
        and event.event == goal.event
        and matches(goal.where, props)
        and event.facts.now <= st.entered_at + timedelta(days=goal.within_days)
    ):
        _finish(st, "goal", out)
        return
    w = st.waiting
    if w is None or w.event != event.event or not matches(w.where, props):
        return
    if w.kind == "absence":
        _finish(st, "not entered: " + event.event, out)
    elif w.kind == "event":
        node = flow.node(w.node or "")
        _run(flow, st, node.on_event, event.facts, out)


def _timer(flow: FlowDefinition, st: State, event: TimerFired, out: list[Command]) -> None:
    w = st.waiting
    if w is None or w.token != event.token or w.kind == "choice":
        return  # a timer of a step the instance has left
    if w.kind in ("absence", "date"):
        _enter(flow, st, event.facts, out)
    elif w.kind == "timer":
        _run(flow, st, flow.node(w.node or "").next, event.facts, out)
    else:
        _run(flow, st, flow.node(w.node or "").on_timeout, event.facts, out)


def _run(
    flow: FlowDefinition, st: State, node_id: str | None, facts: Facts, out: list[Command]
) -> None:
    """Walk from ``node_id`` until the instance must wait or the journey ends."""
    st.waiting = None
    for _ in range(MAX_STEPS):
        if node_id is None:
            _finish(st, "completed", out)
            return
        node = flow.node(node_id)
        visit = st.visits.get(node_id, 0) + 1
        st.visits[node_id] = visit
        out.append(Reached(node_id, visit))
        kind = node.type
        if kind == "exit":
            _finish(st, f"exit: {node_id}", out)
            return
        if kind == "delay":
            until = _delay_until(node, facts)
            if until is None:
                _finish(st, f"missing trait {node.trait}", out)
                return
            _hold(st, out, Waiting(kind="timer", node=node_id, token=_next_token(st), until=until))
            return
        if kind == "wait":
            token = _next_token(st)
            until = facts.now + timedelta(seconds=node.timeout_s)
            out.append(Listen(node.event, tuple(node.where), until, token))
            waiting = Waiting(
                kind="event",
                node=node_id,
                token=token,
                until=until,
                event=node.event,
                where=list(node.where),
            )
            _hold(st, out, waiting)
            return
        if kind == "branch":
            token = _next_token(st)
            _hold(st, out, Waiting(kind="choice", node=node_id, token=token))
            out.append(Choose(node_id, token))
            return
        if kind == "split":
            node_id = _pick(node, st.seed)
            continue
        out.append(Act(node_id, visit, f"{node_id}:{visit}", st.control))
        node_id = node.next
    _finish(st, "loop guard", out)


def _pick(node: Any, seed: str) -> str | None:
    roll, edge = bucket(seed, f"split:{node.id}"), 0.0
    for path in node.paths:
        edge += path.percent
        if roll < edge:
            return path.next  # type: ignore[no-any-return]
    return node.paths[-1].next  # type: ignore[no-any-return]


def _delay_until(node: Any, facts: Facts) -> datetime | None:
    if node.mode == "duration":
        return facts.now + timedelta(seconds=node.seconds)
    if node.mode == "time_of_day":
        return dates.next_time_of_day(facts.now, tz=facts.tz, at=node.at)
    calendar = dates.profile_calendar(node.calendar, dict(facts.traits), facts.language)
    return dates.next_yearly(
        facts.traits.get(node.trait),
        now=facts.now,
        tz=facts.tz,
        at=node.at,
        calendar=calendar,
        offset_days=node.offset_days,
    )


def command_dict(command: Command) -> dict[str, Any]:
    """A command as JSON-ready data (the step log; Temporal activity arguments)."""
    data: dict[str, Any] = {"kind": type(command).__name__.lower()}
    for name in command.__slots__:
        value = getattr(command, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = [v.model_dump() for v in value]
        data[name] = value
    return data
