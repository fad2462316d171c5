"""What ``/healthz`` says about ingest: is the log accepting writes, is the consumer keeping up."""

from __future__ import annotations

from typing import Any

from safar.events.committer import GroupCommitter
from safar.events.pipeline import Consumer


def ingest_health(
    committer: GroupCommitter | None, consumer: Consumer | None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 503 while ingest is refused, "degraded" while applying is retried."""
    if committer is None or consumer is None:
        return 200, {"status": "ok"}
    log = committer.status()
    applying = consumer.status()
    status = "ok" if log["accepting"] and not applying["retrying"] else "degraded"
    return (200 if log["accepting"] else 503), {"status": status, "log": log, "consumer": applying}
