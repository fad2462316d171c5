"""The hand-written English corpus: loads, uses only the default taxonomy, no duplicates."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from safar.text.corpus.written import COLUMNS, LABELS, CorpusError, load_written
from safar.text.normalize import normalize
from safar.text.pipeline import default_model_path, load_model


def _key(text: str) -> str:
    """Text with handles, URLs, hashtag marks, digits and punctuation ignored."""
    t = normalize(text)
    t = re.sub(r"https?://\S+|www\.\S+|@\w+|#", " ", t)
    t = re.sub(r"\d+", "0", t)
    return " ".join(re.findall(r"[^\W_]+", t)) or t.strip()  # emoji-only texts stay distinct


def test_loads_thousands_of_rows_in_every_domain() -> None:
    rows = load_written("en")
    assert len(rows) >= 3000
    assert {r.domain for r in rows} >= {"airline", "shopping", "food", "banking", "telecom"}
    assert all(r.language == "en" for r in rows)


def test_labels_are_the_default_models_labels() -> None:
    model = load_model(default_model_path())
    for task, labels in LABELS.items():
        assert set(labels) == set(model.heads[task].labels), task
    rows = load_written("en")
    for task, labels in LABELS.items():
        used = Counter(getattr(r, task) for r in rows)
        assert set(used) == set(labels), task  # every label is used ...
        assert min(used.values()) >= 30, (task, used)  # ... and not just once or twice


def test_balance_is_not_only_complaints() -> None:
    sentiment = Counter(r.sentiment for r in load_written("en"))
    total = sum(sentiment.values())
    assert sentiment["neutral"] / total >= 0.2
    assert sentiment["positive"] / total >= 0.2
    assert sentiment["negative"] / total <= 0.6


def test_no_duplicates_or_near_duplicates() -> None:
    rows = load_written("en")
    texts = [r.text for r in rows]
    assert len(set(texts)) == len(texts)
    seen: dict[str, str] = {}
    for text in texts:
        key = _key(text)
        assert key not in seen, (text, seen[key])
        seen[key] = text


def test_bad_file_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "en_x.tsv").write_text(
        "\t".join(COLUMNS) + "\nneutral\tother\tother\tother\tfine\n"
        "neutral\tjoyful\tother\tother\tbad\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"en_x.tsv:3: emotion 'joyful' is not one of"):
        load_written("en", tmp_path)
