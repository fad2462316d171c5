"""Running journeys on Temporal from Safar's synchronous, threaded app: the runtime the flows
service calls (start, deliver) and the worker that runs the workflows and activities."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from safar.config import Settings
from safar.flows.ports import FlowPorts, InstanceRef
from safar.flows.temporal.workflow import (
    HISTORY_LIMIT,
    PASSTHROUGH,
    JourneyActivities,
    JourneyInput,
    JourneyWorkflow,
    workflow_id,
)
from safar.kit.container import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")


class _LoopThread:
    """An asyncio loop on a daemon thread, for calling the async SDK from sync code."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class TemporalRuntime:
    """``FlowRuntime`` on Temporal: ``start`` starts the instance's workflow, ``deliver`` signals
    it. Connects on first use, so the app starts while the cluster is still coming up."""

    name = "temporal"

    def __init__(
        self,
        *,
        address: str,
        namespace: str = "default",
        task_queue: str = "safar-flows",
        history_limit: int = HISTORY_LIMIT,
        clock: Clock | None = None,
    ) -> None:
        self.address, self.namespace, self.task_queue = address, namespace, task_queue
        self.history_limit = history_limit
        #: The app's clock: an instance starts when it was started, not when a worker took it.
        self.clock = clock
        self._loop = _LoopThread("safar-temporal-client")
        self._client: Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> TemporalRuntime:
        return cls(
            address=settings.temporal_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.temporal_task_queue,
            clock=clock,
        )

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = self._loop.run(
                    Client.connect(self.address, namespace=self.namespace)
                )
            return self._client

    def start(
        self,
        ref: InstanceRef,
        definition: dict[str, Any],
        seed: str,
        properties: dict[str, Any],
        *,
        entered_at: datetime | None = None,
    ) -> None:
        """Start the instance (a no-op when it runs or ran); ``entered_at``: when the person
        entered, if earlier than now (the forwarder passes the instance row's creation)."""
        data = JourneyInput(ref, definition, seed, dict(properties), self.history_limit)
        entered = entered_at or (self.clock() if self.clock is not None else None)
        data.entered_at = entered.isoformat() if entered is not None else None
        self._loop.run(self._start(self.client(), data))

    async def _start(self, client: Client, data: JourneyInput) -> None:
        try:
            await client.start_workflow(
                JourneyWorkflow.run,
                data,
                id=workflow_id(data.ref.instance_id),
                task_queue=self.task_queue,
                # Running: keep it; finished: refuse, so one instance id runs once.
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.debug("journey instance %s already ran", data.ref.instance_id)

    def deliver(
        self, ref: InstanceRef, event: str, properties: dict[str, Any], at: datetime
    ) -> None:
        args = [event, dict(properties), at.isoformat()]
        self._loop.run(self._signal(self.client(), ref, "event", args))

    def tick(self, ref: InstanceRef) -> None:
        """Tell the instance the app clock moved (tests with a fake clock; see the module)."""
        self._loop.run(self._signal(self.client(), ref, "tick", []))

    async def _signal(self, client: Client, ref: InstanceRef, signal: str, args: list[Any]) -> None:
        handle = client.get_workflow_handle(workflow_id(ref.instance_id))
        try:
            await handle.signal(signal, args=args)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            log.debug("journey instance %s has ended; %s dropped", ref.instance_id, signal)

    def snapshot(self, ref: InstanceRef) -> dict[str, Any]:
        """The instance's interpreter state and subscriptions (a workflow query)."""
        handle = self.client().get_workflow_handle(workflow_id(ref.instance_id))
        return self._loop.run(handle.query(JourneyWorkflow.snapshot))

    def result(self, ref: InstanceRef, timeout: float = 30.0) -> str:
        """Wait for the instance to end; its reason (``goal``, ``completed``, ...)."""
        handle = self.client().get_workflow_handle(workflow_id(ref.instance_id))
        return self._loop.run(handle.result(), timeout)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._loop.close()


class TemporalWorker:
    """Runs the journey workflows and their activities for one task queue, on a background
    thread with its own event loop; ``start`` returns once the worker polls."""

    def __init__(
        self,
        ports: FlowPorts,
        *,
        clock: Clock,
        address: str,
        namespace: str = "default",
        task_queue: str = "safar-flows",
        threads: int = 8,
        sandboxed: bool = True,
    ) -> None:
        self._activities = JourneyActivities(ports, clock)
        self.address, self.namespace, self.task_queue = address, namespace, task_queue
        self._threads = threads
        #: Temporal's sandbox guards the workflow against non-deterministic code; the journey
        #: code is pure, so a trusted deployment may drop it (about 1.6x the throughput here).
        self.sandboxed = sandboxed
        self._loop: _LoopThread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._worker: Worker | None = None
        self._running: Future[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, ports: FlowPorts, clock: Clock) -> TemporalWorker:
        return cls(
            ports,
            clock=clock,
            address=settings.temporal_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.temporal_task_queue,
        )

    def start(self) -> None:
        if self._worker is not None:
            return
        self._loop = _LoopThread("safar-temporal-worker")
        self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="safar-flow-act")
        self._worker = self._loop.run(self._build(self._executor))
        self._running = self._loop.submit(self._worker.run())

    async def _build(self, executor: ThreadPoolExecutor) -> Worker:
        client = await Client.connect(self.address, namespace=self.namespace)
        restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
        return Worker(
            client,
            task_queue=self.task_queue,
            workflows=[JourneyWorkflow],
            activities=self._activities.all(),
            activity_executor=executor,
            max_concurrent_activities=self._threads,
            workflow_runner=(
                SandboxedWorkflowRunner(restrictions=restrictions)
                if self.sandboxed
                else UnsandboxedWorkflowRunner()
            ),
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling, let running activities finish, and end the thread."""
        if self._worker is None or self._loop is None:
            return
        try:
            self._loop.run(self._worker.shutdown(), timeout)
            if self._running is not None:
                self._running.result(timeout)
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            self._loop.close()
            self._worker = self._loop = self._executor = self._running = None
