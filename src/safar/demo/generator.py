"""A seeded generator of an omnichannel shop's customers and what happens to them.

Fully deterministic: customer ``i`` of seed ``s`` is drawn from its own random stream, so it
comes out the same whatever the number of customers, and every messageId is derived from
(seed, customer, sequence). Experiences drive feedback: a late delivery tends to bring a chat,
a call and an angry review; a smooth one, praise. Messages are raw Segment calls; the loader
validates them with the same code as the HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from safar.demo.care import Ask
from safar.demo.people import Customer, Emitter, assign_households, make_customer
from safar.demo.story import Life, live_visitor, today, visitor

__all__ = ["LATEST_GAP", "Customer", "DemoData", "Emitter", "generate", "make_customer"]

#: No demo event is later than ``now`` minus this: the newest is a few minutes old.
LATEST_GAP = timedelta(minutes=1)


@dataclass
class DemoData:
    messages: list[dict[str, Any]]
    customers: list[Customer]
    visitors: int
    households: int
    #: A customer whose timeline shows most of what the demo does (shown by ``safar demo``).
    showcase: str
    counts: dict[str, int] = field(default_factory=dict)
    #: Survey invitations and answers, for the loader to send through Safar's surveys.
    asks: list[Ask] = field(default_factory=list)


def generate(seed: int, customers: int, now: datetime) -> DemoData:
    """Every message of the demo, oldest first, spread over the months before ``now``.

    Nothing is later than ``now``, so "last 30 days" ends today and today's events show up
    as the latest activity; the same seed and ``now`` give the same messages.
    """
    end = now - LATEST_GAP
    people = [make_customer(seed, i) for i in range(customers)]
    households = assign_households(seed, people)
    out: list[dict[str, Any]] = []
    asks: list[Ask] = []
    for c in people:
        Life(seed, c, end, out, asks).run()
    visitors = customers // 4
    for i in range(visitors):
        visitor(seed, i, end, out)
    live_visitor(seed, end, out)
    today(seed, people, end, out, asks)
    out.sort(key=lambda m: (m["timestamp"], m["messageId"]))
    asks.sort(key=lambda a: (a.sent, a.user_id, a.survey))
    showcase = _pick_showcase(people, out)
    counts: dict[str, int] = {}
    for m in out:
        ch = m["context"]["channel"]
        counts[ch] = counts.get(ch, 0) + 1
    return DemoData(out, people, visitors, households, showcase, counts, asks)


def _pick_showcase(people: list[Customer], messages: list[dict[str, Any]]) -> str:
    """The customer with the most channels (a household member if possible)."""
    channels: dict[str, set[str]] = {}
    for m in messages:
        uid = m.get("userId")
        if uid:
            channels.setdefault(uid, set()).add(m["context"]["channel"])
    best = max(
        people,
        key=lambda c: (len(channels.get(c.user_id, ())), c.household is not None, -c.index),
    )
    return best.user_id
