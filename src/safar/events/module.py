"""The events domain: Segment-compatible ingest, the log, the pipeline and the event store."""

from safar.kit.domain import Domain

module = Domain(
    name="events",
    routers=(
        "safar.events.api:router",
        "safar.events.sdk_api:router",
        "safar.events.import_api:router",
    ),
    models=("safar.events.models",),
    pages=("safar.web.pages.overview", "safar.web.pages.imports"),
    cli={"import": "safar.events.cli:app", "dead-letter": "safar.events.dead_letter_cli:app"},
)
