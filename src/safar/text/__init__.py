"""Listen: offline text and emotion analytics for Persian and English customer feedback.

``analyze(texts)`` normalises each text, detects its language and returns sentiment, emotion,
intent, CX category, key phrases and an "actionable" flag, from models that ship with Safar
and run on a CPU without any network.
"""

from __future__ import annotations

from safar.text.pipeline import Analyzer, analyze
from safar.text.schemas import Label, TextAnalysis

__all__ = ["Analyzer", "Label", "TextAnalysis", "analyze"]
