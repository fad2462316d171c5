"""Journey definitions: named stages mapped from events and conditions, and a designed order.

A definition is data (sent with a request or kept by the caller); it becomes SQL through
``queries.stage_expr``. Example: "order to delivery" with stages browse (page views), buy
(``order_completed``), delivery (``order_delivered``), support (any event on the phone or chat
channel) and the designed order browse -> buy -> delivery.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from safar.errors import ValidationFailed
from safar.journeys.queries_cx import StageRule


class StageDefinition(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    events: list[str] = Field(default_factory=list, description="event names (track) or page names")
    types: list[str] = Field(default_factory=list, description="message types: track, page, ...")
    channels: list[str] = Field(default_factory=list, description="web, app, email, phone, ...")
    property: str | None = Field(default=None, max_length=80, description="property to test")
    equals: str | None = Field(default=None, description="value the property must have")

    @model_validator(mode="after")
    def _has_condition(self) -> StageDefinition:
        if not (self.events or self.types or self.channels or self.property):
            raise ValueError(f"stage {self.name!r} needs events, types, channels or a property")
        return self

    def rule(self) -> StageRule:
        return StageRule(
            name=self.name,
            events=tuple(self.events),
            types=tuple(self.types),
            channels=tuple(self.channels),
            prop=self.property,
            equals=self.equals,
        )


class JourneyDefinition(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    stages: list[StageDefinition] = Field(min_length=1, max_length=30)
    designed_order: list[str] | None = Field(
        default=None, description="the intended (future-state) order; default: stages as listed"
    )

    @model_validator(mode="after")
    def _names(self) -> JourneyDefinition:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique")
        return self

    def order(self) -> list[str]:
        names = [s.name for s in self.stages]
        order = self.designed_order or names
        unknown = [o for o in order if o not in names]
        if unknown:
            raise ValidationFailed(
                f"designed_order: unknown stages {', '.join(map(repr, unknown))}",
                field="designed_order",
            )
        return order

    def rules(self) -> list[StageRule]:
        return [s.rule() for s in self.stages]
