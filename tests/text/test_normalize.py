from __future__ import annotations

import pytest

from safar.text.normalize import MAX_CHARS, detect_language, normalize, prepare


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("كيك", "کیک"),  # Arabic kaf/yeh -> Persian
        ("خانۀ ما", "خانه ما"),
        ("۱۲۳ و ١٢٣", "123 و 123"),
        ("عـــالی", "عالی"),  # tatweel
        ("سَلامٌ", "سلام"),  # diacritics
        ("می خواهم", "می\u200cخواهم"),  # ZWNJ after the mi- prefix
        ("کتاب ها", "کتاب\u200cها"),
        ("\u200cسلام\u200c\u200c\u200cها", "سلام\u200cها"),
        ("Sooooo   GOOD", "soo good"),
    ],
)
def test_normalize_canonical_forms(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_makes_spelling_variants_equal() -> None:
    variants = ["مي‌خواهم", "میخواهم", "می خواهم", "مى‌خواهم"]
    forms = {normalize(v).replace("\u200c", "") for v in variants}
    assert forms == {"میخواهم"}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("غذا خیلی سرد رسید", "fa"),
        ("The delivery was late", "en"),
        ("كانت الخدمة جيدة جدا", "other"),  # Arabic, no Persian-only letters
        ("Доставка опоздала", "other"),
        ("12345 !!!", "other"),
        ("سفارش من از app نیومد", "fa"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_prepare_flags_bad_input() -> None:
    huge = prepare("a" * (MAX_CHARS + 100))
    assert "truncated" in huge.flags and len(huge.original) == MAX_CHARS
    html = prepare("<div>the <b>app</b> &amp; site crash</div>")
    assert "markup_removed" in html.flags and html.text == "the app & site crash"
    assert "no_words" in prepare("😡😡😡").flags
    assert "mixed_script" in prepare("the پیک was بی‌ادب very rude").flags
    for bad, message in [("", "empty"), ("   ", "empty"), (b"\xff\xfe", "UTF-8"), (7, "string")]:
        with pytest.raises(ValueError, match=message):
            prepare(bad)
