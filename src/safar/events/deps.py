"""The container as ingest and import see it: keys, the log, the pipeline, the event store."""

from __future__ import annotations

from typing import Protocol

from safar.events.pipeline import Applier, Consumer
from safar.events.store import EventStore
from safar.events.wal import GroupCommitter
from safar.kit.container import Container
from safar.workspaces.keys import KeyCache


class IngestParts(Container[EventStore], Protocol):
    @property
    def keys(self) -> KeyCache: ...
    @property
    def applier(self) -> Applier: ...
    @property
    def committer(self) -> GroupCommitter | None: ...
    @property
    def consumer(self) -> Consumer | None: ...
