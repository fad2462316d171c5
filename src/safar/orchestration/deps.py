"""The container as orchestration's endpoints see it: the scheduler and its ingest hook."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends

from safar.kit.container import Container
from safar.kit.deps import get_container
from safar.orchestration.scheduler import Scheduler, TriggerHook


class OrchestrationParts(Container[Any], Protocol):
    @property
    def scheduler(self) -> Scheduler: ...
    @property
    def trigger_hook(self) -> TriggerHook: ...


OrchestrationDep = Annotated[OrchestrationParts, Depends(get_container)]
