"""One scenario suite, two runtimes: the scenarios of ``factories.SCENARIOS`` on the embedded
runtime give the act keys and exits the pure interpreter gives (``test_temporal_runtime.py``
plays the same ones on Temporal)."""

from __future__ import annotations

import pytest

from safar.flows.models import FlowInstance
from safar.runtime import Runtime
from tests.flows.factories import (
    SCENARIOS,
    Clock,
    MemoryPorts,
    Scenario,
    acted_keys,
    enter_scenario,
    event,
    play_on_interpreter,
    pump,
    scenario_ref,
    step_time,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_embedded_runtime_acts_as_the_interpreter(
    scenario: Scenario, frt: Runtime, fws: str, clock: Clock
) -> None:
    reference = MemoryPorts({"p1": scenario.profile}, choices=scenario.choices)
    state = play_on_interpreter(scenario, reference, scenario_ref(scenario, "i1"))
    assert reference.act_keys("i1") == list(scenario.acts) and state.reason == scenario.reason

    clock.now = scenario.start
    instance_id = enter_scenario(frt, fws, clock, scenario).instance_id
    pump(frt)
    for step in scenario.steps:
        clock.now = step_time(step, clock.now)
        pump(frt)
        if step.event:
            event(frt, fws, clock, type="track", event=step.event, userId="u1")
            pump(frt)
    assert acted_keys(frt, instance_id) == list(scenario.acts)
    with frt.db.session() as s:
        inst = s.get(FlowInstance, instance_id)
        assert inst is not None and inst.reason == scenario.reason
