"""The container as the surveys' endpoints and pages see it: link signer, templates, jobs."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from jinja2 import Environment

from safar.orchestration.deps import OrchestrationParts
from safar.surveys.tokens import LinkSigner


class SurveyParts(OrchestrationParts, Protocol):
    @property
    def survey_signer(self) -> LinkSigner: ...
    @property
    def survey_env(self) -> Environment: ...


async def get_parts(request: Request) -> SurveyParts:
    parts: SurveyParts = request.app.state.runtime
    return parts


SurveyDep = Annotated[SurveyParts, Depends(get_parts)]
