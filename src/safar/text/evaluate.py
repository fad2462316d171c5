"""Held-out evaluation of the shipped default and the locally trained model, side by side.

For every real data set (see ``datasets``): accuracy and macro-F1 on its test split, with the
predictions restricted to the labels that set uses (SnappFood is positive/negative only, so a
3-class head answers with the likelier of the two). Published references from the shared
data's MANIFEST.md sit beside the figures, so nobody mistakes ours for theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from safar.text import datasets
from safar.text.classifier import TextModel
from safar.text.embeddings import Embedder
from safar.text.normalize import normalize

#: Published figures (MANIFEST.md of the shared data); not measured by Safar.
REFERENCES: dict[str, str] = {
    "snappfood": "ParsBERT F1 0.881, mBERT 0.879 (Farahani et al. 2021; larger sample)",
    "airline": "majority class accuracy 0.627",
    "armanemo": "XLM-RoBERTa-large macro-F1 0.754 (Mirzaee et al. 2022)",
    "banking77": "BERT accuracy ~0.937, USE+ConveRT ~0.934 (Casanueva et al. 2020)",
}


@dataclass(frozen=True, slots=True)
class Score:
    dataset: str
    task: str
    language: str
    model: str
    n_test: int
    accuracy: float
    macro_f1: float


def predict_restricted(
    model: TextModel, task: str, texts: list[str], labels: list[str], vectors: np.ndarray | None
) -> list[str]:
    """Argmax over the head's classes that the data set uses."""
    classes, proba = model.proba(texts, [task], vectors)[task]
    allowed = np.array([c in set(labels) for c in classes])
    proba = np.where(allowed[None, :], proba, -1.0)
    return [classes[i] for i in proba.argmax(axis=1)]


def _sample(texts: list[str], gold: list[str], limit: int | None) -> tuple[list[str], list[str]]:
    if limit is None or len(texts) <= limit:
        return texts, gold
    step = len(texts) / limit
    picks = [int(i * step) for i in range(limit)]
    return [texts[i] for i in picks], [gold[i] for i in picks]


def _score(name: str, split: datasets.LabelledSet, gold: list[str], pred: list[str]) -> Score:
    return Score(
        split.name,
        split.task,
        split.language,
        name,
        len(gold),
        float(accuracy_score(gold, pred)),
        float(f1_score(gold, pred, average="macro")),
    )


def evaluate(
    shared: Path,
    models: dict[str, TextModel],
    *,
    sets: list[str] | None = None,
    limit: int | None = None,
    embedder: Embedder | None = None,
    embed_limit: int = 1000,
) -> list[Score]:
    """Score each model on each data set it has a head for (and its +e5 path if given)."""
    out: list[Score] = []
    for key in sets or list(datasets.EVAL_SETS):
        split = datasets.EVAL_SETS[key](shared)
        texts, gold = _sample(*split.test, limit)
        norm = [normalize(t) for t in texts]
        labels = sorted(set(gold))
        for name, model in models.items():
            if split.task not in model.heads:
                continue
            out.append(
                _score(name, split, gold, predict_restricted(model, split.task, norm, labels, None))
            )
        if embedder is None:
            continue
        etexts, egold = _sample(norm, gold, embed_limit)
        vectors = embedder.encode(etexts)
        for name, model in models.items():
            if split.task in model.embed_heads:
                pred = predict_restricted(model, split.task, etexts, labels, vectors)
                out.append(_score(f"{name}+e5", split, egold, pred))
    return out
