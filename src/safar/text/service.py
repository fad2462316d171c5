"""The text domain's facade for other parts: what its analyses say, of a period or
of given events.

Analyses live in the event store (``repository``); pages and other domains read them here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safar.events.store import EventStore
from safar.text import repository


@dataclass(frozen=True, slots=True)
class LabelCounts:
    """How many analysed texts carried each sentiment and each emotion, of ``total``."""

    total: int = 0
    sentiment: Counter[str] = field(default_factory=Counter)
    emotion: Counter[str] = field(default_factory=Counter)


def label_counts(
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime,
    until: datetime,
    channel: str | None = None,
) -> LabelCounts:
    """Sentiment and emotion counts of the texts customers sent in [since, until)."""
    sentiment: Counter[str] = Counter()
    emotion: Counter[str] = Counter()
    total = 0
    for s, e, n in repository.label_counts(
        store, workspace_id, since=since, until=until, channel=channel
    ):
        total += n
        if s:
            sentiment[s] += n
        if e:
            emotion[e] += n
    return LabelCounts(total, sentiment, emotion)


def analyses_of(
    store: EventStore, *, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The latest analysis of each of these events that was analysed, keyed by message id.

    Events without customer text, or not analysed yet, are simply absent; an analysis that
    failed carries its ``error`` and no labels.
    """
    return repository.analyses_for(store, workspace_id, list(dict.fromkeys(message_ids)))
