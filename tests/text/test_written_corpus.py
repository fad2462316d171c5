from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from safar.text.corpus.written import (
    LABELS,
    CorpusError,
    dedupe_key,
    find_duplicates,
    load_written,
)


def test_every_row_has_known_labels_and_a_text() -> None:
    rows = load_written("fa")
    assert len(rows) >= 3000
    for row in rows:
        assert row.language == "fa"
        assert row.text == row.text.strip() and "\t" not in row.text
        for task, value in row.labels().items():
            assert value in LABELS[task], (row.text, task, value)
    # Every label of every task is used, and no domain file is empty.
    for task, names in LABELS.items():
        used = Counter(r.labels()[task] for r in rows)
        assert set(used) == set(names), (task, used)
    domains = Counter(r.domain for r in rows)
    assert domains.most_common(1)[0][0] == "food", domains


def test_no_duplicates_or_near_duplicates() -> None:
    assert find_duplicates([r.text for r in load_written("fa")]) == []


def test_find_duplicates_catches_exact_and_near_copies() -> None:
    texts = [
        "غذا خیلی دیر رسید و کاملا سرد شده بود",
        "غذا خیلی دیر رسید و کاملا سرد شده بود!!",
        "غذا خیلی دیر رسید و کاملاً سرد شده بودش",
        "پیتزا داغ و خوشمزه بود",
    ]
    pairs = find_duplicates(texts)
    assert (texts[0], texts[1]) in pairs and (texts[0], texts[2]) in pairs
    assert all(texts[3] not in p for p in pairs)


def test_dedupe_key_folds_spacing_digits_and_punctuation() -> None:
    assert dedupe_key("می‌خوام  ۲ تا!!") == dedupe_key("میخوام 2 تا") == dedupe_key("می خوام 2تا 😊")
    assert dedupe_key("عاااالی بود") == dedupe_key("عالی بود")
    assert dedupe_key("عالی بود") != dedupe_key("عالی نبود")


def test_bad_files_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    header = "sentiment\temotion\tintent\tcategory\ttext\n"
    (tmp_path / "fa_x.tsv").write_text(header + "positive\tjoy\tpraise\tfood\tخوب بود\n")
    with pytest.raises(CorpusError, match=r"fa_x.tsv:2: category 'food'"):
        load_written("fa", tmp_path)
    (tmp_path / "fa_x.tsv").write_text(header + "positive\tjoy\tpraise\n")
    with pytest.raises(CorpusError, match=r"fa_x.tsv:2: expected 5"):
        load_written("fa", tmp_path)
    (tmp_path / "fa_x.tsv").write_text("text\tlabel\n")
    with pytest.raises(CorpusError, match=r"fa_x.tsv:1: header"):
        load_written("fa", tmp_path)
    (tmp_path / "fa_x.tsv").write_text(header + "neutral\tother\tother\tother\tسلام\n")
    (row,) = load_written("fa", tmp_path)
    assert (row.domain, row.text, row.labels()["intent"]) == ("x", "سلام", "other")
