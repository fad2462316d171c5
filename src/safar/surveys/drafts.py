"""A survey definition from untrusted JSON, refused with the field the builder can point at.

Pydantic places a question's own checks at ``questions.<i>`` and the cross-question ones (ids,
display logic) at the definition's root; the builder needs the input to mark, so those are
moved onto the field they are about (``questions.1.choices``, ``questions.2.show_if.question``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from safar.errors import ValidationFailed
from safar.surveys.schemas import SurveyDefinition

_REPEATS = re.compile(r"question ids must be unique: (?P<id>.+) repeats")
_SHOW_IF = re.compile(r"question (?P<id>[A-Za-z0-9_\-]+): show_if must refer")


def _question_index(raw: Any, qid: str, *, last: bool = False) -> int | None:
    questions = raw.get("questions") if isinstance(raw, dict) else None
    if not isinstance(questions, list):
        return None
    found = [i for i, q in enumerate(questions) if isinstance(q, dict) and q.get("id") == qid]
    if not found:
        return None
    return found[-1] if last else found[0]


def locate(raw: Any, error: dict[str, Any]) -> str:
    """The dotted path of the input one pydantic error is about."""
    loc = [str(p) for p in error.get("loc", ())]
    msg = str(error.get("msg", ""))
    if len(loc) == 2 and loc[0] == "questions" and "choice" in msg:
        return f"questions.{loc[1]}.choices"
    if not loc:
        for pattern, suffix, last in (
            (_REPEATS, "id", True),
            (_SHOW_IF, "show_if.question", False),
        ):
            match = pattern.search(msg)
            index = _question_index(raw, match.group("id"), last=last) if match else None
            if index is not None:
                return f"questions.{index}.{suffix}"
    return ".".join(loc) or "definition"


def parse_definition(raw: Any, *, prefix: str = "") -> SurveyDefinition:
    """Validate ``raw``; a refusal is a 400 whose field is ``prefix`` + the path inside it."""
    try:
        return SurveyDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = prefix + locate(raw, dict(first))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValidationFailed(f"{where}: {message}", field=where) from None
