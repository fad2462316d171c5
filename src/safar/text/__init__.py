"""Listen: offline text and emotion analytics for Persian and English customer feedback.

``analyze(texts)`` normalises each text, detects its language and returns sentiment, emotion,
intent, CX category, key phrases and an "actionable" flag, from models that ship with Safar
and run on a CPU without any network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safar.text.schemas import Label, TextAnalysis

if TYPE_CHECKING:
    from safar.text.pipeline import Analyzer, analyze


def __getattr__(name: str) -> Any:
    """Load the models' code (scikit-learn, ~150 MB) only when it is first used."""
    if name in ("Analyzer", "analyze"):
        from safar.text import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'safar.text' has no attribute {name!r}")


__all__ = ["Analyzer", "Label", "TextAnalysis", "analyze"]
