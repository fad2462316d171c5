"""What the text analyses say about a period, on both engines: latest analysis per event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from safar.text import repository, service
from tests.workspaces.factories import Workspace

DAY = datetime(2026, 5, 10, 12, tzinfo=UTC)


def _row(ws: str, mid: str, at: datetime, sentiment: str, emotion: str, **extra: object) -> dict:
    return {"workspace_id": ws, "message_id": mid, "event_timestamp": at, "source_field": "text",
            "sentiment_label": sentiment, "emotion": emotion, **extra}  # fmt: skip


def test_label_counts_of_a_period(runtime: Runtime, workspace: Workspace) -> None:
    ws, store = workspace.id, runtime.store
    events = [
        {"type": "track", "userId": f"u-{i}", "event": "Commented", "messageId": f"t-{i}",
         "timestamp": (DAY + timedelta(hours=i)).isoformat(),
         "context": {"channel": "chat" if i < 2 else "email"}}
        for i in range(4)
    ]  # fmt: skip
    runtime.applier.apply(
        [normalize(parse_message(m), workspace_id=ws, received_at=DAY) for m in events]
    )
    repository.ensure_table(store)
    old = DAY - timedelta(days=1)
    repository.insert_analyses(store, [
        _row(ws, "t-0", DAY, "negative", "anger", analysed_at=old),  # re-analysed below
        _row(ws, "t-0", DAY, "positive", "joy", analysed_at=DAY),
        _row(ws, "t-1", DAY, "positive", "joy"),
        _row(ws, "t-2", DAY, "negative", "sadness"),
        _row(ws, "t-3", DAY, "neutral", "other", error="model failed"),  # left out
        _row(ws, "t-9", DAY - timedelta(days=30), "negative", "anger"),  # before the period
        _row("ws_other", "t-1", DAY, "negative", "anger"),  # another workspace
    ])  # fmt: skip
    since, until = DAY - timedelta(days=1), DAY + timedelta(days=1)
    got = service.label_counts(store, workspace_id=ws, since=since, until=until)
    assert got.total == 3
    assert dict(got.sentiment) == {"positive": 2, "negative": 1}
    assert dict(got.emotion) == {"joy": 2, "sadness": 1}
    chat = service.label_counts(store, workspace_id=ws, since=since, until=until, channel="chat")
    assert chat.total == 2 and dict(chat.sentiment) == {"positive": 2}
    none = service.label_counts(store, workspace_id=ws, since=until, until=until + timedelta(1))
    assert none.total == 0 and not none.sentiment
