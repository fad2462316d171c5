"""What the events pipeline needs from the identity graph, as a protocol.

The pipeline folds identities into the graph before it stores events, but identity depends on
events (messages, the store), so the pipeline names the behaviour it needs rather than the
identity domain's class; the runtime hands it ``safar.identity.resolver.IdentityResolver``.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from safar.events.rows import EventRow


class Resolver(Protocol):
    def apply(self, session: Session, rows: list[EventRow]) -> None:
        """Fold the rows' identifiers into the identity graph, in the caller's transaction."""
        ...
