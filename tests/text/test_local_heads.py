"""NB-LR heads and per-language heads of local models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from safar.text.classifier import NBLogReg, TextModel, route_language, train_model

FA = ["غذا عالی بود", "خیلی بد بود", "پیک دیر رسید", "ممنون خوشمزه بود", "افتضاح بود"]
FA_Y = ["positive", "negative", "negative", "positive", "negative"]
EN = ["great food", "ok i guess", "fine nothing special", "thanks lovely", "as expected"]
EN_Y = ["positive", "neutral", "neutral", "positive", "neutral"]


def test_route_language_by_script() -> None:
    assert route_language("غذا عالی بود") == "fa"
    assert route_language("great food") == "en"
    assert route_language("ok غذا عالی بود") == "fa"
    assert route_language("123") == "en"


def test_nb_logreg_folds_the_ratio_into_one_linear_model() -> None:
    rng = np.random.default_rng(1)
    x = sparse.csr_matrix((rng.random((60, 12)) > 0.6).astype(np.float32))
    y = np.where(x[:, 0].toarray().ravel() + rng.random(60) > 0.8, "a", "b")
    nb = NBLogReg(c=1.0).fit(x, y)
    # The same model fitted by hand on ratio-scaled features gives the same scores.
    present = x.copy()
    p = np.asarray(present[y == "b"].sum(axis=0)).ravel() + 1.0
    q = np.asarray(present[y != "b"].sum(axis=0)).ravel() + 1.0
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    lr = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear")
    lr.fit(x @ sparse.diags(ratio), (y == "b").astype(int))
    expected = lr.decision_function(x @ sparse.diags(ratio))
    assert np.allclose(nb.decision_function(x)[:, 0], expected, atol=1e-4)
    proba = nb.predict_proba(x)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert (nb.classes_[proba.argmax(axis=1)] == y).mean() > 0.7


def test_each_language_answers_with_its_own_head(tmp_path: Path) -> None:
    texts = (FA + EN) * 30
    labels = {"sentiment": (FA_Y + EN_Y) * 30}
    model = train_model(
        texts,
        labels,
        name="local",
        trained_on="t",
        kind="nb",
        routed_tasks=["sentiment"],
        min_routed=50,
    )
    assert set(model.lang_heads) == {"fa", "en"}
    model.save(tmp_path / "m.joblib")
    model = TextModel.load(tmp_path / "m.joblib")
    classes, p = model.proba(["خیلی بد بود", "ok i guess", "غذا عالی بود"], ["sentiment"])[
        "sentiment"
    ]
    assert classes == ["negative", "neutral", "positive"]
    # Persian was never neutral and English never negative: each head knows only its labels.
    assert p[0, classes.index("neutral")] == 0.0 and p[2, classes.index("neutral")] == 0.0
    assert p[1, classes.index("negative")] == 0.0
    assert [classes[i] for i in p.argmax(axis=1)] == ["negative", "neutral", "positive"]
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
