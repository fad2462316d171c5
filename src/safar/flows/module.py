"""The flows domain: journey orchestration (versioned journeys, triggers, steps, holdouts)."""

from typing import Any

from safar.kit.domain import Domain

#: ``flows.actions.EMIT_TASK`` and ``MESSAGE_ACTION``, written out so declaring the domain stays
#: cheap (tests/kit/test_domains.py checks they match).
EMIT_TASK = "flows.emit_events"
MESSAGE_ACTION = "flow.message"


def emit_task(runtime: Any) -> Any:
    """Stores the events a journey writes (traits set, cases asked for) through the applier."""
    from safar.events.pipeline import store_rows_task

    return store_rows_task(runtime.applier)


def message_action(runtime: Any) -> Any:
    from safar.flows.messages import FlowMessage

    return FlowMessage(runtime.settings.timezone)


def ingest_hook(runtime: Any) -> Any:
    """Wakes the journey runtime after entries and inbox rows were committed."""
    return runtime.flows.hook


module = Domain(
    name="flows",
    routers=("safar.flows.api:router",),
    pages=("safar.web.pages.flows",),
    models=("safar.flows.models",),
    tasks={EMIT_TASK: "safar.flows.module:emit_task"},
    actions={MESSAGE_ACTION: "safar.flows.module:message_action"},
    ingest_hooks=("safar.flows.module:ingest_hook",),
    cli={"flows": "safar.flows.cli:app"},
    privacy="safar.flows.privacy:handler",
)
