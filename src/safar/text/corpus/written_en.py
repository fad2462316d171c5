"""Safar's hand-written English customer-experience corpus (Apache-2.0).

Every text in the ``data/en_*.tsv`` files was written for Safar, one by one: no templates, no
text taken or paraphrased from any data set. Each file holds one domain (``en_airline.tsv`` ->
``airline``); each line is ``sentiment<TAB>emotion<TAB>intent<TAB>category<TAB>text`` under a
header line (the layout of the Persian ``fa_*.tsv`` files beside them), with the label names of
the default taxonomy below. Handles, flight numbers, names and codes are invented.

How the categories were assigned: ``delivery`` is getting the thing or the person there on time
and intact (parcels, food couriers, flight delays, cancellations, missed connections, lost or
damaged bags, late technicians); ``service`` is people (agents, crew, hold times, support
chats); ``quality`` the product itself (food, seats, cabin, rooms, network, devices);
``price`` fares, fees and prices; ``payment`` charges, refunds, cards and transfers; ``app``
apps, websites and online check-in; ``other`` everything else (policies, loyalty, general
praise or questions). Sarcasm is labelled by what it means ("great, another delay" is negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
COLUMNS = ("sentiment", "emotion", "intent", "category", "text")
#: The default taxonomy's label names, as ``safar.text`` predicts them.
LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "emotion": ("anger", "fear", "joy", "sadness", "surprise", "disgust", "other"),
    "intent": ("complaint", "question", "praise", "request", "churn", "other"),
    "category": ("delivery", "price", "quality", "service", "app", "payment", "other"),
}


@dataclass(frozen=True, slots=True)
class WrittenRow:
    text: str
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


class CorpusFormatError(ValueError):
    """A corpus file line that does not have five fields or uses an unknown label."""


def files() -> list[Path]:
    return sorted(DATA_DIR.glob("en_*.tsv"))


def _parse(path: Path) -> list[WrittenRow]:
    domain = path.stem.removeprefix("en_")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise CorpusFormatError(f"{path.name}: header must be {'<TAB>'.join(COLUMNS)}")
    out: list[WrittenRow] = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(COLUMNS) or not fields[-1].strip():
            raise CorpusFormatError(f"{path.name}:{number}: expected 5 tab-separated fields")
        *labels, text = fields
        for task, label in zip(COLUMNS[:-1], labels, strict=True):
            if label not in LABELS[task]:
                raise CorpusFormatError(f"{path.name}:{number}: unknown {task} {label!r}")
        out.append(WrittenRow(text, domain, *labels))
    return out


def load(domains: set[str] | None = None) -> list[WrittenRow]:
    """Every written English row, file by file (sorted by domain), in file order."""
    rows: list[WrittenRow] = []
    for path in files():
        if domains is None or path.stem.removeprefix("en_") in domains:
            rows.extend(_parse(path))
    return rows


def rows() -> list[tuple[str, str, str, str, str, str]]:
    """(text, language, sentiment, emotion, intent, category), like ``short.rows()``."""
    return [(r.text, "en", r.sentiment, r.emotion, r.intent, r.category) for r in load()]
