"""Request and response shapes of the journeys API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from safar.journeys.definitions import JourneyDefinition
from safar.journeys.personas import PersonaRule


class Period(BaseModel):
    since: datetime | None = None
    until: datetime | None = None


class DiscoverRequest(Period):
    top_variants: int | None = Field(default=None, ge=1, le=10_000)
    coverage: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="draw the graph from the most frequent variants covering this share of "
        "the customers (instead of top_variants)",
    )
    min_frequency: int = Field(default=1, ge=1)
    max_edges: int | None = Field(
        default=None, ge=1, le=10_000, description="most frequent edges kept"
    )
    max_variants: int = Field(default=1000, ge=1, le=100_000, description="variants listed")
    designed: list[str] | None = Field(
        default=None, description="designed activity order: also report conformance to it"
    )


class Edge(BaseModel):
    source: str
    target: str
    frequency: int
    median_seconds: float | None
    p90_seconds: float | None = None


class Variant(BaseModel):
    activities: list[str]
    count: int


class DiscoverResult(BaseModel):
    edges: list[Edge]
    variants: list[Variant]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    cases: int
    variant_count: int
    all_cases: int = Field(description="every customer, also those of the variants left out")
    kept_variants: int = Field(description="the variants the graph is drawn from")
    conformance: dict[str, Any] | None = None


class FunnelRequest(Period):
    steps: list[str] = Field(min_length=2, max_length=10)
    window: str | float = Field(default="7d", description="seconds, or 7d / 12h / 30m / 45s")
    dropped_limit: int = Field(default=0, ge=0, le=10_000)
    mode: Literal["strict", "any"] = Field(
        default="strict",
        description="strict: steps in this order; any: distinct steps in any order",
    )
    breakdown: str | None = Field(
        default=None,
        description="channel, persona, property:KEY (of the entry event) or trait:KEY",
        max_length=80,
    )
    breakdown_limit: int = Field(default=5, ge=1, le=50, description="top values; rest = other")
    personas: list[PersonaRule] | None = Field(
        default=None, description="rules of a persona breakdown (first match wins)"
    )

    @field_validator("steps")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("step names must not be empty")
        return v


class FunnelStepRead(BaseModel):
    level: int
    activity: str | None = Field(description="the step (strict order); null for any-order levels")
    cases: int
    conversion_from_start: float | None
    conversion_from_previous: float | None
    dropped: int
    median_seconds_from_previous: float | None
    p90_seconds_from_previous: float | None


class BreakdownGroupRead(BaseModel):
    value: str | None = Field(description="null: no value, or the other values together")
    other: bool
    customers: int
    steps: list[FunnelStepRead]
    dropped_sample: dict[str, list[str]]


class BreakdownRead(BaseModel):
    by: str
    limit: int
    groups: list[BreakdownGroupRead]


class FunnelResult(BaseModel):
    mode: Literal["strict", "any"]
    window_seconds: float
    steps: list[FunnelStepRead]
    dropped_sample: dict[str, list[str]]
    breakdown: BreakdownRead | None = None


class PathsRequest(Period):
    anchor: str = Field(min_length=1)
    direction: Literal["after", "before"] = "after"
    depth: int = Field(default=3, ge=1, le=10)
    top: int = Field(default=10, ge=1, le=100)
    per_step: int | None = Field(
        default=None, ge=1, le=50, description="Sankey: activities kept per step; rest = other"
    )


class DriversRequest(Period):
    target_event: str = Field(
        min_length=1, description="event carrying the score, e.g. survey_answered"
    )
    target_property: str = Field(min_length=1, max_length=80, description="e.g. nps, csat")
    unit: str = "points"
    max_events: int = Field(default=25, ge=1, le=100)


class JourneyMapRequest(Period):
    journey: JourneyDefinition
    window: str | float = Field(default="30d", description="window of the stage funnel")


class PersonasRequest(Period):
    k: int = Field(default=4, ge=2, le=12, description="personas to discover by clustering")
    rules: list[PersonaRule] | None = Field(
        default=None, description="rule-based personas on traits (first match wins)"
    )


class DroppedRequest(Period):
    steps: list[str] = Field(min_length=2, max_length=10)
    window: str | float = Field(default="7d", description="seconds, or 7d / 12h / 30m / 45s")
    mode: Literal["strict", "any"] = "strict"
    after_step: int = Field(ge=1, le=9, description="reached this step (1-based), not the next")


class DriverCustomersRequest(Period):
    target_event: str = Field(min_length=1)
    target_property: str = Field(min_length=1, max_length=80)
    factor: str = Field(min_length=1, max_length=300, description="a driver's factor name")
    max_events: int = Field(default=25, ge=1, le=100)


class CustomersResult(BaseModel):
    count: int
    profile_ids: list[str]
