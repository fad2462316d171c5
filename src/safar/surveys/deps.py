"""The container as the surveys' endpoints and pages see it: link signer, templates, jobs."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends
from jinja2 import Environment

from safar.kit.deps import get_container
from safar.orchestration.deps import OrchestrationParts
from safar.surveys.tokens import LinkSigner


class SurveyParts(OrchestrationParts, Protocol):
    @property
    def survey_signer(self) -> LinkSigner: ...
    @property
    def survey_env(self) -> Environment: ...


SurveyDep = Annotated[SurveyParts, Depends(get_container)]
