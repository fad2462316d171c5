"""The journeys domain: funnels, paths, process discovery, drivers, personas, XES."""

from safar.kit.domain import Domain

module = Domain(
    name="journeys",
    routers=("safar.journeys.api:router",),
    pages=("safar.web.pages.journeys", "safar.web.pages.journey_customers"),
    cli={
        "journeys": "safar.journeys.cli:journeys_app",
        "drivers": "safar.journeys.cli:drivers_cmd",
    },
)
