"""The events domain: Segment-compatible ingest, the log, the pipeline and the event store."""

from safar.kit.domain import Domain

module = Domain(
    name="events",
    routers=("safar.events.api:router", "safar.events.sdk_api:router"),
    models=("safar.events.models",),
    pages=("safar.web.pages.overview",),
    cli={"import": "safar.events.cli:app", "dead-letter": "safar.events.dead_letter_cli:app"},
)
