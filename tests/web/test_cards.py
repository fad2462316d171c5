"""KPI cards in words: signs, arrows and significance as a reader sees them in fa and en."""

from __future__ import annotations

from safar.web import cards
from safar.web.i18n import Formatter, translations

FA, EN = Formatter(language="fa"), Formatter(language="en", calendar="gregorian")
TR_FA = translations("fa").gettext


def test_a_change_that_shows_as_zero_points_is_flat() -> None:
    # 40 of 1000 against 39.96 of 1000: -0.04 points, shown as 0.
    got = cards.share_cards(EN, str, "emotion", cards.EMOTION_LABELS, (10000, {"fear": 400}),
                            (100000, {"fear": 3996}))  # fmt: skip
    change = got[0].change
    assert change is not None and change.direction == "flat" and change.text == "0 pts"


def test_shares_in_persian_with_the_locale_signs() -> None:
    got = cards.share_cards(FA, TR_FA, "sentiment", cards.SENTIMENT_LABELS,
                            (8, {"positive": 6, "negative": 2}), (4, {"positive": 1, "negative": 3}),
                            worse=frozenset({"negative"}))  # fmt: skip
    by_id = {c.id: c for c in got}
    pos, neg = by_id["sentiment-positive"], by_id["sentiment-negative"]
    assert pos.value == "۷۵٪" and pos.change is not None and neg.change is not None
    assert pos.change.text == "\u200e+۵۰ واحد" and pos.change.direction == "up"
    assert neg.change.text == "\u200e−۵۰ واحد" and neg.change.good is True  # fewer negative texts
    assert pos.change.significant is False  # Fisher: p = 0.22


def test_event_counts_are_not_tested_for_significance() -> None:
    card = cards.count_card(EN, str, "kpi-events", "Events", 160, 100, tested=False)
    assert card.value == "160" and card.change is not None
    assert card.change.text == "+60%" and card.change.significant is None
    people = cards.count_card(EN, str, "kpi-active", "Active", 160, 100, tested=True)
    assert people.change is not None and people.change.significant is True
    assert cards.count_card(EN, str, "kpi-events", "Events", 5, 0, tested=False).change is None
