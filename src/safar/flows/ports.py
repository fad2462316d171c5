"""What a journey runtime needs from the installation, whichever runtime it is.

The interpreter is pure; a runtime owns where the state lives and when inputs arrive
(the embedded runtime: instance, timer and wait rows in the state store, run by the
scheduler; Temporal: one workflow per instance). Both reach the rest of Safar only through
these operations, so facts, branch decisions, actions and the step log are the same code on
both, and an action is idempotent by its key whoever retries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from safar.flows.interpreter import Facts


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """One running journey: its workspace, flow version and the profile it is about."""

    workspace_id: str
    flow_id: str
    version: int
    instance_id: str
    profile_id: str


class FlowPorts(Protocol):
    def load_facts(self, ref: InstanceRef, now: datetime) -> Facts:
        """The profile's time zone, language and traits now (the survivor's after a merge)."""
        ...

    def choose(self, ref: InstanceRef, node_id: str, now: datetime) -> str | None:
        """The edge the branch ``node_id`` takes for the profile (its first rule that holds)."""
        ...

    def act(
        self, ref: InstanceRef, node_id: str, key: str, control: bool, now: datetime
    ) -> dict[str, Any]:
        """Run the action node once per ``key`` (a second call returns the first outcome)."""
        ...

    def record(self, ref: InstanceRef, commands: list[dict[str, Any]], now: datetime) -> None:
        """Append the step log (entered, reached, finished) the journey analytics count."""
        ...


class FlowRuntime(Protocol):
    """Where instances run: ``EmbeddedRuntime`` (state-store rows, the scheduler's timers) or
    ``TemporalRuntime`` (one workflow per instance). The flows service decides who enters
    (trigger, re-entry rules, one instance per key) and which instances an event concerns;
    the runtime only runs them."""

    name: str

    def start(
        self, ref: InstanceRef, definition: dict[str, Any], seed: str, properties: dict[str, Any]
    ) -> None:
        """Run a new instance from its ``Start`` input (idempotent per instance id)."""
        ...

    def deliver(
        self, ref: InstanceRef, event: str, properties: dict[str, Any], at: datetime
    ) -> None:
        """Hand an event that concerns the instance (a wait, the goal, an absence) to it."""
        ...
