"""The surveys domain: NPS/CSAT/CES surveys, invitations, public answer pages, metrics."""

from typing import Any

from safar.kit.domain import Domain

#: ``surveys.service.EMIT_TASK`` and ``surveys.tasks.ACTION``, written out so declaring the
#: domain stays cheap (tests/kit/test_domains.py checks they match).
EMIT_TASK = "surveys.emit_event"
ACTION = "survey"


def survey_action(runtime: Any) -> Any:
    """The message action that invites a profile to a survey."""
    from safar.surveys.tasks import SurveyAction

    settings = runtime.settings
    return SurveyAction(
        runtime.survey_signer, settings.resolved_public_url(), runtime.survey_env, settings.timezone
    )


def emit_task(runtime: Any) -> Any:
    """The task that stores a survey answer as an event through the runtime's applier."""
    from safar.events.pipeline import store_rows_task

    return store_rows_task(runtime.applier)


module = Domain(
    name="surveys",
    routers=("safar.surveys.api:router", "safar.surveys.pages:router"),
    pages=("safar.web.pages.surveys", "safar.web.pages.survey_builder"),
    models=("safar.surveys.models",),
    tasks={EMIT_TASK: "safar.surveys.module:emit_task"},
    actions={ACTION: "safar.surveys.module:survey_action"},
    cli={"surveys": "safar.surveys.cli:app"},
    privacy="safar.surveys.privacy:handler",
)
