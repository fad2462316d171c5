"""Durable jobs as every domain sees them: enqueue, cancel and reschedule by a key.

The scheduler that runs them (claim once, retry, record) is the orchestration domain's
``Scheduler``; a domain that wants work done later depends on this protocol only and receives
the implementation from the container (``Container.jobs``). Jobs are rows in the state store,
written in the caller's unit of work, so a job exists exactly when the data it is about does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class JobRef:
    """A scheduled job as the caller needs to know it."""

    id: int
    key: str
    action: str
    status: str
    due_at: datetime


class Jobs(Protocol):
    def enqueue(
        self,
        session: Session,
        *,
        workspace_id: str,
        action: str,
        payload: dict[str, Any],
        key: str,
        due_at: datetime | None = None,
    ) -> JobRef:
        """Schedule ``action`` once per ``key`` (a second call with the key returns the first)."""
        ...

    def cancel(self, session: Session, *, workspace_id: str, key: str) -> bool:
        """Cancel the pending job with this key; False when there is none pending."""
        ...

    def reschedule(
        self, session: Session, *, workspace_id: str, key: str, due_at: datetime
    ) -> JobRef | None:
        """Move the pending job with this key to ``due_at``; None when there is none pending."""
        ...
