"""What an analysis looks like, in Python and over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Label(BaseModel):
    label: str
    score: float = Field(ge=0, le=1)


class TextAnalysis(BaseModel):
    """The result for one text; ``error`` is set (and the labels are not) when it failed."""

    id: str | None = None
    language: str | None = None
    sentiment: Label | None = None
    #: P(positive) - P(negative), in -1..1: one signed number for averages and curves.
    polarity: float | None = None
    emotion: Label | None = None
    intent: Label | None = None
    category: Label | None = None
    key_phrases: list[str] = Field(default_factory=list)
    actionable: bool = False
    flags: list[str] = Field(default_factory=list)
    error: str | None = None
    model_version: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class AnalyzeItem(BaseModel):
    id: str | None = Field(default=None, max_length=200)
    text: Any = Field(description="the text; anything else is a per-item error")


class AnalyzeRequest(BaseModel):
    texts: list[AnalyzeItem | str] = Field(min_length=1, max_length=1000)


class AnalyzeResponse(BaseModel):
    results: list[TextAnalysis]
    model_version: str


#: The labels a reader may set for each field, the default taxonomy's (Listen page).
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "sentiment": ("positive", "neutral", "negative"),
    "emotion": ("joy", "anger", "sadness", "fear", "surprise", "disgust", "other"),
    "category": ("delivery", "quality", "service", "price", "payment", "app", "other"),
}


@dataclass(frozen=True, slots=True)
class TextSlice:
    """Which analysed texts a Listen query reads: the events' window [since, until), their
    channel, source (event name) and survey, the labels (corrected where a reader corrected
    them) and the customers (``profile_ids``, a segment's members; None keeps everyone)."""

    workspace_id: str
    since: datetime
    until: datetime
    tz: str = "UTC"
    channel: str | None = None
    source: str | None = None
    survey: str | None = None
    sentiment: str | None = None
    emotion: str | None = None
    category: str | None = None
    profile_ids: tuple[str, ...] | None = None
