"""Templates and texts of the survey pages and messages (fa and en)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from safar.surveys.schemas import Condition, SurveyDefinition

HERE = Path(__file__).parent
#: The dashboard's vendored Persian font, when the dashboard is installed; system fonts otherwise.
VAZIRMATN = HERE.parent / "web" / "static" / "vendor" / "vazirmatn" / "Vazirmatn-Variable.woff2"
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FACES = ["😠", "🙁", "😐", "🙂", "😀"]

TEXTS: dict[str, dict[str, str]] = {
    "fa": {
        "submit": "ثبت پاسخ",
        "fix": "لطفاً این موارد را اصلاح کنید:",
        "saved": "پاسخ‌های قبلی شما ذخیره شد.",
        "thanks": "سپاس!",
        "thanks_body": "پاسخ شما ثبت شد.",
        "used": "این نظرسنجی پاسخ داده شده است",
        "used_body": "پاسخ شما قبلاً ثبت شده است. سپاس از همراهی شما.",
        "expired": "مهلت این پیوند تمام شده است",
        "expired_body": "این پیوند نظرسنجی دیگر معتبر نیست.",
        "forged": "پیوند نامعتبر",
        "forged_body": "این پیوند نظرسنجی معتبر نیست. لطفاً پیوند کامل را از پیام خود باز کنید.",
        "required": "پاسخ به این پرسش لازم است",
        "too_large": "متن ارسالی بیش از اندازه بلند است",
        "too_large_body": "لطفاً متن کوتاه‌تری بنویسید و دوباره بفرستید.",
        "shown_when": "فقط وقتی نمایش داده می‌شود که",
        "answered": "پاسخ داده شده باشد",
        "one_of": "یکی از",
        "preview": "پیش‌نمایش: همهٔ پرسش‌ها به ترتیب",
    },
    "en": {
        "submit": "Submit",
        "fix": "Please fix the following:",
        "saved": "Your earlier answers are saved.",
        "thanks": "Thank you!",
        "thanks_body": "Your answers have been recorded.",
        "used": "This survey has been answered",
        "used_body": "Your answers were already recorded. Thank you.",
        "expired": "This link has expired",
        "expired_body": "This survey link is no longer valid.",
        "forged": "Invalid link",
        "forged_body": "This survey link is not valid. Please open the full link from your message.",
        "required": "This question needs an answer",
        "too_large": "The text sent is too long",
        "too_large_body": "Please shorten your answer and send it again.",
        "shown_when": "Shown only when",
        "answered": "is answered",
        "one_of": "is one of",
        "preview": "Preview: every question in order",
    },
}


def digits(value: Any, lang: str = "en") -> str:
    text = str(value)
    return text.translate(FA_DIGITS) if lang == "fa" else text


OPS = {"lte": "≤", "gte": "≥", "eq": "=", "ne": "≠"}


def logic_note(definition: SurveyDefinition, cond: Condition, lang: str) -> str:
    """A question's display rule in the respondent's words, for the builder's preview."""
    t = TEXTS[lang]
    source = definition.question(cond.question)
    name = f"«{source.text.get(lang)}»" if source else cond.question
    labels = {c.id: c.label.get(lang) for c in source.choices} if source else {}
    values = cond.value if isinstance(cond.value, list) else [cond.value]
    shown = "، ".join(labels.get(str(v), digits(v, lang)) for v in values if v is not None)
    if cond.op == "answered":
        rule = t["answered"]
    elif cond.op == "in":
        rule = f"{t['one_of']} {shown}"
    else:
        rule = f"{OPS[cond.op]} {shown}"
    return f"{t['shown_when']} {name} {rule}"


def render_preview(env: Environment, definition: SurveyDefinition, lang: str) -> str:
    """Every question of a definition on one page, each conditional one with its rule, as the
    builder's live preview (nothing is saved; the form goes nowhere)."""
    notes = {
        q.id: logic_note(definition, q.show_if, lang)
        for q in definition.questions
        if q.show_if is not None
    }
    return env.get_template("survey.html").render(
        lang=lang,
        page_title=definition.title.get(lang),
        title=definition.title.get(lang),
        intro=definition.intro.get(lang) if definition.intro else "",
        questions=definition.questions,
        notes=notes,
        preview_note=TEXTS[lang]["preview"],
        step=0,
        values={},
        errors={},
        labels={},
        faces=FACES,
        t=TEXTS[lang],
        action="#",
        embed=True,
    )


def template_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["digits"] = digits
    env.globals["font_url"] = (
        "/static/vendor/vazirmatn/Vazirmatn-Variable.woff2" if VAZIRMATN.exists() else None
    )
    return env
