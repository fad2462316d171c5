from __future__ import annotations

import pytest

from safar.text import analyze
from safar.text.corpus import build_corpus
from safar.text.phrases import key_phrases


@pytest.mark.parametrize(
    ("text", "lang", "sentiment", "category", "intent"),
    [
        ("سفارشم دو ساعت دیر رسید و غذا کاملا سرد بود", "fa", "negative", "delivery", "complaint"),
        ("برای یک سفارش دو بار از کارتم پول کم شد", "fa", "negative", "payment", "complaint"),
        ("اپ موقع پرداخت هنگ میکنه و نمیتونم وارد حسابم بشم", "fa", "negative", "app", "complaint"),
        ("پیتزا خیلی خوشمزه و داغ بود، دستتون درد نکنه", "fa", "positive", "quality", "praise"),
        ("I was charged twice and still no refund", "en", "negative", "payment", "complaint"),
        (
            "The courier delivered to the wrong address again",
            "en",
            "negative",
            "delivery",
            "complaint",
        ),
        ("The support agent was rude and hung up on me", "en", "negative", "service", "complaint"),
        ("way too expensive for such a tiny portion", "en", "negative", "price", "complaint"),
        ("How can I track my package?", "en", "neutral", "delivery", "question"),
        ("Fantastic burger, tasty and fresh!", "en", "positive", "quality", "praise"),
    ],
)
def test_clear_cases(text: str, lang: str, sentiment: str, category: str, intent: str) -> None:
    (res,) = analyze([text])
    assert res.error is None
    assert res.language == lang
    assert res.sentiment is not None and res.sentiment.label == sentiment
    assert res.category is not None and res.category.label == category
    assert res.intent is not None and res.intent.label == intent
    assert 0.0 <= res.sentiment.score <= 1.0
    assert res.polarity is not None
    if sentiment == "negative":
        assert res.polarity < 0
    elif sentiment == "positive":
        assert res.polarity > 0


def test_churn_threat_and_actionable() -> None:
    churn, vague, praise = analyze(
        [
            "I'm cancelling my subscription, I'm switching to your competitor",
            "terrible",
            "عالی بود ممنون",
        ]
    )
    assert churn.intent is not None and churn.intent.label == "churn" and churn.actionable
    assert vague.sentiment is not None and vague.sentiment.label == "negative"
    assert not vague.actionable
    assert not praise.actionable


def test_emotions() -> None:
    angry, scared, happy = analyze(
        [
            "This is unacceptable, I am furious! the app lost my order",
            "نگرانم حسابم هک شده باشه، پولم از کارتم کم شده",
            "Love it, made my day!",
        ]
    )
    assert angry.emotion is not None and angry.emotion.label == "anger"
    assert scared.emotion is not None and scared.emotion.label == "fear"
    assert happy.emotion is not None and happy.emotion.label == "joy"


def test_batch_survives_bad_items() -> None:
    items: list[object] = ["", "😡😡", "<p>great <b>pizza</b></p>", None, b"\xff", 12, "x" * 20000]
    results = analyze(items)
    assert len(results) == len(items)
    assert results[0].error == "text: empty"
    assert results[1].error is None and "no_words" in results[1].flags
    assert results[1].sentiment is not None and results[1].sentiment.label == "negative"
    assert results[2].error is None and "markup_removed" in results[2].flags
    assert results[2].sentiment is not None and results[2].sentiment.label == "positive"
    assert results[3].error == "text: missing"
    assert "UTF-8" in (results[4].error or "")
    assert results[5].error == "text: must be a string"
    assert results[6].error is None and "truncated" in results[6].flags


def test_key_phrases_skip_stopwords() -> None:
    phrases = key_phrases("the delivery driver was very rude and the food arrived cold", "en")
    assert "delivery driver" in phrases and "food arrived cold" in phrases
    assert all(p not in ("the", "and", "was") for p in phrases)
    fa = key_phrases("سلام، پیک خیلی بی\u200cادب بود و غذا سرد رسید", "fa")
    assert any("پیک" in p for p in fa) and "سلام" not in fa


def test_corpus_is_balanced_and_labelled() -> None:
    corpus = build_corpus(500)
    assert {e.language for e in corpus} == {"fa", "en"}
    assert len({e.text for e in corpus}) == len(corpus)
    for task, labels in {
        "sentiment": {"negative", "neutral", "positive"},
        "intent": {"complaint", "question", "praise", "request", "churn", "other"},
        "category": {"delivery", "price", "quality", "service", "app", "payment", "other"},
        "emotion": {"anger", "fear", "joy", "sadness", "surprise", "disgust", "other"},
    }.items():
        assert {getattr(e, task) for e in corpus} == labels
