"""The identity graph as analytics copy it into the event store: a fingerprint that changes
whenever the graph does, and the identifier -> profile rows (journeys' ``identity_map``).
The queries live in the repository; this is the facade other domains call."""

from __future__ import annotations

from safar.identity.repository import EVENT_ID_TYPES, graph_version, identifier_rows

__all__ = ["EVENT_ID_TYPES", "graph_version", "identifier_rows"]
