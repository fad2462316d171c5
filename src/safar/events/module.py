"""The events domain: Segment-compatible ingest, the log, the pipeline and the event store."""

from safar.kit.domain import Domain

module = Domain(
    name="events",
    routers=("safar.events.api:router",),
    pages=("safar.web.pages.overview",),
    cli={"import": "safar.events.cli:app"},
)
