"""The container as the journeys API sees it: the flow engine."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends

from safar.flows.engine import FlowEngine
from safar.kit.container import Container
from safar.kit.deps import get_container


class FlowParts(Container[Any], Protocol):
    @property
    def flows(self) -> FlowEngine: ...


FlowsDep = Annotated[FlowParts, Depends(get_container)]
