"""The segments domain: saved audiences over traits, event history and consent."""

from typing import Any

from safar.kit.domain import Domain

#: ``segments.service.EMIT_TASK`` and ``REFRESH_TASK``, written out so declaring the domain
#: stays cheap (tests/segments checks they match).
EMIT_TASK = "segments.emit_events"
REFRESH_TASK = "segments.refresh"


def emit_task(runtime: Any) -> Any:
    """The task storing segment change events through the runtime's applier."""
    from safar.events.pipeline import store_rows_task

    return store_rows_task(runtime.applier)


def refresh_task(runtime: Any) -> Any:
    """The periodic task refreshing a workspace's segments."""
    from safar.segments.tasks import refresh_task as make

    return make(runtime)


module = Domain(
    name="segments",
    routers=("safar.segments.api:router",),
    models=("safar.segments.models",),
    tasks={
        EMIT_TASK: "safar.segments.module:emit_task",
        REFRESH_TASK: "safar.segments.module:refresh_task",
    },
    cli={"segments": "safar.segments.cli:app"},
    privacy="safar.segments.privacy:handler",
)
