"""The text domain's facade for other parts: what its analyses say.

Analyses live in the event store (``repository``); pages and other domains read them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safar.events.store import EventStore
from safar.text import repository


def analyses_of(
    store: EventStore, *, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The latest analysis of each of these events that was analysed, keyed by message id.

    Events without customer text, or not analysed yet, are simply absent; an analysis that
    failed carries its ``error`` and no labels.
    """
    return repository.analyses_for(store, workspace_id, list(dict.fromkeys(message_ids)))
