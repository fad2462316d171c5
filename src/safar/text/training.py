"""Train the shipped default models and users' local models.

The shipped default (``build_default``) sees only data Safar may redistribute: its own corpus
(``safar.text.corpus``), Bitext (CDLA-Sharing-1.0) and BANKING77 (CC BY 4.0), and only their
training splits. ``train_local`` adds whatever the user points it at (the non-commercial
shared sets, or their own labelled CSV files); the result is stored under the data dir and
never shipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safar.errors import ValidationFailed
from safar.text import datasets
from safar.text.classifier import TASKS, TextModel, train_model
from safar.text.corpus import build_corpus, short, written
from safar.text.embeddings import Embedder
from safar.text.normalize import normalize

Rows = list[tuple[str, dict[str, str]]]


def corpus_rows(per_language: int = 6000) -> Rows:
    return [
        (
            ex.text,
            {
                "sentiment": ex.sentiment,
                "emotion": ex.emotion,
                "intent": ex.intent,
                "category": ex.category,
            },
        )
        for ex in build_corpus(per_language)
    ]


def short_rows() -> Rows:
    """The short stand-alone reviews (``corpus/short.py``), four labels each."""
    return [
        (text, {"sentiment": s, "emotion": e, "intent": i, "category": c})
        for text, _, s, e, i, c in short.rows()
    ]


def written_rows() -> Rows:
    """The hand-written whole texts (``corpus/written.py``), Persian first, then English."""
    return [(r.text, r.labels()) for lang in ("fa", "en") for r in written.load_written(lang)]


def bitext_rows(shared: Path) -> Rows:
    return [
        (text, {k: v for k, v in (("sentiment", s), ("intent", i), ("category", c)) if v})
        for text, s, i, c in datasets.bitext(shared)
    ]


def _fit(
    rows: Rows,
    *,
    name: str,
    trained_on: str,
    embedder: Embedder | None = None,
    embed_max: int = 5000,
    embed_c: float | dict[str, float] = 4.0,
    joint_c: float | None = None,
    joint_tasks: list[str] | None = None,
    embed_tail: int = 0,
    **heads: Any,
) -> TextModel:
    """Train the n-gram heads on all rows, and embedding heads on a spread-out sample.

    The last ``embed_tail`` rows are always embedded (a small hand-written set that the
    spread-out sample would thin out).
    """
    texts = [normalize(t) for t, _ in rows]
    tasks = sorted({k for _, labels in rows for k in labels})
    labels = {t: [lab.get(t) for _, lab in rows] for t in tasks}
    embeddings = None
    picked: list[int] = []
    if embedder is not None:
        base = len(rows) - embed_tail
        step = max(1, -(-base // embed_max))
        picked = list(range(0, base, step)) + list(range(base, len(rows)))
        embeddings = embedder.encode([texts[i] for i in picked])
    return train_model(
        texts,
        labels,
        name=name,
        trained_on=trained_on,
        embeddings=embeddings,
        embedded_rows=picked,
        embed_c=embed_c,
        joint_c=joint_c,
        joint_tasks=joint_tasks,
        **heads,
    )


#: N-gram heads of the shipped default (chosen on the training splits of the evaluation sets,
#: used as validation only: docs/text.md, "Tuning the default").
DEFAULT_HEADS: dict[str, Any] = {}


def build_default(
    shared: Path, out_dir: Path, *, embedder: Embedder | None = None
) -> dict[str, Path]:
    """Train and save the shipped models (CX tasks and BANKING77 intents)."""
    # Whole hand-written texts are few and closest to what customers type: all of them are
    # embedded (the tail), the composed corpus and Bitext by a spread-out sample.
    extra = short_rows() + written_rows()
    cx = _fit(
        corpus_rows() + bitext_rows(shared) + extra,
        name="cx-default",
        trained_on="safar-corpus (composed + written, Apache-2.0) + Bitext sample (CDLA-Sharing-1.0)",
        embedder=embedder,
        embed_max=4000,
        embed_tail=len(extra),
        **DEFAULT_HEADS,
        # Out of domain for every real data set: sentiment and emotion embedding heads are
        # regularised hard; every task mixes both heads by card["embed_weight"] (chosen on
        # validation data: docs/text.md, "Tuning the default").
        embed_c={"sentiment": 0.5, "emotion": 1.0, "intent": 4.0, "category": 4.0},
    )
    cx.card["embed_weight"] = {"sentiment": 0.7, "emotion": 0.5, "intent": 0.7, "category": 0.7}
    b77 = datasets.banking77(shared)
    bank_rows = [(t, {"banking77": y}) for t, y in zip(*b77.train, strict=True)]
    bank = _fit(
        bank_rows,
        name="banking77",
        trained_on="BANKING77 train split (CC BY 4.0)",
        embedder=embedder,
        # In domain: every row embedded, one joint n-gram + embedding head.
        embed_max=len(bank_rows),
        joint_c=1.0,
    )
    paths = {"cx": out_dir / "cx-default.joblib", "banking77": out_dir / "banking77.joblib"}
    cx.save(paths["cx"])
    bank.save(paths["banking77"])
    return paths


@dataclass
class LocalSources:
    """What ``train_local`` found in the folder it was given."""

    shared_sets: list[str] = field(default_factory=list)
    csv_files: list[str] = field(default_factory=list)
    rows: int = 0


def read_labelled_csv(path: Path) -> Rows:
    """Rows of a user CSV: a ``text`` column plus one column per task (empty = unlabelled)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            if "text" not in fields:
                raise ValidationFailed(f"{path.name}: needs a 'text' column", field="text")
            tasks = [c for c in fields if c not in ("text", "id")]
            if not tasks:
                raise ValidationFailed(
                    f"{path.name}: add at least one label column (e.g. sentiment, category)",
                    field="columns",
                )
            rows: Rows = []
            for n, rec in enumerate(reader, start=2):
                text = (rec.get("text") or "").strip()
                if not text:
                    raise ValidationFailed(f"{path.name}: line {n}: empty text", field="text")
                labels = {t: rec[t].strip() for t in tasks if rec.get(t) and rec[t].strip()}
                rows.append((text, labels))
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path.name}: not UTF-8", field="file") from None
    return rows


def _shared_rows(folder: Path, found: LocalSources) -> Rows:
    rows: Rows = []
    if (folder / "persian" / "snappfood_comments.csv.gz").exists():
        s = datasets.snappfood(folder)
        rows += [(t, {"sentiment": y}) for t, y in zip(*s.train, strict=True)]
        found.shared_sets.append("snappfood")
    if (folder / "english" / "twitter_airline_sentiment.csv").exists():
        s = datasets.airline(folder)
        rows += [(t, {"sentiment": y}) for t, y in zip(*s.train, strict=True)]
        found.shared_sets.append("airline")
    if (folder / "persian" / "armanemo_train.tsv").exists():
        s = datasets.armanemo(folder)
        rows += [(t, {"emotion": y}) for t, y in zip(*s.train, strict=True)]
        found.shared_sets.append("armanemo")
    if (folder / "english" / "banking77_train.csv").exists():
        s = datasets.banking77(folder)
        rows += [(t, {"banking77": y}) for t, y in zip(*s.train, strict=True)]
        found.shared_sets.append("banking77")
    return rows


def _corpus_for(rows: Rows) -> Rows:
    """Corpus rows for the tasks whose user labels all belong to the default taxonomy.

    They keep neutral examples and the fa/en balance when a user only adds data; a task with
    labels of the user's own (a replaced taxonomy) gets no corpus rows.
    """
    user: dict[str, set[str]] = {}
    for _, labels in rows:
        for k, v in labels.items():
            user.setdefault(k, set()).add(v)
    corpus = corpus_rows(3000)
    known: dict[str, set[str]] = {}
    for _, labels in corpus:
        for k, v in labels.items():
            known.setdefault(k, set()).add(v)
    keep = {t for t, labels in user.items() if t in known and labels <= known[t]}
    if not keep:
        return []
    return [
        (t, {k: v for k, v in lab.items() if k in keep})
        for t, lab in corpus
        if any(k in keep for k in lab)
    ]


#: Heads of local models (cross-validated on the training splits, docs/text.md "Local
#: model"): NB-LR n-gram heads, and a head per language for sentiment and emotion, so that
#: Persian and English data sets share no intercepts or class balance; with embeddings, a
#: joint n-gram + 3 x embedding SVM (C=0.2) per language.
LOCAL_HEADS: dict[str, Any] = {
    "kind": "nb",
    "nb_c": 1.0,
    # Intent and category come from the corpus alone, which is balanced across languages.
    "routed_tasks": ("sentiment", "emotion"),
    "lang_joint_c": 0.2,
    "lang_joint_scale": 3.0,
}


def train_local(
    source: Path,
    model_path: Path,
    *,
    with_corpus: bool = True,
    embedder: Embedder | None = None,
    embed_max: int = 5000,
) -> LocalSources:
    """Train a local model from ``source`` (shared-data layout and/or labelled CSVs)."""
    if not source.is_dir():
        raise ValidationFailed(f"--data: {source} is not a folder", field="data")
    found = LocalSources()
    rows = _shared_rows(source, found)
    for path in sorted(source.glob("*.csv")):
        rows += read_labelled_csv(path)
        found.csv_files.append(path.name)
    if not rows:
        raise ValidationFailed(
            f"--data: no labelled data in {source} (CSV files with a 'text' column, or the "
            "shared data layout)",
            field="data",
        )
    if with_corpus:
        rows += _corpus_for(rows)
    found.rows = len(rows)
    model = _fit(
        rows,
        name="local",
        trained_on=", ".join(found.shared_sets + found.csv_files),
        embedder=embedder,
        embed_max=embed_max,
        joint_c=1.0 if embedder is not None else None,
        # Joint heads only for the user's own taxonomies (BANKING77: 0.890 -> 0.924). On the
        # default sentiment/emotion tasks, which pool data sets of both languages and the
        # corpus, they scored below the mixed heads (airline 0.62 vs 0.76; docs/text.md).
        joint_tasks=sorted({k for _, lab in rows for k in lab} - set(TASKS)),
        **LOCAL_HEADS,
    )
    model.card.update({"sources": found.shared_sets + found.csv_files, "rows": found.rows})
    model.save(model_path)
    return found


def default_tasks() -> Iterable[str]:
    return TASKS


if __name__ == "__main__":  # pragma: no cover - maintainer script
    import sys

    cache = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    out = build_default(
        Path(sys.argv[1]), Path(__file__).parent / "artifacts", embedder=Embedder(cache)
    )
    for name, path in out.items():
        print(name, path, path.stat().st_size)
