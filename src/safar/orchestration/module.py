"""The orchestration domain: triggers, contact policies, the durable job scheduler and the
send path every message takes (surveys and journeys alike)."""

from typing import Any

from safar.kit.domain import Domain


def ingest_hook(runtime: Any) -> Any:
    """The runtime's trigger hook: it turns stored events into scheduled jobs."""
    return runtime.trigger_hook


module = Domain(
    name="orchestration",
    routers=("safar.orchestration.api:router",),
    models=("safar.orchestration.models",),
    ingest_hooks=("safar.orchestration.module:ingest_hook",),
    cli={"jobs": "safar.orchestration.cli:app"},
    privacy="safar.orchestration.privacy:handler",
)
