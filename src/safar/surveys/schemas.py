"""Survey definitions (questions, display logic, texts in fa and en) and API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

QuestionType = Literal["nps", "csat", "ces", "rating", "single", "multiple", "text", "date"]
Language = Literal["fa", "en"]
LANGUAGES: tuple[Language, ...] = ("fa", "en")
#: Fixed scales; ``rating`` uses the question's own ``scale``.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
MAX_TEXT = 2000


class Texts(BaseModel):
    """One text per language; at least one of them."""

    model_config = ConfigDict(extra="forbid")

    fa: str | None = Field(default=None, max_length=1000)
    en: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _some(self) -> Texts:
        if not (self.fa or self.en):
            raise ValueError("give the text in fa or en")
        return self

    def get(self, lang: str) -> str:
        value = self.fa if lang == "fa" else self.en
        return value or self.en or self.fa or ""


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")
    label: Texts


class Condition(BaseModel):
    """Display logic: show the question only when an earlier answer satisfies this."""

    model_config = ConfigDict(extra="forbid")

    question: str
    op: Literal["lte", "gte", "eq", "ne", "in", "answered"]
    value: Any = None

    def holds(self, answers: dict[str, Any]) -> bool:
        if self.question not in answers:
            return False
        got = answers[self.question]
        if self.op == "answered":
            return got not in (None, "", [])
        try:
            if self.op == "lte":
                return bool(got <= self.value)
            if self.op == "gte":
                return bool(got >= self.value)
        except TypeError:
            return False
        if self.op == "eq":
            return bool(got == self.value)
        if self.op == "ne":
            return bool(got != self.value)
        values = self.value if isinstance(self.value, list) else [self.value]
        if isinstance(got, list):
            return any(g in values for g in got)
        return got in values


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")
    type: QuestionType
    text: Texts
    required: bool = False
    choices: list[Choice] = Field(default_factory=list, max_length=50)
    scale: int | None = Field(default=None, ge=2, le=10, description="rating: 1..scale")
    style: Literal["numbers", "stars", "faces"] = "numbers"
    calendar: Literal["jalali", "gregorian"] = "jalali"
    max_length: int = Field(default=MAX_TEXT, ge=1, le=MAX_TEXT)
    show_if: Condition | None = None
    low_label: Texts | None = None
    high_label: Texts | None = None

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.type in ("single", "multiple") and len(self.choices) < 2:
            raise ValueError(f"question {self.id}: choice questions need at least two choices")
        if self.type not in ("single", "multiple") and self.choices:
            raise ValueError(f"question {self.id}: only choice questions take choices")
        if self.type == "rating" and self.scale is None:
            self.scale = 5
        ids = [c.id for c in self.choices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: choice ids must be unique")
        return self

    def bounds(self) -> tuple[int, int] | None:
        if self.type in SCALES:
            return SCALES[self.type]
        if self.type == "rating":
            return (1, self.scale or 5)
        return None


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Texts
    intro: Texts | None = None
    thanks: Texts | None = None
    questions: list[Question] = Field(min_length=1, max_length=60)
    #: Email subject and SMS text; ``{link}`` is replaced with the personal link.
    email_subject: Texts | None = None
    sms_text: Texts | None = None

    @model_validator(mode="after")
    def _logic(self) -> SurveyDefinition:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question ids must be unique: {q.id} repeats")
            if q.show_if is not None and q.show_if.question not in seen:
                raise ValueError(
                    f"question {q.id}: show_if must refer to an earlier question, "
                    f"not {q.show_if.question!r}"
                )
            seen.add(q.id)
        return self

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    touchpoint: str | None = Field(default=None, max_length=80)
    languages: list[Language] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    default_language: Language = "fa"
    definition: SurveyDefinition
    link_ttl_hours: float = Field(default=7 * 24, gt=0, le=365 * 24)
    #: A profile trait whose value is kept with each response, for breakdowns by segment.
    segment_trait: str | None = Field(default=None, max_length=100)


class SurveyFromTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str
    name: str | None = Field(default=None, max_length=200)


class SurveyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    touchpoint: str | None = None
    definition: SurveyDefinition | None = None
    status: Literal["active", "archived"] | None = None
    link_ttl_hours: float | None = Field(default=None, gt=0, le=365 * 24)
    segment_trait: str | None = None


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    touchpoint: str | None
    languages: list[str]
    default_language: str
    status: str
    definition: SurveyDefinition
    link_ttl_hours: float
    segment_trait: str | None
    created_at: datetime


class InvitationCreate(BaseModel):
    """A personal link for a known profile, made on demand (in-app, support agent, tests)."""

    model_config = ConfigDict(extra="forbid")

    profile_id: str = Field(min_length=1, max_length=40)
    channel: Literal["email", "sms", "app", "web"] = "app"
    language: Language | None = None
    touchpoint: str | None = Field(default=None, max_length=80)


class SegmentSend(BaseModel):
    """Invite every member of a saved segment now, through one channel."""

    model_config = ConfigDict(extra="forbid")

    segment_id: str = Field(min_length=1, max_length=40)
    channel: Literal["email", "sms", "app", "telegram", "push"]
    #: Nobody asked a survey within this many days is asked again (shared by all surveys).
    fatigue_days: float = Field(default=30.0, ge=0, le=3650)
    consent_purpose: str | None = Field(default="surveys", max_length=80)
    require_consent: bool = False


class InvitationRead(BaseModel):
    id: str
    survey_id: str
    profile_id: str | None
    channel: str
    language: str
    touchpoint: str | None
    status: str
    url: str
    token: str
    expires_at: datetime


class AnswerSubmit(BaseModel):
    """Answers sent by the widget or an app (JSON); the form page posts the same fields."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]
    step: int = Field(default=0, ge=0, le=1000)


class ResponseRead(BaseModel):
    id: str
    survey_id: str
    invitation_id: str
    profile_id: str | None
    channel: str
    touchpoint: str | None
    language: str
    segment: str | None
    answers: dict[str, Any]
    nps: int | None
    csat: int | None
    ces: int | None
    complete: bool
    trigger_message_id: str | None
    started_at: datetime
    completed_at: datetime | None


class LatestScore(BaseModel):
    """A person's newest answer to one score question (NPS, CSAT or CES), on its scale."""

    metric: str
    value: int
    low: int
    high: int
    answered_at: datetime
    survey_id: str | None = None
    survey_name: str | None = None
