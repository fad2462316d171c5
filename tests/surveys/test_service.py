"""Question parsing, display logic and steps (pure functions of a definition)."""

from __future__ import annotations

from typing import Any

import pytest

from safar.surveys import presets
from safar.surveys.schemas import Question, SurveyDefinition
from safar.surveys.service import current_step, parse_answer, validate_step


def q(**kw: Any) -> Question:
    return Question.model_validate({"id": "x", "text": {"en": "?"}, **kw})


@pytest.mark.parametrize(
    ("question", "raw", "value"),
    [
        (q(type="nps"), "۱۰", 10),
        (q(type="nps"), "٣", 3),  # Arabic-Indic digits too
        (q(type="nps"), 0, 0),
        (q(type="csat"), " 5 ", 5),
        (q(type="ces"), 7, 7),
        (q(type="rating", scale=10), "9", 9),
        (q(type="date", calendar="jalali"), "۱۴۰۳/۰۵/۱۲", "2024-08-02"),
        (q(type="date", calendar="jalali"), "1403-1-1", "2024-03-20"),
        (q(type="date", calendar="gregorian"), "2024-08-02", "2024-08-02"),
        (q(type="text"), "  سلام\r\nدنیا ", "سلام\nدنیا"),
        (q(type="text"), "   ", None),
        (
            q(
                type="multiple",
                choices=[{"id": "a", "label": {"en": "A"}}, {"id": "b", "label": {"en": "B"}}],
            ),
            ["b", "a", "b"],
            ["a", "b"],
        ),
    ],
)
def test_parse_good_answers(question: Question, raw: Any, value: Any) -> None:
    assert parse_answer(question, raw) == value


@pytest.mark.parametrize(
    ("question", "raw", "reason"),
    [
        (q(type="nps"), 11, "between 0 and 10"),
        (q(type="nps"), -1, "between 0 and 10"),
        (q(type="csat"), 0, "between 1 and 5"),
        (q(type="ces"), 8, "between 1 and 7"),
        (q(type="nps"), True, "whole number"),
        (q(type="nps"), 3.5, "whole number"),
        (q(type="nps"), "NaN", "whole number"),
        (q(type="date", calendar="jalali"), "1403/13/01", "like 1403/05/12"),
        (q(type="date", calendar="gregorian"), "2024-02-30", "like 2024-08-02"),
        (q(type="text", max_length=10), "x" * 11, "longer than 10"),
        (q(type="text"), "x" * 2001, "longer than 2000"),
        (
            q(
                type="single",
                choices=[{"id": "a", "label": {"en": "A"}}, {"id": "b", "label": {"en": "B"}}],
            ),
            "c",
            "not one of the choices",
        ),
    ],
)
def test_reject_bad_answers(question: Question, raw: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_answer(question, raw)


def test_required_answers() -> None:
    values, errors = validate_step([q(type="nps", required=True), q(id="y", type="text")], {})
    assert values == {} and errors == {"x": "is required"}


def test_steps_follow_display_logic() -> None:
    d = presets.template("nps").definition
    assert [x.id for x in current_step(d, {}, [])] == ["nps"]
    assert [x.id for x in current_step(d, {"nps": 4}, ["nps"])] == ["what_wrong", "comment"]
    assert [x.id for x in current_step(d, {"nps": 9}, ["nps"])] == ["comment"]
    assert current_step(d, {"nps": 9}, ["nps", "comment"]) == []


@pytest.mark.parametrize("key", sorted(presets.TEMPLATES))
def test_templates_are_valid_in_both_languages(key: str) -> None:
    spec = presets.template(key)
    d: SurveyDefinition = spec.definition
    for question in d.questions:
        assert question.text.fa and question.text.en
    assert d.title.fa and d.title.en
