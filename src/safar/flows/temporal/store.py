"""The Temporal runtime on Safar's state store: what joins the workflows to the flows service.

The flows service and the ingest hook work the same whichever runtime runs: an entry writes an
instance row (status ``new``) in the caller's unit of work, and an event an instance waits for
becomes an inbox row, found through the instance's waits. With ``SAFAR_FLOWS_RUNTIME=temporal``
the ``Forwarder`` hands those rows to Temporal (a new instance -> its workflow, an inbox row ->
an ``event`` signal), each in the unit of work that claims the row, so a crash in between
hands it again (a second start is a no-op). ``StorePorts`` are the embedded ports plus the
instance row's state and waits, kept in step with the workflow, so the hook keeps finding the
instances an event concerns and the dashboard sees where each one waits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safar.config import Settings
from safar.flows.batch import waits_of
from safar.flows.interpreter import State
from safar.flows.ports import InstanceRef
from safar.flows.repository import FlowQueue, InstanceRepository, VersionRepository
from safar.flows.runtime import PASS_LIMIT, EmbeddedPorts, EmbeddedRuntime, Pump, ref_of
from safar.flows.temporal.runtime import TemporalRuntime, TemporalWorker
from safar.flows.temporal.workflow import InstanceClosed


class StorePorts(EmbeddedPorts):
    """``EmbeddedPorts`` that also keep the instance's state, node and waits (the workflow's
    ``record`` activity calls ``record_state`` when the ports have it)."""

    def record_state(
        self, ref: InstanceRef, commands: list[dict[str, Any]], state: dict[str, Any], now: datetime
    ) -> None:
        self.record(ref, commands, now)
        st = State.model_validate(state)
        with self.runtime.db.session() as s:
            inst = InstanceRepository(s).get(ref.workspace_id, ref.instance_id)
            if inst is None:
                return
            flow = self.runtime.definitions.get(s, ref.workspace_id, ref.flow_id, ref.version)
            inst.state = state
            if st.status != "done":
                inst.node = st.waiting.node if st.waiting is not None else None
            InstanceRepository(s).set_waits(inst, waits_of(flow, st))

    def act(
        self, ref: InstanceRef, node_id: str, key: str, control: bool, now: datetime
    ) -> dict[str, Any]:
        """Act, unless a merge made the person's older instance of the flow the one that goes
        on: then this one ends as merged (as the embedded runtime ends it), and the workflow
        with it, so a merged person hears once."""
        closed: str | None = None
        with self.runtime.db.session() as s:
            inst = InstanceRepository(s).get(ref.workspace_id, ref.instance_id)
            if inst is not None and self.runtime.follow(s, inst, now) is None:
                closed = inst.reason or "merged"
        if closed is not None:
            raise InstanceClosed(closed)
        return super().act(ref, node_id, key, control, now)


class Forwarder(Pump):
    """Hands new instances and inbox events from the state store to Temporal, and runs the
    schedule and date-trait sweeps (which enter people) as the embedded worker would."""

    def __init__(self, embedded: EmbeddedRuntime, temporal: TemporalRuntime) -> None:
        # The embedded worker's own wake-up (it does not run in this mode): whatever wakes it
        # (the ingest hook, an API entry's commit) wakes the forwarder, with no new wiring.
        super().__init__(embedded.wake_event, embedded.interval_s)
        self.embedded = embedded
        self.temporal = temporal

    def run_due(self, limit: int = PASS_LIMIT) -> int:
        """Forward what is waiting; how many rows were handed on."""
        db, now = self.embedded.db, self.embedded.clock()
        sweeper = self.embedded.sweeper
        done = sweeper.run(now) if sweeper is not None else 0
        with db.session() as s:
            new = FlowQueue(s).new_ids(limit)
        for instance_id in new:
            with db.session() as s:
                queue = FlowQueue(s)
                inst = queue.instance(instance_id)
                if inst is None or not queue.claim_new(instance_id):
                    continue
                version = VersionRepository(s).of(inst.workspace_id, inst.flow_id, inst.version)
                assert version is not None, f"flow {inst.flow_id} has no version {inst.version}"
                seed = f"{inst.flow_id}:{inst.profile_id}"  # as the embedded runtime seeds it
                props = dict(inst.properties or {})
                definition = dict(version.definition)
                self.temporal.start(
                    ref_of(inst),
                    definition,
                    seed,
                    props,
                    entered_at=inst.trigger_at or inst.created_at,
                )
                done += 1
        with db.session() as s:
            rows = FlowQueue(s).inbox(limit)
            inbox = [(i.id, i.instance_id, i.event, dict(i.properties), i.at) for i in rows]
        for inbox_id, instance_id, event, props, at in inbox:
            with db.session() as s:
                queue = FlowQueue(s)
                inst = queue.instance(instance_id)
                if not queue.drop_inbox(inbox_id) or inst is None:
                    continue
                if inst.status != "done":
                    self.temporal.deliver(ref_of(inst), event, props, at)
                done += 1
        return done

    what = "flows (Temporal forwarder)"

    def wake(self) -> None:
        self.embedded.wake()


class TemporalParts:
    """What ``SAFAR_FLOWS_RUNTIME=temporal`` runs in a Safar process, in place of the embedded
    worker: the forwarder's thread and (``worker=True``) a Temporal worker on the store ports.
    More workers can run in other processes on the same task queue."""

    def __init__(self, settings: Settings, embedded: EmbeddedRuntime, *, worker: bool = True):
        self.runtime = TemporalRuntime.from_settings(settings, clock=embedded.clock)
        self.forwarder = Forwarder(embedded, self.runtime)
        ports = StorePorts(embedded)
        self.worker = (
            TemporalWorker.from_settings(settings, ports, embedded.clock) if worker else None
        )

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()
        self.forwarder.start_worker()

    def wake(self) -> None:
        self.forwarder.wake()

    def stop(self) -> None:
        self.forwarder.stop()
        if self.worker is not None:
            self.worker.stop()
        self.runtime.close()
