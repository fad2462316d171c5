"""Whole customer-experience texts written for Safar, one labelled row each (Apache-2.0).

Unlike the fragments in ``fa.py``/``en.py``, which ``build_corpus`` composes, every row here is
a complete text as a customer would type it: app comments on food delivery (the largest
share), online shopping, groceries, ride-hailing, airlines and travel, banking, telecom,
insurance, hotels and support chats; short and long, colloquial and formal, with typos,
missing ZWNJ, both digit forms, emoji and some Finglish. They were written by hand for this
project and copy no data set, so models trained on them may ship.

Files: ``data/<lang>_<domain>.tsv`` (``fa_*`` Persian, ``en_*`` English), UTF-8, a header line
and then ``sentiment<TAB>emotion<TAB>intent<TAB>category<TAB>text``. In the English files,
handles, flight numbers, names and codes are invented.

How the categories are assigned (both languages): ``delivery`` is getting the thing or the
person there on time and intact (parcels, food couriers, flight delays, cancellations, missed
connections, lost or damaged bags, late technicians); ``service`` is people (agents, crew, hold
times, support chats); ``quality`` the product itself (food, seats, cabin, rooms, network,
devices); ``price`` fares, fees and prices; ``payment`` charges, refunds, cards and transfers;
``app`` apps, websites and online check-in; ``other`` everything else (policies, loyalty,
general praise or questions). Sarcasm is labelled by what it means ("great, another delay" is
negative).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from safar.text.normalize import normalize

DATA_DIR = Path(__file__).parent / "data"
COLUMNS = ("sentiment", "emotion", "intent", "category", "text")

#: The default taxonomy of ``safar.text`` (docs/text.md): every row uses exactly these names.
LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "emotion": ("anger", "fear", "joy", "sadness", "surprise", "disgust", "other"),
    "intent": ("complaint", "question", "praise", "request", "churn", "other"),
    "category": ("delivery", "price", "quality", "service", "app", "payment", "other"),
}


class CorpusError(ValueError):
    """A data file breaks the format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class WrittenRow:
    text: str
    language: str
    domain: str
    sentiment: str
    emotion: str
    intent: str
    category: str

    def labels(self) -> dict[str, str]:
        return {
            "sentiment": self.sentiment,
            "emotion": self.emotion,
            "intent": self.intent,
            "category": self.category,
        }


def _read(path: Path) -> list[WrittenRow]:
    language, _, domain = path.stem.partition("_")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise CorpusError(f"{path.name}:1: header must be {' '.join(COLUMNS)}")
    out: list[WrittenRow] = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != len(COLUMNS):
            raise CorpusError(f"{path.name}:{n}: expected {len(COLUMNS)} tab-separated fields")
        sentiment, emotion, intent, category, text = parts
        for task, value in zip(LABELS, parts[:4], strict=True):
            if value not in LABELS[task]:
                raise CorpusError(f"{path.name}:{n}: {task} {value!r} is not one of {LABELS[task]}")
        if not text.strip():
            raise CorpusError(f"{path.name}:{n}: empty text")
        out.append(WrittenRow(text, language, domain, sentiment, emotion, intent, category))
    return out


def load_written(language: str | None = "fa", data_dir: Path = DATA_DIR) -> list[WrittenRow]:
    """Every written row of ``language`` (all languages with ``None``), in file order."""
    pattern = "*.tsv" if language is None else f"{language}_*.tsv"
    return [row for path in sorted(data_dir.glob(pattern)) for row in _read(path)]


_NOISE = re.compile(r"[\W_]+")


def dedupe_key(text: str) -> str:
    """What two texts must not share: letters and digits only (no spaces, ZWNJ, punctuation,
    emoji), Arabic letter variants folded, digits as ASCII, repeated letters cut to one.
    A text without letters or digits (emoji only) keeps its symbols."""
    key = _NOISE.sub("", normalize(unicodedata.normalize("NFKC", text)))
    if not key:
        key = re.sub(r"\s+", "", text)
    return re.sub(r"(.)\1+", r"\1", key)


def find_duplicates(texts: list[str], near: float = 0.8) -> list[tuple[str, str]]:
    """Pairs of texts with the same ``dedupe_key``, or whose keys share at least ``near`` of
    their letter trigrams (Jaccard), each pair once, the earlier text first."""
    keys = [dedupe_key(t) for t in texts]
    grams = [{k[i : i + 3] for i in range(max(1, len(k) - 2))} for k in keys]
    index: dict[str, list[int]] = {}
    first: dict[str, int] = {}
    out: list[tuple[str, str]] = []
    for i, g in enumerate(grams):
        if keys[i] in first:
            out.append((texts[first[keys[i]]], texts[i]))
            continue
        first[keys[i]] = i
        shared = Counter(j for x in g for j in index.get(x, ()))
        out += [
            (texts[j], texts[i])
            for j, n in shared.items()
            if n / (len(g) + len(grams[j]) - n) >= near
        ]
        for x in g:
            index.setdefault(x, []).append(i)
    return out
