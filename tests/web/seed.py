"""Seed a workspace with a small omnichannel history through the one real entry (Applier)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)  # 10 Esfand 1404


def rows_for(workspace_id: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        normalize(parse_message(m), workspace_id=workspace_id, received_at=NOW) for m in messages
    ]


def seed(runtime: Runtime, workspace_id: str, *, customers: int = 6) -> dict[str, Any]:
    """Customers with web/app/email/store events; Sara's two profiles merged via her email."""
    msgs: list[dict[str, Any]] = []
    channels = ["web", "app", "email", "store", "sms", "chat"]
    for i in range(customers):
        uid = f"user-{i}"
        msgs.append(
            {
                "type": "identify",
                "userId": uid,
                "messageId": f"id-{i}",
                "traits": {"name": f"Customer {i}", "email": f"c{i}@example.com"},
                "timestamp": (NOW - timedelta(days=5, minutes=i)).isoformat(),
                "context": {"channel": "web"},
            }
        )
        for d in range(5):
            msgs.append(
                {
                    "type": "track",
                    "userId": uid,
                    "event": "Order Completed" if d % 2 else "Product Viewed",
                    "messageId": f"ev-{i}-{d}",
                    "properties": {"total": 100 + d},
                    "timestamp": (NOW - timedelta(days=d, hours=i)).isoformat(),
                    "context": {"channel": channels[(i + d) % len(channels)]},
                }
            )
    # Sara: an anonymous app visitor who later signs up with the same email -> one profile.
    msgs += [
        {
            "type": "identify",
            "anonymousId": "anon-sara",
            "messageId": "sara-1",
            "traits": {"name": "سارا احمدی", "phone": "09121234567"},
            "timestamp": (NOW - timedelta(days=3)).isoformat(),
            "context": {"channel": "app"},
        },
        {
            "type": "identify",
            "userId": "sara-42",
            "messageId": "sara-2",
            "traits": {"email": "sara@example.com", "plan": "gold"},
            "timestamp": (NOW - timedelta(days=2)).isoformat(),
            "context": {
                "channel": "web",
                "consent": {
                    "preferences": [
                        {"purpose": "marketing", "channel": "sms", "granted": False},
                        {"purpose": "marketing", "channel": "email", "granted": True},
                    ]
                },
            },
        },
        {
            "type": "identify",
            "userId": "sara-42",
            "anonymousId": "anon-sara",
            "messageId": "sara-link",
            "timestamp": (NOW - timedelta(days=2, hours=-1)).isoformat(),
            "context": {"channel": "web"},
        },
        {
            "type": "track",
            "userId": "sara-42",
            "event": "Ticket Opened",
            "messageId": "sara-3",
            "timestamp": (NOW - timedelta(days=1)).isoformat(),
            "context": {"channel": "phone"},
        },
        {
            "type": "group",
            "userId": "sara-42",
            "groupId": "hh-1",
            "messageId": "sara-4",
            "traits": {"type": "household", "name": "Ahmadi family"},
            "timestamp": (NOW - timedelta(days=1)).isoformat(),
        },
        {
            "type": "group",
            "userId": "user-0",
            "groupId": "hh-1",
            "messageId": "sara-5",
            "traits": {"type": "household", "name": "Ahmadi family"},
            "timestamp": (NOW - timedelta(days=1)).isoformat(),
        },
    ]
    # One message per apply, in order, so the two profiles exist before the link merges them.
    for row in rows_for(workspace_id, msgs):
        runtime.applier.apply([row])
    if runtime.consumer is not None:
        runtime.consumer.wait_applied()
    return {"events": len(msgs)}
