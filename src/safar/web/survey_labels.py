"""The survey builder's words: question types, logic operators and the editor's own texts, marked
for the catalogue here and handed to ``static/survey_builder.js`` in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from safar.web.i18n import N_

QUESTION_TYPES: dict[str, str] = {
    "nps": N_("NPS (0-10)"),
    "csat": N_("CSAT (1-5)"),
    "ces": N_("CES (1-7)"),
    "rating": N_("Rating"),
    "single": N_("One choice"),
    "multiple": N_("Several choices"),
    "text": N_("Text"),
    "date": N_("Date"),
}
OPERATORS: dict[str, str] = {
    "lte": N_("is at most"),
    "gte": N_("is at least"),
    "eq": N_("is"),
    "ne": N_("is not"),
    "in": N_("is one of"),
    "answered": N_("is answered"),
}
STYLES: dict[str, str] = {"numbers": N_("Numbers"), "stars": N_("Stars"), "faces": N_("Faces")}
CALENDARS: dict[str, str] = {"jalali": N_("Jalali"), "gregorian": N_("Gregorian")}
UI: dict[str, str] = {
    "question": N_("Question"),
    "type": N_("Type"),
    "required": N_("Required"),
    "id": N_("Question id"),
    "text_fa": N_("Text in Persian"),
    "text_en": N_("Text in English"),
    "choices": N_("Choices"),
    "choice_id": N_("Choice id"),
    "label_fa": N_("Label in Persian"),
    "label_en": N_("Label in English"),
    "add_choice": N_("Add a choice"),
    "remove": N_("Remove"),
    "up": N_("Move up"),
    "down": N_("Move down"),
    "scale": N_("Points on the scale"),
    "style": N_("Shown as"),
    "calendar": N_("Calendar"),
    "low_fa": N_("Low end, Persian"),
    "low_en": N_("Low end, English"),
    "high_fa": N_("High end, Persian"),
    "high_en": N_("High end, English"),
    "ends": N_("Labels of the two ends"),
    "logic": N_("Display logic"),
    "always": N_("Always show this question"),
    "only_if": N_("Show only when the answer to"),
    "value": N_("Value"),
    "no_earlier": N_("The first question is always shown."),
    "saving": N_("Saving…"),
    "saved": N_("Saved."),
    "not_saved": N_("Not saved:"),
    "network": N_("The server could not be reached; nothing was saved."),
    "copied": N_("Copied."),
    "copy_failed": N_("Copy by hand: the text is selected."),
    "reach": N_("customers in this segment"),
    "pick_segment": N_("Choose a segment"),
    "sending": N_("Queuing invitations…"),
    "sent": N_("sent"),
    "waiting": N_("waiting"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "total": N_("invited"),
    "preview_failed": N_("The preview cannot be shown until this is fixed:"),
    "new_question": N_("New question"),
}


def translated(table: dict[str, str], gettext: Callable[[str], str]) -> dict[str, str]:
    return {key: gettext(value) for key, value in table.items()}


_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Field required$"), N_("Required.")),
    (re.compile(r"^give the text in fa or en$"), N_("Give the text in Persian or English.")),
    (
        re.compile(r".*choice questions need at least two choices$"),
        N_("A choice question needs at least two choices."),
    ),
    (re.compile(r".*choice ids must be unique$"), N_("Two choices have the same id.")),
    (re.compile(r"^question ids must be unique.*"), N_("Two questions have the same id.")),
    (
        re.compile(r".*show_if must refer to an earlier question.*"),
        N_("The rule must name an earlier question."),
    ),
    (
        re.compile(r"^String should match pattern.*"),
        N_("Use only Latin letters, digits, - and _."),
    ),
    (re.compile(r"^String should have at least 1 character$"), N_("Required.")),
    (re.compile(r"^List should have at least 1 item.*"), N_("Add at least one question.")),
    (re.compile(r"^the segment has no members now$"), N_("This segment has no members now.")),
    (
        re.compile(r"^the survey is archived.*"),
        N_("The survey is archived; make it active first."),
    ),
)


def translate_error(message: str, gettext: Callable[[str], str]) -> str:
    """A refusal's message in the reader's language where we know it, else as it came."""
    for pattern, template in _MESSAGES:
        if pattern.match(message):
            return gettext(template)
    return message
