"""Journeys on Temporal: one workflow per instance, running the same interpreter as the embedded
runtime (``SAFAR_FLOWS_RUNTIME=temporal``; the only package that imports ``temporalio``, so
import it only in that mode). ``workflow.py``: the workflow, its activities and payloads;
``runtime.py``: the runtime and the worker for a synchronous app; ``store.py``: what joins them
to the state store (the forwarder, the store ports, ``TemporalParts``).

What runs where. ``TemporalRuntime`` (in the app) starts a ``JourneyWorkflow`` per instance
(workflow id ``safar-flow-<instance_id>``; a second start of the id is a no-op) and hands it
events as ``event`` signals. ``TemporalWorker`` (in the app or a process of its own) polls the
task queue on a background thread with its own event loop: the workflow keeps the interpreter's
``State`` in memory, replays it from its history after a restart, and reaches the rest of Safar
only through activities that call the ``FlowPorts`` (facts, branch choices, idempotent actions,
the step log) in a thread pool, because the ports are synchronous database code. An action is
retried with backoff, and the ports' ``act`` is idempotent by key, so a retry never sends twice.
Reads and the step log run as local activities (no round trip through the server).

The clock. Safar's clock is injectable (tests pass a fake one), and a workflow cannot read it:
the ``load_facts`` activity runs before each input and supplies the app clock's ``now``, which
is the only "now" the interpreter sees. A ``Sleep(until)`` becomes a Temporal timer for
``until - now`` (``workflow.wait_condition(..., timeout=...)``); when it fires, the workflow
loads the facts again and feeds ``TimerFired`` once the app clock has reached ``until`` (else it
waits for the rest). A ``tick`` signal does the same at once: a test that moves its fake clock
forward signals ``tick`` instead of waiting in real time. In production the clock is real time
and the timers fire by themselves.

Long loops (a weekly nudge) would grow the history without end; past ``history_limit`` events
(or when the server suggests it) the workflow continues as new with its state, subscriptions and
unhandled signals.
"""

from safar.flows.temporal.runtime import TemporalRuntime, TemporalWorker
from safar.flows.temporal.workflow import JourneyActivities, JourneyWorkflow, workflow_id

__all__ = [
    "JourneyActivities",
    "JourneyWorkflow",
    "TemporalRuntime",
    "TemporalWorker",
    "workflow_id",
]
