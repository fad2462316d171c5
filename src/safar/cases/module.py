"""The cases domain: owned follow-ups with an event log, opened by rules, journeys and API."""

from typing import Any

from safar.kit.domain import Domain

#: ``cases.service.EMIT_TASK``, written out so declaring the domain stays cheap
#: (tests/cases checks they match).
EMIT_TASK = "cases.emit_events"


def emit_task(runtime: Any) -> Any:
    """The task storing case changes as timeline events through the runtime's applier."""
    from safar.events.pipeline import store_rows_task

    return store_rows_task(runtime.applier)


def rules_writer(runtime: Any) -> Any:
    """Opens the cases that newly ingested events ask for, in the identity transaction."""
    from safar.cases.tasks import CaseRules

    return CaseRules(runtime.jobs, runtime.clock).write


module = Domain(
    name="cases",
    routers=("safar.cases.api:router",),
    models=("safar.cases.models",),
    tasks={EMIT_TASK: "safar.cases.module:emit_task"},
    ingest_writes=("safar.cases.module:rules_writer",),
    privacy="safar.cases.privacy:handler",
)
