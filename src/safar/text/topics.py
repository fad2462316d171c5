"""Discover themes in a set of texts, per language, and follow them over time.

NMF on TF-IDF word unigrams and bigrams (measured here as the clearest themes in both
languages, in under a second). A theme's label is its top terms; its examples are the texts
that load most on it. Each text is assigned its strongest theme, so volume and mean sentiment
per theme and period are plain group-bys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from safar.text.normalize import detect_language, normalize
from safar.text.phrases import STOP_EN, STOP_FA

SENTIMENT_VALUE = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}


@dataclass
class Topic:
    language: str
    label: str
    terms: list[str]
    examples: list[str]
    size: int
    members: list[int] = field(default_factory=list, repr=False)


def discover_topics(
    texts: Sequence[str], *, n_topics: int = 8, n_terms: int = 4, n_examples: int = 3
) -> list[Topic]:
    """Themes per language; languages with fewer than 20 texts are skipped."""
    by_lang: dict[str, list[int]] = defaultdict(list)
    norm = [normalize(t) for t in texts]
    for i, raw in enumerate(texts):
        by_lang[detect_language(raw)].append(i)
    topics: list[Topic] = []
    for lang, idx in sorted(by_lang.items()):
        if lang == "other" or len(idx) < 20:
            continue
        base = STOP_FA if lang == "fa" else STOP_EN
        stop = sorted({v for w in base for v in (w, w.replace("'", "’"))})
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_df=0.5,
            stop_words=stop,
            # "I'll" is one token (a stopword), not "ll": contractions stay whole.
            token_pattern=r"(?u)\b(?:\w['’]\w+|\w[\w\u200c]+(?:['’]\w+)?)\b",
            sublinear_tf=True,
        )
        x = vec.fit_transform([norm[i] for i in idx])
        k = min(n_topics, max(1, x.shape[0] // 10), x.shape[1])
        if k < 1 or x.nnz == 0:
            continue
        nmf = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=400)
        w = nmf.fit_transform(x)
        terms = np.asarray(vec.get_feature_names_out())
        owner = w.argmax(axis=1)
        strength = w.max(axis=1)
        for t in range(k):
            top = [str(term) for term in terms[np.argsort(nmf.components_[t])[::-1][: n_terms * 2]]]
            # Prefer bigrams, and drop unigrams already inside a chosen bigram.
            chosen: list[str] = []
            for term in sorted(top, key=lambda s: -len(s.split())):
                if len(chosen) < n_terms and not any(term in c for c in chosen):
                    chosen.append(term)
            members = [idx[j] for j in np.where((owner == t) & (strength > 0))[0]]
            if not members:
                continue
            ranked = sorted(members, key=lambda m: -w[idx.index(m), t])
            topics.append(
                Topic(
                    language=lang,
                    label=" / ".join(chosen[:3]),
                    terms=chosen,
                    examples=[texts[m] for m in ranked[:n_examples]],
                    size=len(members),
                    members=members,
                )
            )
    topics.sort(key=lambda tp: -tp.size)
    return topics


def topic_trends(
    topics: Sequence[Topic],
    timestamps: Sequence[datetime],
    sentiments: Sequence[str | None],
    *,
    period: str = "week",
) -> list[dict[str, object]]:
    """Volume and mean sentiment (-1..1) of each topic per period (day, week or month)."""
    fmt = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}.get(period)
    if fmt is None:
        raise ValueError("period: one of day, week, month")
    rows: list[dict[str, object]] = []
    for topic in topics:
        buckets: dict[str, list[float]] = defaultdict(list)
        for m in topic.members:
            buckets[timestamps[m].strftime(fmt)].append(
                SENTIMENT_VALUE.get(sentiments[m] or "neutral", 0.0)
            )
        for key in sorted(buckets):
            vals = buckets[key]
            rows.append(
                {
                    "topic": topic.label,
                    "language": topic.language,
                    "period": key,
                    "volume": len(vals),
                    "sentiment": round(sum(vals) / len(vals), 3),
                }
            )
    return rows
