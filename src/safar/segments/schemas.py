"""Segment shapes: a definition (match + conditions, one level of groups), reads, diffs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safar.kit.conditions import (
    AudienceCondition,
    ConsentCondition,
    EventCondition,
    SegmentCondition,
    TraitCondition,
)

Match = Literal["all", "any"]
MAX_CONDITIONS = 50
#: The longest fixed list of profiles a listed segment keeps.
MAX_LISTED = 10_000


class ConditionGroup(BaseModel):
    """Conditions combined on their own (``any`` inside an ``all`` segment, or the reverse)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["group"] = "group"
    match: Match = "all"
    conditions: list[AudienceCondition] = Field(min_length=1, max_length=MAX_CONDITIONS)


Rule = Annotated[
    TraitCondition | EventCondition | SegmentCondition | ConsentCondition | ConditionGroup,
    Field(discriminator="kind"),
]


class SegmentDefinition(BaseModel):
    """What decides membership: every (``all``) or any (``any``) rule holds; with ``profiles``
    (a listed segment), among those profiles only (no conditions: all of them)."""

    model_config = ConfigDict(extra="forbid")

    match: Match = "all"
    conditions: list[Rule] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    profiles: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None,
        max_length=MAX_LISTED,
        description="a fixed list of profile ids (e.g. the customers behind a chart's number)",
    )

    def segment_refs(self) -> Iterator[tuple[str, str]]:
        """(field, segment id) of every segment condition, groups included."""
        yield from segment_refs(self.conditions, "conditions")


def segment_refs(rules: Sequence[Any], prefix: str) -> Iterator[tuple[str, str]]:
    for i, rule in enumerate(rules):
        if isinstance(rule, SegmentCondition):
            yield f"{prefix}.{i}.segment_id", rule.segment_id
        elif isinstance(rule, ConditionGroup):
            yield from segment_refs(rule.conditions, f"{prefix}.{i}.conditions")


class SegmentCreate(SegmentDefinition):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    match: Match | None = None
    conditions: list[Rule] | None = Field(default=None, max_length=MAX_CONDITIONS)


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    match: Match
    conditions: list[Rule]
    listed: bool = Field(description="members are drawn from a fixed list of profiles")
    member_count: int
    refreshes: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MembersPage(BaseModel):
    count: int
    profile_ids: list[str]
    limit: int
    offset: int


class Preview(BaseModel):
    count: int
    sample: list[str]


@dataclass(frozen=True)
class SegmentDiff:
    """Who entered and who left at one refresh (both empty at the baseline refresh)."""

    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    refresh: int = 0
    baseline: bool = False
