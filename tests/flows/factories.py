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


class Clock:
    """A settable clock for the runtime (``Runtime(clock=...)``)."""

    def __init__(self, now: Any) -> None:
        self.now = now

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> Any:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
        return self.now


def event(runtime: Any, workspace_id: str, clock: Clock, **msg: Any) -> dict[str, Any]:
    """Apply one Segment message at the clock's time through the one ingestion path."""
    import uuid

    from safar.events.messages import normalize, parse_message

    msg.setdefault("messageId", "m-" + uuid.uuid4().hex)
    msg.setdefault("timestamp", clock.now.isoformat())
    row = normalize(parse_message(msg), workspace_id=workspace_id, received_at=clock.now)
    runtime.applier.apply([row])
    return dict(row)


def publish(runtime: Any, workspace_id: str, definition: dict[str, Any]) -> str:
    """Create and publish a journey through the engine; its id."""
    from safar.flows import service

    with runtime.db.session() as s:
        flow = service.create_flow(
            s, workspace_id=workspace_id, definition=definition, user="test", now=runtime.clock()
        )
        runtime.flows.publish(s, workspace_id=workspace_id, flow_id=flow.id)
        return flow.id


def pump(runtime: Any, rounds: int = 5) -> int:
    """Run the journey worker and the scheduler by hand until nothing is left to do."""
    total = 0
    for _ in range(rounds):
        n = runtime.flows.runtime.run_due() + runtime.scheduler.run_due()
        total += n
        if n == 0:
            break
    return total
