"""Text-analytics helpers for tests: customer texts sent as events, with known analyses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from safar.text import repository

DAY = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 20 Ordibehesht 1405


@dataclass(frozen=True)
class Said:
    """One customer text: its event and the labels its analysis carries."""

    mid: str
    user: str
    text: str
    sentiment: str
    emotion: str
    category: str
    channel: str = "chat"
    event: str = "Review Submitted"
    days: int = 0
    survey: str | None = None
    error: str | None = None


#: Six texts in the week of ``DAY`` (one failed analysis) and one a month before.
TEXTS = (
    Said("t-0", "u-0", "پیک خیلی دیر رسید و غذا سرد بود.", "negative", "anger", "delivery"),
    Said("t-1", "u-1", "Great food, thank you!", "positive", "joy", "quality", days=1),
    Said("t-2", "u-0", "قیمت‌ها خیلی بالا رفته", "negative", "sadness", "price", "email",
         "survey_answered", days=2, survey="srv-1"),
    Said("t-3", "u-2", "The app crashed at checkout", "negative", "anger", "app", "app", days=2),
    Said("t-4", "u-2", "ممنون از پشتیبانی", "positive", "joy", "service", "email",
         "survey_answered", days=3, survey="srv-2"),
    Said("t-5", "u-1", "???", "neutral", "other", "other", days=3, error="model failed"),
    Said("t-9", "u-1", "Old complaint", "negative", "anger", "delivery", days=30),
)  # fmt: skip


#: Safar's own surveys name themselves on their answers; an imported one may not.
SURVEY_NAMES = {"srv-1": "پس از تحویل"}


def send_texts(runtime: Runtime, workspace_id: str, texts: tuple[Said, ...] = TEXTS) -> None:
    """Store the texts' events through the ``Applier`` (newest first, a minute apart within a
    day) and their analyses as the worker would (after the worker's own: these are the latest)."""
    messages: list[dict[str, Any]] = []
    at = {s.mid: DAY - timedelta(days=s.days, minutes=i) for i, s in enumerate(texts)}
    for s in texts:
        props: dict[str, Any] = {"text": s.text}
        if s.survey:
            props = {"comment": s.text, "survey_id": s.survey}
            if s.survey in SURVEY_NAMES:
                props["survey_name"] = SURVEY_NAMES[s.survey]
        messages.append({"type": "track", "userId": s.user, "event": s.event,
                         "messageId": s.mid, "properties": props, "timestamp": at[s.mid].isoformat(),
                         "context": {"channel": s.channel}})  # fmt: skip
    runtime.applier.apply(
        [normalize(parse_message(m), workspace_id=workspace_id, received_at=DAY) for m in messages]
    )
    if runtime.text_worker is not None:
        assert runtime.text_worker.wait_idle(120)
    repository.ensure_table(runtime.store)
    repository.insert_analyses(runtime.store, [
        {"workspace_id": workspace_id, "message_id": s.mid,
         "event_timestamp": at[s.mid],
         "source_field": "comment" if s.survey else "text", "language": "fa",
         "sentiment_label": s.sentiment, "sentiment_score": 0.0, "emotion": s.emotion,
         "category": s.category, "error": s.error, "analysed_at": datetime.now(UTC)}
        for s in texts
    ])  # fmt: skip


_OPENERS = ("امروز", "باز هم", "دوباره", "این بار", "متاسفانه")
_LATE = ("پیک خیلی دیر رسید", "سفارش دیر رسید و غذا سرد بود", "پیک دیر آمد و غذا سرد شد",
         "ارسال سفارش خیلی دیر بود")  # fmt: skip
_PRICE = ("قیمت غذا خیلی گران شده", "قیمت ها گران و بالا رفته", "غذا گران بود و قیمت بالا",
          "قیمت پیتزا خیلی گران است")  # fmt: skip


def themed_texts() -> tuple[Said, ...]:
    """Forty Persian texts on two themes: late couriers (negative) and high prices (neutral)."""
    out: list[Said] = []
    for i, (opener, core) in enumerate((o, c) for o in _OPENERS for c in _LATE + _PRICE):
        late = core in _LATE
        out.append(Said(f"th-{i}", f"u-{i % 7}", f"{opener} {core}",
                        "negative" if late else "neutral", "anger" if late else "other",
                        "delivery" if late else "price", days=i % 5))  # fmt: skip
    return tuple(out)
