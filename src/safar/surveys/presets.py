"""Ready-made surveys: NPS, CSAT, CES, post-delivery, post-ride and post-support (fa and en)."""

from __future__ import annotations

from typing import Any

from safar.errors import NotFound
from safar.surveys.schemas import SurveyCreate

WHAT_WRONG = {
    "id": "what_wrong",
    "type": "text",
    "text": {"fa": "چه چیزی باعث نارضایتی شما شد؟", "en": "What went wrong?"},
    "show_if": {"question": "nps", "op": "lte", "value": 6},
}
NPS_Q = {
    "id": "nps",
    "type": "nps",
    "required": True,
    "text": {
        "fa": "چقدر احتمال دارد ما را به دوستان یا همکاران خود پیشنهاد کنید؟",
        "en": "How likely are you to recommend us to a friend or colleague?",
    },
    "low_label": {"fa": "اصلاً", "en": "Not at all likely"},
    "high_label": {"fa": "کاملاً", "en": "Extremely likely"},
}
CSAT_Q = {
    "id": "csat",
    "type": "csat",
    "required": True,
    "style": "stars",
    "text": {
        "fa": "چقدر از تجربه‌ی خود راضی بودید؟",
        "en": "How satisfied were you with your experience?",
    },
}
CES_Q = {
    "id": "ces",
    "type": "ces",
    "required": True,
    "text": {
        "fa": "شرکت انجام کار من را آسان کرد.",
        "en": "The company made it easy for me to handle my issue.",
    },
    "low_label": {"fa": "کاملاً مخالفم", "en": "Strongly disagree"},
    "high_label": {"fa": "کاملاً موافقم", "en": "Strongly agree"},
}
COMMENT = {
    "id": "comment",
    "type": "text",
    "text": {"fa": "نظر دیگری دارید؟", "en": "Anything else you would like to tell us?"},
}
SUBJECT = {"fa": "نظر شما برای ما مهم است", "en": "Tell us how we did"}
SMS = {
    "fa": "نظر شما درباره‌ی تجربه‌ی اخیرتان: {link}",
    "en": "How did we do? Tell us here: {link}",
}
THANKS = {"fa": "از وقتی که گذاشتید سپاسگزاریم.", "en": "Thank you for your time."}


def _definition(title: dict[str, str], questions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": title,
        "thanks": THANKS,
        "email_subject": SUBJECT,
        "sms_text": SMS,
        "questions": questions,
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "nps": {
        "name": "NPS",
        "touchpoint": None,
        "definition": _definition(
            {"fa": "نظرسنجی پیشنهاد به دیگران", "en": "Net Promoter Score"},
            [NPS_Q, WHAT_WRONG, COMMENT],
        ),
    },
    "csat": {
        "name": "CSAT",
        "touchpoint": None,
        "definition": _definition(
            {"fa": "رضایت مشتری", "en": "Customer satisfaction"}, [CSAT_Q, COMMENT]
        ),
    },
    "ces": {
        "name": "CES",
        "touchpoint": None,
        "definition": _definition({"fa": "سهولت کار", "en": "Customer effort"}, [CES_Q, COMMENT]),
    },
    "post_delivery": {
        "name": "Post-delivery",
        "touchpoint": "delivery",
        "definition": _definition(
            {"fa": "سفارش شما تحویل داده شد", "en": "Your order was delivered"},
            [
                CSAT_Q,
                NPS_Q,
                WHAT_WRONG,
                {
                    "id": "on_time",
                    "type": "single",
                    "text": {"fa": "سفارش به‌موقع رسید؟", "en": "Did the order arrive on time?"},
                    "choices": [
                        {"id": "yes", "label": {"fa": "بله", "en": "Yes"}},
                        {"id": "late", "label": {"fa": "با تأخیر", "en": "Late"}},
                    ],
                },
                COMMENT,
            ],
        ),
    },
    "post_ride": {
        "name": "Post-ride",
        "touchpoint": "ride",
        "definition": _definition(
            {"fa": "سفر شما چطور بود؟", "en": "How was your ride?"},
            [
                {
                    "id": "driver",
                    "type": "rating",
                    "scale": 5,
                    "style": "stars",
                    "required": True,
                    "text": {"fa": "به راننده چه امتیازی می‌دهید؟", "en": "Rate your driver"},
                },
                {
                    "id": "issues",
                    "type": "multiple",
                    "text": {"fa": "مشکلی داشتید؟", "en": "Did anything go wrong?"},
                    "choices": [
                        {"id": "route", "label": {"fa": "مسیر", "en": "Route"}},
                        {"id": "car", "label": {"fa": "خودرو", "en": "Car"}},
                        {"id": "price", "label": {"fa": "کرایه", "en": "Fare"}},
                        {"id": "behaviour", "label": {"fa": "رفتار", "en": "Behaviour"}},
                    ],
                    "show_if": {"question": "driver", "op": "lte", "value": 3},
                },
                NPS_Q,
                COMMENT,
            ],
        ),
    },
    "post_support": {
        "name": "Post-support",
        "touchpoint": "support",
        "definition": _definition(
            {"fa": "تماس شما با پشتیبانی", "en": "Your support contact"},
            [
                CES_Q,
                CSAT_Q,
                {
                    **COMMENT,
                    "id": "what_wrong",
                    "show_if": {"question": "ces", "op": "lte", "value": 3},
                },
            ],
        ),
    },
}


def template(key: str, name: str | None = None) -> SurveyCreate:
    """A survey built from one of ``TEMPLATES``."""
    if key not in TEMPLATES:
        raise NotFound(
            f"template: unknown {key[:40]!r}; use one of {', '.join(TEMPLATES)}", field="template"
        )
    data = dict(TEMPLATES[key])
    if name:
        data["name"] = name
    return SurveyCreate.model_validate(data)
