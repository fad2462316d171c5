"""Answers of a survey step: which questions come next, and parsing what was typed.

Pure functions of the definition and the raw form or JSON values: no session, no clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jdatetime

from safar.surveys.schemas import MAX_TEXT, Question, SurveyDefinition

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def current_step(
    definition: SurveyDefinition, answers: dict[str, Any], shown: list[Any]
) -> list[Question]:
    """The next questions to put: in order, stopping before one that depends on this step."""
    step: list[Question] = []
    ids: set[str] = set()
    for q in definition.questions:
        if q.id in shown:
            continue
        cond = q.show_if
        if cond is not None:
            if cond.question in ids:
                break
            if not cond.holds(answers):
                continue
        step.append(q)
        ids.add(q.id)
    return step


def parse_answer(q: Question, raw: Any) -> Any:
    """The stored value of one answer, or None when empty; ValueError with a reason if bad."""
    if raw is None or raw == "" or raw == []:
        return None
    if q.type in ("nps", "csat", "ces", "rating"):
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        if isinstance(raw, str):
            raw = raw.strip().translate(_DIGITS)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
        if isinstance(raw, float) and raw != value:
            raise ValueError("must be a whole number")
        low, high = q.bounds() or (0, 0)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    if q.type == "single":
        if not isinstance(raw, str) or raw not in {c.id for c in q.choices}:
            raise ValueError("is not one of the choices")
        return raw
    if q.type == "multiple":
        values = raw if isinstance(raw, list) else [raw]
        valid = {c.id for c in q.choices}
        if not all(isinstance(v, str) and v in valid for v in values):
            raise ValueError("contains something that is not one of the choices")
        return sorted(set(values), key=[c.id for c in q.choices].index)
    if q.type == "text":
        if not isinstance(raw, str):
            raise ValueError("must be text")
        text = raw.replace("\r\n", "\n").strip()
        if len(text) > min(q.max_length, MAX_TEXT):
            raise ValueError(f"is longer than {min(q.max_length, MAX_TEXT)} characters")
        return text or None
    if q.type == "date":
        if not isinstance(raw, str):
            raise ValueError("must be a date")
        return parse_date(raw.strip().translate(_DIGITS), q.calendar)
    raise ValueError("unsupported question type")  # pragma: no cover


def parse_date(text: str, calendar: str) -> str:
    """ISO (Gregorian) date of ``YYYY/MM/DD`` or ``YYYY-MM-DD`` in the question's calendar."""
    parts = text.replace("-", "/").split("/")
    try:
        y, m, d = (int(p) for p in parts)
        if calendar == "jalali":
            return str(jdatetime.date(y, m, d).togregorian().isoformat())
        return datetime(y, m, d).date().isoformat()
    except (ValueError, TypeError):
        raise ValueError(
            "must be a date like 1403/05/12"
            if calendar == "jalali"
            else "must be a date like 2024-08-02"
        ) from None


def validate_step(
    questions: list[Question], raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parsed answers of one step and per-question errors (empty when all is well)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in questions:
        try:
            value = parse_answer(q, raw.get(q.id))
        except ValueError as exc:
            errors[q.id] = str(exc)
            continue
        if value is None:
            if q.required:
                errors[q.id] = "is required"
            continue
        values[q.id] = value
    return values, errors
