"""What ``/healthz`` says about ingest: is the log accepting writes, is the consumer keeping up."""

from __future__ import annotations

from typing import Any

from safar.events.committer import GroupCommitter
from safar.events.pipeline import Consumer


def ingest_health(
    committer: GroupCommitter | None, consumer: Consumer | None, scheduler_error: str | None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 503 while ingest is refused; "degraded" while a writer retries."""
    scheduler = {"last_error": scheduler_error}
    if committer is None or consumer is None:
        return 200, {"status": "degraded" if scheduler_error else "ok", "scheduler": scheduler}
    log = committer.status()
    applying = consumer.status()
    healthy = log["accepting"] and not applying["retrying"] and not scheduler_error
    body = {
        "status": "ok" if healthy else "degraded",
        "log": log,
        "consumer": applying,
        "scheduler": scheduler,
    }
    return (200 if log["accepting"] else 503), body
