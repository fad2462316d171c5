"""Templates and texts of the survey pages and messages (fa and en)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

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
    },
}


def digits(value: Any, lang: str = "en") -> str:
    text = str(value)
    return text.translate(FA_DIGITS) if lang == "fa" else text


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
