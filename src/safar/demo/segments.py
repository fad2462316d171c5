"""The demo's saved segments: audiences a newcomer recognises, offered by every page's filter.

Made after the events load and refreshed once (a baseline: nobody "enters" a segment that did
not exist before); the running server refreshes them on its schedule like any segment. Found by
name, so running the demo again creates nothing twice. The names are Persian, as a
Persian-speaking user would type them; the conditions use the story's own events and traits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safar.segments import service
from safar.segments.schemas import SegmentCreate

DEMO_SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "مشتریان تهران",
        "description": "Customers whose city is Tehran",
        "conditions": [{"kind": "trait", "key": "city", "value": "تهران"}],
    },
    {
        "name": "خریداران تکراری (۹۰ روز)",
        "description": "Two or more orders in the last 90 days",
        "conditions": [
            {"kind": "event", "event": "Order Completed", "within_days": 90, "min_count": 2}
        ],
    },
    {
        "name": "سبد رهاشده (۷ روز)",
        "description": "Added to the cart in the last 7 days and ordered nothing since",
        "conditions": [
            {"kind": "event", "event": "Product Added", "within_days": 7},
            {"kind": "event", "event": "Order Completed", "within_days": 7, "performed": False},
        ],
    },
    {
        "name": "ناراضیان (NPS ۰ تا ۶)",
        "description": "Answered the NPS survey with 0-6 in the last 90 days",
        "conditions": [
            {
                "kind": "event",
                "event": "survey_answered",
                "within_days": 90,
                "where": [{"key": "nps", "op": "lte", "value": 6}],
            }
        ],
    },
    {
        "name": "موافق پیام‌های بازاریابی",
        "description": "Consented to marketing messages on every channel",
        "conditions": [{"kind": "consent", "purpose": "marketing"}],
    },
]


def install(runtime: Any, workspace_id: str, now: datetime) -> dict[str, int]:
    """Create the demo segments that are not there yet and refresh each; members per name."""
    counts: dict[str, int] = {}
    with runtime.db.session() as s:
        existing = {g.name: g for g in service.list_segments(s, workspace_id=workspace_id)}
        for spec in DEMO_SEGMENTS:
            segment = existing.get(spec["name"])
            if segment is None:
                data = SegmentCreate.model_validate(spec)
                segment = service.create_segment(s, workspace_id=workspace_id, data=data)
            service.refresh(
                s, runtime.store, workspace_id=workspace_id, segment_id=segment.id, now=now
            )
            counts[spec["name"]] = segment.member_count
    return counts
