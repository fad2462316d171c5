"""Journey definitions the flow tests share."""

from __future__ import annotations

from typing import Any


def cart_flow(**changes: Any) -> dict[str, Any]:
    """Added to cart, no purchase within an hour: a reminder, then a second one a day later;
    a purchase ends it as a conversion."""
    flow: dict[str, Any] = {
        "name": "Abandoned cart",
        "trigger": {
            "type": "absence",
            "event": "Product Added",
            "missing": "Order Completed",
            "within_s": 3600,
        },
        "start": "remind",
        "nodes": [
            {
                "id": "remind",
                "type": "send",
                "channel": "sms",
                "texts": {
                    "fa": {
                        "body": "{{ traits.first_name | default('مشتری') }} عزیز، سبد شما منتظر است."
                    },
                    "en": {
                        "body": "{{ traits.first_name | default('Hi') }}, your cart is waiting."
                    },
                },
                "next": "wait_buy",
            },
            {
                "id": "wait_buy",
                "type": "wait",
                "event": "Order Completed",
                "timeout_s": 86400,
                "on_event": None,
                "on_timeout": "again",
            },
            {
                "id": "again",
                "type": "send",
                "channel": "email",
                "texts": {"en": {"subject": "Still there?", "body": "Your cart misses you."}},
            },
        ],
        "goal": {"event": "Order Completed", "within_days": 7},
    }
    flow.update(changes)
    return flow


def birthday_flow(**changes: Any) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "name": "Birthday SMS",
        "trigger": {"type": "date", "trait": "birthday", "at": "10:00", "calendar": "jalali"},
        "start": "greet",
        "nodes": [
            {
                "id": "greet",
                "type": "send",
                "channel": "sms",
                "texts": {
                    "fa": {"body": "{{ traits.first_name }} جان، تولدت مبارک!"},
                    "en": {"body": "Happy birthday, {{ traits.first_name }}!"},
                },
            }
        ],
        "policy": {"topic": "transactional", "consent_purpose": None},
    }
    flow.update(changes)
    return flow
